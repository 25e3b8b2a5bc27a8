#include "codec/codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <pugixml.hpp>
#include <type_traits>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "codec/layout.h"

namespace kuajing::codec {

using namespace kuajing::model;
using namespace kuajing::codec::layout;

namespace {

// ---------------------------------------------------------------------------------------------
// Reading

// XML whitespace (§2.3 S).
constexpr bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
// A C0 control character but whitespace (XML 1.0 §2.2 forbids them; a NUL ends pugixml's text).
constexpr bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 && !IsSpace(c); }
constexpr bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
// The characters of the CEB standard's element names, and of the attributes' names but ':'.
constexpr bool IsNameChar(char c) {
  return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}
// 1: a byte of the CEB standard's element names; 3: the colon of a prefix.
constexpr std::array<uint8_t, 256> kNameBytes = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<size_t>(c)] = IsNameChar(static_cast<char>(c)) ? 1 : 0;
  }
  t[':'] = 3;
  return t;
}();

// An element's name split at its colon once (pugixml keeps names as C strings: each look at one
// measures it again).
struct SplitName {
  std::string_view prefix, local;
  explicit SplitName(pugi::xml_node n) : local(n.name()) {
    const size_t colon = local.find(':');
    if (colon != std::string_view::npos) {
      prefix = local.substr(0, colon);
      local.remove_prefix(colon + 1);
    }
  }
};

std::string_view LocalName(pugi::xml_node n) { return SplitName(n).local; }

// The namespace URI of an element: its prefix resolved through the xmlns declarations of the
// element and its ancestors.
std::string_view NamespaceOf(pugi::xml_node n) {
  std::string_view name = n.name();
  size_t colon = name.find(':');
  std::string attr = colon == std::string_view::npos
                         ? std::string("xmlns")
                         : "xmlns:" + std::string(name.substr(0, colon));
  for (pugi::xml_node p = n; p && p.type() == pugi::node_element; p = p.parent()) {
    if (pugi::xml_attribute a = p.attribute(attr.c_str())) return a.value();
  }
  return {};
}

// The namespace bound to `prefix` ("" = default) in the scope of element `n`.
std::string_view ResolvePrefix(pugi::xml_node n, std::string_view prefix) {
  for (pugi::xml_node p = n; p && p.type() == pugi::node_element; p = p.parent()) {
    for (pugi::xml_attribute a = p.first_attribute(); a; a = a.next_attribute()) {
      std::string_view name = a.name();
      if (name.substr(0, 5) != "xmlns") continue;
      if ((prefix.empty() && name.size() == 5) ||
          (name.size() == 6 + prefix.size() && name[5] == ':' && name.substr(6) == prefix)) {
        return a.value();
      }
    }
  }
  return {};
}

// Two element names or prefixes are the same. Inline: string_view's == went through an
// out-of-line compare() here, 8 % of decoding's instructions (bench/README.md).
inline bool SameBytes(const char* a, const char* b, size_t n) {
  // Eight bytes at a time, then one: names are short, and a call to memcmp cost more than the
  // comparison (a fifth of the direct reader's time).
  for (; n >= 8; n -= 8, a += 8, b += 8) {
    uint64_t x, y;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (x != y) return false;
  }
  for (; n > 0; --n, ++a, ++b) {
    if (*a != *b) return false;
  }
  return true;
}
inline bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && SameBytes(a.data(), b.data(), a.size());
}

bool IsCeb(pugi::xml_node n, std::string_view local) {
  return SameName(LocalName(n), local) && NamespaceOf(n) == kCebNamespace;
}

// Resolves the namespaces of the children of one element. Children without attributes of their
// own (nearly all) share the parent's scope, so a prefix is resolved once per parent, not once per
// child: reading is namespace-aware at almost no cost.
class ChildNamespaces {
 public:
  explicit ChildNamespaces(pugi::xml_node parent) : parent_(parent) {}
  // `prefix`: the child's, split off its name (SplitName).
  bool InCeb(pugi::xml_node child, std::string_view prefix) {
    if (child.first_attribute()) return NamespaceOf(child) == kCebNamespace;
    if (!valid_ || !SameName(prefix, prefix_)) {
      prefix_ = prefix;
      in_ceb_ = ResolvePrefix(parent_, prefix) == kCebNamespace;
      valid_ = true;
    }
    return in_ceb_;
  }
  bool IsCeb(pugi::xml_node child, std::string_view local) {
    const SplitName n(child);
    return SameName(n.local, local) && InCeb(child, n.prefix);
  }

 private:
  pugi::xml_node parent_;
  std::string_view prefix_;
  bool in_ceb_ = false;
  bool valid_ = false;
};

pugi::xml_node FirstElement(pugi::xml_node n) {
  pugi::xml_node c = n.first_child();
  while (c && c.type() != pugi::node_element) c = c.next_sibling();
  return c;
}
pugi::xml_node NextElement(pugi::xml_node n) {
  pugi::xml_node c = n.next_sibling();
  while (c && c.type() != pugi::node_element) c = c.next_sibling();
  return c;
}

class ErrorSink {
 public:
  explicit ErrorSink(std::vector<FieldError>* out) : out_(out) {}
  void Add(std::string path, std::string reason) {
    // A record with hundreds of bad fields gets a receipt naming the first few; a limit on output.
    if (out_->size() < kMaxErrorsPerRecord) out_->push_back({std::move(path), std::move(reason)});
  }
  static constexpr size_t kMaxErrorsPerRecord = 20;

 private:
  std::vector<FieldError>* out_;
};

std::string_view TrimXmlSpace(std::string_view s) {
  // Compared inline: strchr over " \t\r\n" was a call for each number read.
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// XML 1.0 allows no C0 control character but tab, line feed and carriage return (§2.2), not even
// as a character reference; pugixml does not check, so the codec does.
bool HasForbiddenControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), IsControl);
}

// Field paths ("Inventory[2].InventoryHead.qty") are built only when there is an error to report.
struct FieldPath {
  const std::string& parent;
  const char* name;
  operator std::string() const { return parent + "." + name; }  // NOLINT: implicit on purpose
};

void AssignText(const FieldSpec& f, std::string_view text, std::string& m, const FieldPath& path,
                ErrorSink& errs) {
  // One pass for both checks: the length in characters (UTF-8 lead bytes) and the control
  // characters XML forbids (HasForbiddenControl).
  size_t len = 0, i = 0;
  bool control = false;
  // Eight bytes at a time while none is below 0x20 (most fields): every byte but the continuation
  // bytes (10xxxxxx) starts a character, counted as Utf8Length does. Chinese names, addresses and
  // goods went byte by byte before, the larger part of a list's text.
  constexpr uint64_t kHigh = 0x8080808080808080ULL, kSpace = 0x2020202020202020ULL;
  for (uint64_t w; i + 8 <= text.size(); i += 8) {
    std::memcpy(&w, text.data() + i, 8);
    // Some byte below 0x20 (exact for "some": a borrow only follows a byte that is): each byte of
    // the rest is looked at below.
    if (((w - kSpace) & ~w & kHigh) != 0) break;
    const uint64_t continuation = (w & ~(w << 1) & kHigh) >> 7;
    len += 8 - static_cast<size_t>((continuation * 0x0101010101010101ULL) >> 56);
  }
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    len += (c & 0xC0) != 0x80;
    control |= c < 0x20 && c != '\t' && c != '\n' && c != '\r';
  }
  if (control) {
    errs.Add(path, "contains a control character, which XML does not allow");
    return;
  }
  if (f.min_len == f.max_len && len != f.min_len && (f.required || len > 0)) {
    errs.Add(path, "must be exactly " + std::to_string(f.min_len) + " characters (" +
                       std::to_string(len) + ")");
  } else if (len > f.max_len) {
    errs.Add(path, "longer than " + std::to_string(f.max_len) + " characters (" +
                       std::to_string(len) + ")");
  } else if (len < f.min_len && (f.required || len > 0)) {
    errs.Add(path, "must not be empty");
  }
  m.assign(text);
}

template <typename D>  // Decimal or std::optional<Decimal>
void AssignDecimal(const FieldSpec& f, std::string_view text, D& m, const FieldPath& path,
                   ErrorSink& errs) {
  text = TrimXmlSpace(text);
  if (text.empty()) {
    if (f.required) errs.Add(path, "must be a number (N19,5), found an empty element");
    return;
  }
  std::string why;
  if (auto d = Decimal::Parse(text, &why)) {
    m = *d;
  } else {
    errs.Add(path,
             "not a valid N19,5 number (" + why + "): '" + std::string(text.substr(0, 40)) + "'");
  }
}

template <typename I>  // int64_t or std::optional<int64_t>
void AssignInt(const FieldSpec& f, std::string_view text, I& m, const FieldPath& path,
               ErrorSink& errs) {
  text = TrimXmlSpace(text);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
      text.size() > f.max_len + (text.front() == '-' ? 1u : 0u) || v > INT32_MAX || v < INT32_MIN) {
    errs.Add(path, "not a valid integer: '" + std::string(text.substr(0, 40)) + "'");
    return;
  }
  m = v;
}

// One field's text into its member, by the member's type.
template <typename M>
void AssignField(const FieldSpec& f, std::string_view text, M& member, const FieldPath& path,
                 ErrorSink& errs) {
  if constexpr (std::is_same_v<M, std::string>) {
    AssignText(f, text, member, path, errs);
  } else if constexpr (std::is_same_v<M, Decimal> || std::is_same_v<M, std::optional<Decimal>>) {
    AssignDecimal(f, text, member, path, errs);
  } else {
    AssignInt(f, text, member, path, errs);
  }
}

// Reads the leaf elements of one entity in schema order. Missing optional elements are skipped;
// a missing required element is an error, and so is an element that is unknown, repeated or
// out of order: it is reported once and passed over, so one stray element does not make every
// later field look missing.
template <typename E>
void ReadEntity(pugi::xml_node node, E& e, const std::string& path, ErrorSink& errs) {
  const std::vector<std::string_view>& names = FieldNames<E>();
  ChildNamespaces ns(node);
  size_t index = 0;
  // The current child, its local name and whether it is in the CEB namespace, worked out once
  // per child: each field is then a comparison of two names.
  pugi::xml_node child = FirstElement(node);
  std::string_view local;
  bool in_ceb = false;
  auto take = [&](pugi::xml_node c) {
    child = c;
    if (!c) return;
    const SplitName n(c);
    local = n.local;
    in_ceb = ns.InCeb(c, n.prefix);
  };
  take(child);
  auto is = [&](std::string_view name) { return child && in_ceb && SameName(local, name); };
  auto comes_later = [&] {
    return in_ceb &&
           std::any_of(names.begin() + static_cast<std::ptrdiff_t>(index) + 1, names.end(),
                       [&](std::string_view n) { return SameName(n, local); });
  };
  VisitFields(e, [&](const FieldSpec& f, auto& member) {
    while (child && !is(f.name) && !comes_later()) {
      errs.Add(path + "." + std::string(local),
               "unexpected element (unknown, repeated or out of schema order)");
      take(NextElement(child));
    }
    ++index;
    if (!is(f.name)) {
      if (f.required) errs.Add(path + "." + f.name, "required element is missing");
      return;
    }
    if (FirstElement(child)) {
      errs.Add(path + "." + f.name, "must hold text, not child elements");
    } else {
      AssignField(f, child.child_value(), member, FieldPath{path, f.name}, errs);
    }
    take(NextElement(child));
  });
  for (; child; child = NextElement(child)) {
    errs.Add(path + "." + std::string(LocalName(child)),
             "unexpected element (unknown, repeated or out of schema order)");
  }
}

// Reads one record into `r`, a value-initialized R already in its place in the message (a list
// moved into place afterwards was, with the vector's growth, six moves of its 45 strings).
template <typename R>
void ReadRecordInto(pugi::xml_node node, R& r, const std::string& path, const DecodeOptions& limits,
                    ErrorSink& errs) {
  if constexpr (!kWrapped<R>) {
    ReadEntity(node, r, path, errs);
  } else {
    using L = Layout<R>;
    ChildNamespaces ns(node);
    pugi::xml_node child = FirstElement(node);
    const std::string head_path = path + "." + L::Head::kName;
    if (child && ns.IsCeb(child, L::Head::kName)) {
      ReadEntity(child, r.head, head_path, errs);
      child = NextElement(child);
    } else {
      errs.Add(head_path, "required element is missing");
    }
    if constexpr (kHasLines<R>) {
      const int max_lines = L::kMaxLines == kImportLines ? limits.max_lines
                            : L::kMaxLines == kUnbounded ? limits.max_unbounded_lines
                                                         : L::kMaxLines;
      // Room for exactly the lines there are (up to the limit): the engine keeps the lists it is
      // given, and a vector grown by doubling held a line or more of spare room in one list in
      // three (bench/memory_bench, Pending).
      int count = 0;
      for (pugi::xml_node c = child; c && count <= max_lines && ns.IsCeb(c, L::Line::kName);
           c = NextElement(c)) {
        ++count;
      }
      r.lists.reserve(static_cast<size_t>(std::min(count, max_lines)));
      int n = 0;
      for (; child && ns.IsCeb(child, L::Line::kName); child = NextElement(child)) {
        if (++n > max_lines) {
          errs.Add(path + "." + L::Line::kName,
                   "more than " + std::to_string(max_lines) + " lines (the schema's maxOccurs)");
          break;
        }
        ReadEntity(child, r.lists.emplace_back(),
                   path + "." + L::Line::kName + "[" + std::to_string(n) + "]", errs);
      }
      if (n < L::kMinLines) errs.Add(path + "." + L::Line::kName, "at least one line is required");
    }
    for (; child; child = NextElement(child)) {
      if constexpr (kHasLines<R>) {
        if (ns.IsCeb(child, Layout<R>::Line::kName)) break;  // over the line limit, reported above
      }
      errs.Add(path + "." + std::string(LocalName(child)),
               "unexpected element (unknown, repeated or out of schema order)");
    }
  }
}

struct MessageShape {
  const char* record_element;  // wrapper element or the entity itself
  bool has_transport;          // BaseTransfer etc. follow the records (declarations)
  int max_records;             // 0 = use limits.max_records
};

template <typename R>
struct As {
  using type = R;
};

// Calls f(As<R>{}, shape) with the record type and the shape of messages of type t: the one table
// from message type to record type.
template <typename F>
void WithRecordType(MessageType t, F&& f) {
  using T = MessageType;
  switch (t) {
    case T::kCEB311:
      return f(As<Order>{}, MessageShape{"Order", true, 0});
    case T::kCEB312:
      return f(As<OrderReturn>{}, MessageShape{"OrderReturn", false, 0});
    case T::kCEB411:
      return f(As<Payment>{}, MessageShape{"Payment", true, 0});
    case T::kCEB412:
      return f(As<PaymentReturn>{}, MessageShape{"PaymentReturn", false, 0});
    case T::kCEB511:
      return f(As<Logistics>{}, MessageShape{"Logistics", true, 0});
    case T::kCEB512:
      return f(As<LogisticsReturn>{}, MessageShape{"LogisticsReturn", false, 0});
    case T::kCEB513:
      return f(As<LogisticsStatus>{}, MessageShape{"LogisticsStatus", true, 0});
    case T::kCEB514:
      return f(As<LogisticsStatusReturn>{}, MessageShape{"LogisticsStatusReturn", false, 0});
    case T::kCEB621:
      return f(As<Inventory>{}, MessageShape{"Inventory", true, 0});
    case T::kCEB622:
      return f(As<InventoryReturn>{}, MessageShape{"InventoryReturn", false, 0});
    case T::kCEB623:
      return f(As<InvtCancel>{}, MessageShape{"InvtCancel", true, 0});
    case T::kCEB624:
      return f(As<InvtCancelReturn>{}, MessageShape{"InvtCancelReturn", false, 0});
    case T::kCEB625:
      return f(As<InvtRefund>{}, MessageShape{"InvtRefund", true, 0});
    case T::kCEB626:
      return f(As<InvtRefundReturn>{}, MessageShape{"InvtRefundReturn", false, 0});
    case T::kCEB711:
      return f(As<Delivery>{}, MessageShape{"Delivery", true, 1});  // maxOccurs=1
    case T::kCEB712:
      return f(As<DeliveryReturn>{}, MessageShape{"DeliveryReturn", false, 0});
    case T::kCEB816:
      return f(As<Tax>{}, MessageShape{"Tax", false, 0});
    case T::kCEB818:
      return f(As<TaxStatus>{}, MessageShape{"Tax", false, 0});
    case T::kCEB900:
      return f(As<MessageReturn>{}, MessageShape{"MessageReturn", false, 1});
    case T::kCEB303:
      return f(As<exp::Order>{}, MessageShape{"Order", true, 0});
    case T::kCEB304:
      return f(As<exp::OrderReturn>{}, MessageShape{"OrderReturn", false, 0});
    case T::kCEB403:
      return f(As<exp::Receipts>{}, MessageShape{"Receipts", true, 0});
    case T::kCEB404:
      return f(As<exp::ReceiptsReturn>{}, MessageShape{"ReceiptsReturn", false, 0});
    case T::kCEB505:
      return f(As<exp::Logistics>{}, MessageShape{"Logistics", true, 0});
    case T::kCEB506:
      return f(As<exp::LogisticsReturn>{}, MessageShape{"LogisticsReturn", false, 0});
    case T::kCEB507:
      return f(As<exp::Arrival>{}, MessageShape{"Arrival", true, 0});
    case T::kCEB508:
      return f(As<exp::ArrivalReturn>{}, MessageShape{"ArrivalReturn", false, 0});
    case T::kCEB509:
      return f(As<exp::Departure>{}, MessageShape{"Departure", true, 0});
    case T::kCEB510:
      return f(As<exp::DepartureReturn>{}, MessageShape{"DepartureReturn", false, 0});
    case T::kCEB603:
      return f(As<exp::Inventory>{}, MessageShape{"Inventory", true, 0});
    case T::kCEB604:
      return f(As<exp::InventoryReturn>{}, MessageShape{"InventoryReturn", false, 0});
    case T::kCEB605:
      return f(As<exp::InvtCancel>{}, MessageShape{"InvtCancel", true, 0});
    case T::kCEB606:
      return f(As<exp::InvtCancelReturn>{}, MessageShape{"InvtCancelReturn", false, 0});
    case T::kCEB607:
      return f(As<exp::WayBill>{}, MessageShape{"WayBill", true, 0});
    case T::kCEB608:
      return f(As<exp::WayBillReturn>{}, MessageShape{"WayBillReturn", false, 0});
    case T::kCEB213:
      return f(As<exp::InvtRefund>{}, MessageShape{"InvtRefund", true, 0});
    case T::kCEB214:
      return f(As<exp::RefundReturn>{}, MessageShape{"RefundReturn", false, 0});
    case T::kCEB215:
      return f(As<exp::InvtRefundDetail>{}, MessageShape{"InvtRefundDetail", true, 0});
    case T::kCEB216:
      return f(As<exp::InvtRefundDetailReturn>{}, MessageShape{"InvtRefundDetailReturn", false, 0});
    case T::kCEB701:
      return f(As<exp::SummaryApply>{}, MessageShape{"SummaryApply", true, 0});
    case T::kCEB702:
      return f(As<exp::SummaryReturn>{}, MessageShape{"SummaryReturn", false, 0});
    case T::kCEB792:
      return f(As<exp::SummaryResult>{}, MessageShape{"SummaryResult", false, 0});
  }
}

MessageShape ShapeOf(MessageType t) {
  MessageShape shape{"", false, 0};
  WithRecordType(t, [&](auto, MessageShape s) { shape = s; });
  return shape;
}

template <typename R>
void ReadAll(pugi::xml_node& cursor, const char* element, int max_records,
             const DecodeOptions& limits, DecodedMessage& out) {
  // Room for the records there are (up to the limit), each then read in its place. The root's
  // prefixes are resolved once for all of them (ChildNamespaces).
  ChildNamespaces ns(cursor.parent());
  int count = 0;
  for (pugi::xml_node c = cursor; c && ns.IsCeb(c, element) && count < max_records;
       c = NextElement(c)) {
    ++count;
  }
  out.message.records.reserve(out.message.records.size() + static_cast<size_t>(count));
  out.errors.reserve(out.errors.size() + static_cast<size_t>(count));
  int n = 0;
  for (; cursor && ns.IsCeb(cursor, element) && n < max_records; cursor = NextElement(cursor)) {
    ++n;
    ErrorSink sink(&out.errors.emplace_back());
    ReadRecordInto(cursor, std::get<R>(out.message.records.emplace_back(std::in_place_type<R>)),
                   std::string(element) + "[" + std::to_string(n) + "]", limits, sink);
  }
}

void ReadRecords(MessageType t, pugi::xml_node& cursor, int max_records, const DecodeOptions& l,
                 DecodedMessage& out) {
  WithRecordType(t, [&](auto as, MessageShape shape) {
    ReadAll<typename decltype(as)::type>(cursor, shape.record_element, max_records, l, out);
  });
}

std::string OuterXml(pugi::xml_node n) {
  struct Writer : pugi::xml_writer {
    std::string s;
    void write(const void* data, size_t size) override {
      s.append(static_cast<const char*>(data), size);
    }
  } w;
  n.print(w, "", pugi::format_raw | pugi::format_no_declaration);
  return std::move(w.s);
}

DecodeFailure Fail(std::string status, std::string info, std::string root = "Unknown",
                   std::string guid = {}) {
  return DecodeFailure{std::move(status), std::move(info), std::move(root), std::move(guid)};
}

// The XML declaration's encoding, if any (pugixml would otherwise silently convert).
std::string_view DeclaredEncoding(std::string_view bytes) {
  if (bytes.substr(0, 5) != "<?xml") return {};
  size_t end = bytes.find("?>");
  std::string_view decl = bytes.substr(0, end);
  size_t p = decl.find("encoding");
  if (p == std::string_view::npos) return {};
  size_t q = decl.find_first_of("\"'", p);
  if (q == std::string_view::npos) return {};
  size_t r = decl.find(decl[q], q + 1);
  if (r == std::string_view::npos) return {};
  return decl.substr(q + 1, r - q - 1);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The direct reader (issue 7; bench/README.md, "What changed"): CEB messages as enterprises'
// systems write them, read straight from the bytes into the model, without pugixml's tree. Reading
// through the tree took about four times pugixml's bare parse of the same bytes (building the
// nodes, then finding each field among them, each name measured again with strlen).
//
// It takes only the plainest form of XML: no comments, processing instructions, CDATA or DOCTYPE;
// no character or entity references; no carriage returns in text; no namespace prefixes; no
// attributes but on the root; every element in schema order and every field valid. At anything
// else it gives up (Fails) and Decode reads the message through the tree, which reports what is
// wrong or reads what is merely unusual. So it never has to say why, and what it reads is exactly
// what the tree reader reads from the same bytes (codec_test DirectReader.*, and the fuzz target
// checks it on every input it makes).
class DirectReader {
 public:
  explicit DirectReader(std::string_view bytes)
      : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool failed() const { return failed_; }
  void Fail() { failed_ = true; }
  bool AtEnd() {
    SkipSpace();
    return p_ == end_;
  }

  // A byte order mark (Windows writes one; pugixml skips it), then the XML declaration if there
  // is one: skipped (Decode checked its encoding).
  void Prolog() {
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (static_cast<size_t>(end_ - p_) >= kBom.size() &&
        std::memcmp(p_, kBom.data(), kBom.size()) == 0) {
      p_ += kBom.size();
    }
    constexpr std::string_view kDecl = "<?xml";
    if (static_cast<size_t>(end_ - p_) > kDecl.size() + 1 &&
        std::memcmp(p_, kDecl.data(), kDecl.size()) == 0 && IsSpace(p_[kDecl.size()])) {
      for (const char* q = p_ + kDecl.size(); q + 1 < end_; ++q) {
        if (*q == '<' || *q == '&' || IsControl(*q)) break;
        if (q[0] == '?' && q[1] == '>') {
          p_ = q + 2;
          return SkipComments();
        }
      }
      return Fail();
    }
    SkipComments();
  }

  // Comments before the root (XML editors write one there; pugixml skips them), each ending at
  // the first "--", which must be its "-->".
  void SkipComments() {
    constexpr std::string_view kOpen = "<!--";
    while (true) {
      SkipSpace();
      if (static_cast<size_t>(end_ - p_) < kOpen.size() ||
          std::memcmp(p_, kOpen.data(), kOpen.size()) != 0) {
        return;
      }
      const char* q = p_ + kOpen.size();
      while (q + 1 < end_ && !(q[0] == '-' && q[1] == '-') && !IsControl(*q)) ++q;
      if (q + 2 >= end_ || q[0] != '-' || q[2] != '>') return Fail();
      p_ = q + 3;
    }
  }

  // The root's prefix with its colon ("ceb:"), or "" if the CEB namespace is the default one.
  void SetPrefix(std::string_view prefix) { prefix_ = prefix; }

  // The local name of the start tag at the cursor (after whitespace); "" if the cursor is at
  // anything else (an end tag, text, a comment, the end), and kOther if the tag's prefix is not
  // the root's.
  static constexpr std::string_view kOther = ":";
  std::string_view PeekStart() {
    const std::string_view qname = PeekQualified();
    if (qname.empty()) return {};
    // The root's prefix, and no other colon.
    const size_t pn = prefix_.size();
    if (qname.size() <= pn || colons_ != (pn == 0 ? 0 : 1) ||
        !SameBytes(qname.data(), prefix_.data(), pn)) {
      return kOther;
    }
    return qname.substr(pn);
  }

  // The same with the prefix. Peeked() is it again, until the next call.
  std::string_view PeekQualified() {
    SkipSpace();
    if (failed_ || end_ - p_ < 2 || *p_ != '<') return {};
    const char* name = p_ + 1;
    const char* q = name;
    colons_ = 0;
    for (; q < end_; ++q) {
      const uint8_t k = kNameBytes[static_cast<unsigned char>(*q)];
      if (k == 0) break;
      colons_ += k >> 1;
    }
    peeked_ = static_cast<size_t>(q - name);
    return {name, peeked_};
  }
  std::string_view Peeked() const { return {p_ + 1, peeked_}; }
  const char* Position() const { return p_; }

  // Enters the element whose start tag PeekStart read last: true if it has content (`<name>`),
  // false if it is empty (`<name/>`). An attribute fails the reader.
  bool Open() {
    const char* q = p_ + 1 + peeked_;
    while (q < end_ && IsSpace(*q)) ++q;
    if (q < end_ && *q == '>') {
      p_ = q + 1;
      return true;
    }
    if (end_ - q >= 2 && q[0] == '/' && q[1] == '>') {
      p_ = q + 2;
      return false;
    }
    Fail();
    return false;
  }

  // The root's start tag, named by PeekStart, and its attributes (name, value), at most kMax.
  static constexpr size_t kMaxAttributes = 8;
  struct Attribute {
    std::string_view name, value;
  };
  size_t OpenRoot(Attribute* out) {
    p_ += 1 + peeked_;
    size_t n = 0;
    while (!failed_) {
      const char* before = p_;
      SkipSpace();
      if (p_ < end_ && *p_ == '>') {
        ++p_;
        return n;
      }
      // Each attribute follows whitespace and is name="value" or name='value'.
      if (p_ == before || p_ == end_ || n == kMaxAttributes || !IsNameStart(*p_)) break;
      const char* a = p_;
      while (p_ < end_ && kNameBytes[static_cast<unsigned char>(*p_)] != 0) ++p_;
      const std::string_view attr(a, static_cast<size_t>(p_ - a));
      if (end_ - p_ < 2 || p_[0] != '=' || (p_[1] != '"' && p_[1] != '\'')) break;
      const char quote = p_[1];
      const char* v = p_ + 2;
      const char* q = v;
      // References, '<', the whitespace pugixml turns into spaces and the other control
      // characters (a NUL ends pugixml's text): left to the tree reader.
      while (q < end_ && *q != quote && *q != '<' && *q != '&' &&
             static_cast<unsigned char>(*q) >= 0x20) {
        ++q;
      }
      if (q == end_ || *q != quote) break;
      for (size_t i = 0; i < n; ++i) {
        if (SameName(out[i].name, attr)) Fail();  // repeated: the tree reader says so
      }
      out[n++] = Attribute{attr, std::string_view(v, static_cast<size_t>(q - v))};
      p_ = q + 1;
    }
    Fail();
    return 0;
  }

  // The text of a leaf entered with Open (true), and its end tag, `qname` being the start tag's
  // name as Peeked() gave it.
  std::string_view LeafText(std::string_view qname) {
    // To the next '<', noting references and carriage returns, which pugixml rewrites
    // (parse_escapes, parse_eol). Not with memchr: fields are short, and three calls to it cost
    // more.
    const char* lt = p_;
    bool rewritten = false;
#ifdef __SSE2__
    // Sixteen bytes at a time where there are that many (SSE2: every x86-64): the first '<', and
    // whether a '&' or a CR comes before it. Then byte by byte, which stops at once at that '<'.
    while (end_ - lt >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lt));
      const auto open =
          static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('<'))));
      const auto marks = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(
          _mm_cmpeq_epi8(v, _mm_set1_epi8('&')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\r')))));
      if (open != 0) {
        const int at = std::countr_zero(open);
        rewritten |= (marks & ((1u << at) - 1)) != 0;
        lt += at;
        break;
      }
      rewritten |= marks != 0;
      lt += 16;
    }
#endif
    for (; lt < end_ && *lt != '<'; ++lt) rewritten |= *lt == '&' || *lt == '\r';
    const std::string_view text(p_, static_cast<size_t>(lt - p_));
    // And text of whitespace alone, which it drops.
    if (lt == end_ || rewritten ||
        (!text.empty() && IsSpace(text.front()) &&
         std::all_of(text.begin(), text.end(), IsSpace))) {
      Fail();
      return {};
    }
    p_ = lt;
    CloseHere(qname);
    return text;
  }

  // A leaf the schema expects next, named `name` with the root's prefix, written as `<name>` (the
  // form nearly every field comes in): read with its text and end tag, compared against the
  // expected name rather than scanned as any name (PeekStart, a fifth of reading). True if the
  // start tag is that one (failing the reader from there as LeafText would), false with nothing
  // read otherwise (another element, an empty one, attributes: PeekStart tells).
  bool TryLeaf(std::string_view name, std::string_view* text) {
    SkipSpace();
    const size_t pn = prefix_.size(), n = name.size();
    if (static_cast<size_t>(end_ - p_) < pn + n + 2 || p_[0] != '<' || p_[1 + pn + n] != '>' ||
        !SameBytes(p_ + 1, prefix_.data(), pn) || !SameBytes(p_ + 1 + pn, name.data(), n)) {
      return false;
    }
    const std::string_view qname(p_ + 1, pn + n);
    p_ += pn + n + 2;
    *text = LeafText(qname);
    return true;
  }

  // The end tag of `qname` (after whitespace), the start tag's name as Peeked() gave it.
  void Close(std::string_view qname) {
    SkipSpace();
    CloseHere(qname);
  }

 private:
  void SkipSpace() {
    while (p_ < end_ && IsSpace(*p_)) ++p_;
  }
  // `</qname>` at the cursor.
  void CloseHere(std::string_view qname) {
    const size_t n = qname.size();
    if (static_cast<size_t>(end_ - p_) < n + 3 || p_[0] != '<' || p_[1] != '/' ||
        !SameBytes(p_ + 2, qname.data(), n) || p_[2 + n] != '>') {
      return Fail();
    }
    p_ += n + 3;
  }

  const char* p_;
  const char* end_;
  std::string_view prefix_;
  size_t peeked_ = 0;  // the length of the name PeekQualified read last, with its prefix
  int colons_ = 0;     // and how many colons it has
  bool failed_ = false;
};

// Field errors are the tree reader's to report (with their paths): the direct reader only notes
// that there was one.
const std::string kNoPath;

// The fields of an entity whose start tag was read, up to its end tag (not read), as ReadEntity
// reads them from a well-formed message.
template <typename E>
void ReadEntityDirect(DirectReader& in, E& e, ErrorSink& errs) {
  const std::vector<std::string_view>& names = FieldNames<E>();
  size_t index = 0;
  std::string_view next;  // the next start tag's local name, once PeekStart has read it
  bool peeked = false;
  VisitFields(e, [&](const FieldSpec& f, auto& member) {
    const std::string_view name = names[index++];
    if (in.failed()) return;
    std::string_view text;
    if (!peeked && in.TryLeaf(name, &text)) {  // the field, as nearly every one comes
      if (!in.failed()) AssignField(f, text, member, FieldPath{kNoPath, f.name}, errs);
      return;
    }
    if (!peeked) {
      next = in.PeekStart();
      peeked = true;
    }
    if (!SameName(next, name)) {
      if (f.required) in.Fail();
      return;
    }
    const std::string_view qname = in.Peeked();
    text = in.Open() ? in.LeafText(qname) : std::string_view();
    peeked = false;
    if (in.failed()) return;
    AssignField(f, text, member, FieldPath{kNoPath, f.name}, errs);
  });
  if (!peeked) next = in.PeekStart();
  if (!next.empty()) in.Fail();  // an element no field took
}

// One element of the entity E, entered and closed.
template <typename E>
void ReadElementDirect(DirectReader& in, std::string_view name, E& e, ErrorSink& errs) {
  if (!SameName(in.PeekStart(), name)) return in.Fail();
  const std::string_view qname = in.Peeked();
  if (!in.Open()) return in.Fail();
  ReadEntityDirect(in, e, errs);
  in.Close(qname);
}

template <typename R>
void ReadRecordDirect(DirectReader& in, R& r, const DecodeOptions& limits, ErrorSink& errs) {
  if constexpr (!kWrapped<R>) {
    ReadEntityDirect(in, r, errs);
  } else {
    using L = Layout<R>;
    ReadElementDirect(in, L::Head::kName, r.head, errs);
    if constexpr (kHasLines<R>) {
      const int max_lines = L::kMaxLines == kImportLines ? limits.max_lines
                            : L::kMaxLines == kUnbounded ? limits.max_unbounded_lines
                                                         : L::kMaxLines;
      const std::string_view line = L::Line::kName;
      while (!in.failed() && SameName(in.PeekStart(), line)) {
        if (r.lists.size() == static_cast<size_t>(max_lines)) return in.Fail();
        ReadElementDirect(in, line, r.lists.emplace_back(), errs);
      }
      if (r.lists.size() < static_cast<size_t>(L::kMinLines)) return in.Fail();
      // No spare room: the engine keeps the lists it is given (as ReadRecordInto reserves).
      r.lists.shrink_to_fit();
    }
    if (!in.PeekStart().empty()) in.Fail();
  }
}

// The bytes from `from` up to the root's end tag, which only whitespace may follow; "" if the
// message does not end so.
std::string_view TailBeforeRootEnd(std::string_view bytes, const char* from,
                                   std::string_view root_qname) {
  size_t end = bytes.size();
  while (end > 0 && IsSpace(bytes[end - 1])) --end;
  const size_t tag = root_qname.size() + 3;
  const auto begin = static_cast<size_t>(from - bytes.data());
  if (end < begin + tag || bytes.substr(end - tag, 2) != "</" ||
      bytes.substr(end - tag + 2, root_qname.size()) != root_qname || bytes[end - 1] != '>') {
    return {};
  }
  const std::string_view tail = bytes.substr(begin, end - tag - begin);
  // The root's end tag inside: the message goes on after its root, which the fragment would hide.
  if (tail.find("</" + std::string(root_qname)) != std::string_view::npos) return {};
  return tail;
}

// ExtendMessage and ds:Signature, in either order, after the transport elements: kept as their
// XML as the tree reader prints them (OuterXml), so read with pugixml here too, as a fragment.
// False where the fragment alone cannot tell what the whole message would: a namespace bound on
// the root rather than on the element (Signature), attributes (ExtendMessage), anything else.
bool ReadTailThroughTree(std::string_view tail, std::string_view prefix, model::Message& m) {
  pugi::xml_document doc;
  if (!doc.load_buffer(tail.data(), tail.size(),
                       pugi::parse_default | pugi::parse_embed_pcdata | pugi::parse_fragment,
                       pugi::encoding_utf8)) {
    return false;
  }
  pugi::xml_node cursor = FirstElement(doc);
  for (int i = 0; i < 2 && cursor; ++i) {
    const SplitName n(cursor);
    if (m.extend_message_xml.empty() && SameName(n.local, "ExtendMessage")) {
      // In the CEB namespace if its prefix is the root's ("ceb" against "ceb:") and nothing on
      // it binds another.
      const bool roots_prefix =
          n.prefix.empty() ? prefix.empty()
                           : prefix.size() == n.prefix.size() + 1 &&
                                 SameBytes(prefix.data(), n.prefix.data(), n.prefix.size());
      if (cursor.first_attribute() || !roots_prefix) return false;
      m.extend_message_xml = OuterXml(cursor);
      cursor = NextElement(cursor);
    } else if (m.signature_xml.empty() && SameName(n.local, "Signature")) {
      const std::string_view ns = NamespaceOf(cursor);
      if (ns != kDsNamespace) return false;  // bound on the root, or another namespace
      m.signature_xml = OuterXml(cursor);
      cursor = NextElement(cursor);
    }
  }
  return !cursor;
}

// The whole message through the direct reader, or nothing if it gave up.
std::optional<DecodedMessage> DecodeDirectly(std::string_view bytes, const DecodeOptions& limits) {
  DirectReader in(bytes);
  in.Prolog();
  // The root's name, its prefix read first: every element must then carry the same one.
  std::string_view root = in.PeekQualified();
  if (in.failed() || root.empty()) return std::nullopt;
  const size_t colon = root.find(':');
  const std::string_view prefix =
      colon == std::string_view::npos ? std::string_view() : root.substr(0, colon + 1);
  in.SetPrefix(prefix);
  root = in.PeekStart();
  const std::optional<MessageType> type = MessageTypeFromRoot(root);
  if (!type) return std::nullopt;
  const std::string_view root_qname = in.Peeked();
  DirectReader::Attribute attrs[DirectReader::kMaxAttributes];
  const size_t n_attrs = in.OpenRoot(attrs);
  if (in.failed()) return std::nullopt;
  // The attribute binding the prefix: xmlns:ceb, or xmlns for the default namespace.
  const std::string binding =
      prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix.substr(0, colon));
  std::string_view guid, version, xmlns;
  for (size_t i = 0; i < n_attrs; ++i) {
    if (attrs[i].name == "guid") guid = attrs[i].value;
    if (attrs[i].name == "version") version = attrs[i].value;
    if (attrs[i].name == binding) xmlns = attrs[i].value;
  }
  // The checks Decode makes of the root, each left to it to report.
  if (xmlns != kCebNamespace || HasForbiddenControl(guid) || HasForbiddenControl(version) ||
      Utf8Length(guid) != 36 || version.empty() || version.size() > 10) {
    return std::nullopt;
  }
  DecodedMessage out;
  out.message.type = *type;
  out.message.guid = guid;
  out.message.version = version;
  std::vector<FieldError> errors;
  ErrorSink sink(&errors);
  bool has_transport = false;
  WithRecordType(*type, [&](auto as, MessageShape shape) {
    using R = typename decltype(as)::type;
    has_transport = shape.has_transport;
    const size_t max_records =
        static_cast<size_t>(shape.max_records > 0 ? shape.max_records : limits.max_records);
    const std::string_view element = shape.record_element;
    auto& records = out.message.records;
    while (SameName(in.PeekStart(), element) && errors.empty() && !in.failed()) {
      if (records.size() == max_records) return in.Fail();
      const std::string_view qname = in.Peeked();
      if (!in.Open()) return in.Fail();
      ReadRecordDirect(in, std::get<R>(records.emplace_back(std::in_place_type<R>)), limits, sink);
      in.Close(qname);
    }
  });
  if (in.failed() || !errors.empty() || out.message.records.empty()) return std::nullopt;
  out.errors.resize(out.message.records.size());
  std::string_view next = in.PeekStart();
  if (has_transport && (!next.empty() || limits.require_base_transfer)) {
    BaseTransfer bt;
    ReadElementDirect(in, "BaseTransfer", bt, sink);
    next = in.PeekStart();
    // The official export samples repeat it (Decode's tolerance): the same content, read as one.
    while (SameName(next, "BaseTransfer") && !in.failed()) {
      BaseTransfer again;
      ReadElementDirect(in, next, again, sink);
      if (!(again == bt)) return std::nullopt;
      next = in.PeekStart();
    }
    out.message.base_transfer = std::move(bt);
    while (SameName(next, "BaseSubscribe") && out.message.base_subscribe.size() < 5) {
      ReadElementDirect(in, next, out.message.base_subscribe.emplace_back(), sink);
      next = in.PeekStart();
    }
    // ExtendMessage and ds:Signature (a signed declaration ends with a few KB of it).
    if (!next.empty() && !SameName(next, "BaseSubscribe")) {
      if (in.failed() || !errors.empty()) return std::nullopt;
      const std::string_view tail = TailBeforeRootEnd(bytes, in.Position(), root_qname);
      if (tail.empty() || !ReadTailThroughTree(tail, prefix, out.message)) return std::nullopt;
      return out;
    }
    // A sixth BaseSubscribe: the tree's to refuse.
  }
  if (!next.empty()) return std::nullopt;
  in.Close(root_qname);
  if (in.failed() || !errors.empty() || !in.AtEnd()) return std::nullopt;
  return out;
}

}  // namespace

size_t Utf8Length(std::string_view s) {
  // Every byte but the continuation bytes (10xxxxxx) starts a character. Eight at a time: a
  // continuation byte has its top bit set and the next one clear (the receipts measure every
  // text field they carry, a tenth of the engine's instructions byte by byte; bench/README.md).
  constexpr uint64_t kTop = 0x8080808080808080ULL;
  size_t n = 0, i = 0;
  for (uint64_t w; i + 8 <= s.size(); i += 8) {
    std::memcpy(&w, s.data() + i, 8);
    // One bit per continuation byte, at the bottom of its byte; the multiply sums the bytes.
    const uint64_t continuation = (w & ~(w << 1) & kTop) >> 7;
    n += 8 - static_cast<size_t>((continuation * 0x0101010101010101ULL) >> 56);
  }
  for (; i < s.size(); ++i) n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  return n;
}

namespace {

// The index in an eight-byte word, as loaded by memcpy, of its first byte (in memory order) with
// the high bit set; `high` is the word's high bits (word & 0x80...80), not zero.
inline size_t FirstHighByte(uint64_t high) {
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<size_t>(std::countr_zero(high)) >> 3;
  } else {
    return static_cast<size_t>(std::countl_zero(high)) >> 3;
  }
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  size_t i = 0;
  while (i < n) {
    // Sixteen, then eight ASCII bytes at a time (most of a CEB message is ASCII markup), up to
    // the first byte that is not ASCII: the checks below start there, not at each ASCII byte
    // before it (an eighth of this function's instructions on generated messages,
    // bench/README.md).
    for (uint64_t a, b; i + 16 <= n; i += 16) {
      std::memcpy(&a, p + i, 8);
      std::memcpy(&b, p + i + 8, 8);
      const uint64_t ha = a & kHigh, hb = b & kHigh;
      if ((ha | hb) != 0) {
        i += ha != 0 ? FirstHighByte(ha) : 8 + FirstHighByte(hb);
        break;
      }
    }
    if (i == n) break;  // the text ended with those sixteen: nothing past it is read
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      const uint64_t hw = w & kHigh;
      if (hw == 0) {
        i += 8;
        continue;
      }
      i += FirstHighByte(hw);
    }
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // A run of three-byte characters led by E1-EC or EE-EF, most Chinese text (their second byte
    // may be any continuation byte): one after the other, without going back to the ASCII loops
    // between them.
    while (((c >= 0xE1 && c <= 0xEC) || c >= 0xEE) && c <= 0xEF && n - i > 2 &&
           (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80) {
      i += 3;
      if (i == n) return true;
      c = p[i];
    }
    if (c < 0x80) continue;
    // The well-formed sequences of Unicode's Table 3-7, by the lead byte: the range of the
    // second byte excludes overlong forms (E0, F0), surrogates (ED) and values past U+10FFFF
    // (F4); C0, C1 and F5-FF never lead, and a continuation byte never starts a character.
    size_t extra;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (n - i <= extra) return false;  // cut short at the end
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k <= extra; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

namespace {

// What Decode checks of the bytes before either reader: size, encoding, UTF-8.
std::optional<DecodeFailure> CheckBytes(std::string_view bytes, const DecodeOptions& limits) {
  if (bytes.size() > limits.max_message_bytes) {
    return Fail("-1", "[Code:0001;Desc:报文格式错误] message is " + std::to_string(bytes.size()) +
                          " bytes; the limit is " + std::to_string(limits.max_message_bytes) +
                          " bytes: split it into several messages");
  }
  std::string_view enc = DeclaredEncoding(bytes);
  if (!enc.empty() && !EqualsIgnoreCase(enc, "UTF-8")) {
    return Fail("-1", "[Code:0001;Desc:报文格式错误] the XML declaration says encoding '" +
                          std::string(enc.substr(0, 40)) + "'; send the message in UTF-8");
  }
  if (!IsValidUtf8(bytes)) {
    return Fail("-1",
                "[Code:0001;Desc:报文格式错误] the message is not valid UTF-8; send it in UTF-8");
  }
  return std::nullopt;
}

// The message through pugixml's tree: every form of XML, and the reasons for every refusal.
DecodeResult DecodeTree(std::string_view bytes, const DecodeOptions& limits) {
  pugi::xml_document doc;
  // A leaf element keeps its text in itself (parse_embed_pcdata), not in a child node: half the
  // nodes, and a field's text and its check for child elements are one node nearer. Text before a
  // child element, or after one, is a node as before; child_value() reads either.
  pugi::xml_parse_result pr =
      doc.load_buffer(bytes.data(), bytes.size(), pugi::parse_default | pugi::parse_embed_pcdata,
                      pugi::encoding_utf8);
  if (!pr) {
    return Fail("-1", std::string("[Code:0001;Desc:报文格式错误] not well-formed XML at byte ") +
                          std::to_string(pr.offset) + ": " + pr.description());
  }
  pugi::xml_node root = doc.document_element();
  std::string root_name(LocalName(root));
  std::optional<MessageType> type = MessageTypeFromRoot(root_name);
  std::string guid = root.attribute("guid").value();
  if (!type) {
    return Fail("-2",
                "[Code:0002;Desc:数据包不能通过schema验证] unknown message type '" +
                    root_name.substr(0, 60) + "': expected an import message such as CEB621Message",
                "Unknown", guid);
  }
  if (NamespaceOf(root) != kCebNamespace) {
    return Fail("-2",
                "[Code:0002;Desc:数据包不能通过schema验证] root element " + root_name +
                    " is not in the namespace " + std::string(kCebNamespace),
                root_name, guid);
  }
  if (HasForbiddenControl(guid) || HasForbiddenControl(root.attribute("version").value())) {
    return Fail("-2",
                "[Code:0002;Desc:数据包不能通过schema验证] attribute " + root_name +
                    "@guid or @version contains a control character",
                root_name);
  }
  if (Utf8Length(guid) != 36) {
    return Fail("-2",
                "[Code:0002;Desc:数据包不能通过schema验证] attribute " + root_name +
                    "@guid must be 36 characters, found " + std::to_string(Utf8Length(guid)),
                root_name, guid.substr(0, 36));
  }
  DecodedMessage out;
  out.message.type = *type;
  out.message.guid = guid;
  std::string_view version = root.attribute("version").value();
  if (version.empty() || version.size() > 10) {
    return Fail("-2",
                "[Code:0002;Desc:数据包不能通过schema验证] attribute " + root_name +
                    "@version is required (1 to 10 characters, normally 1.0)",
                root_name, guid);
  }
  out.message.version = version;

  const MessageShape shape = ShapeOf(*type);
  const int max_records = shape.max_records > 0 ? shape.max_records : limits.max_records;
  pugi::xml_node cursor = FirstElement(root);
  ReadRecords(*type, cursor, max_records, limits, out);
  if (out.message.records.empty()) {
    return Fail("-2",
                "[Code:0002;Desc:数据包不能通过schema验证] " + root_name + " holds no " +
                    shape.record_element + " element",
                root_name, guid);
  }
  if (cursor && IsCeb(cursor, shape.record_element)) {
    return Fail("-2",
                "[Code:0002;Desc:数据包不能通过schema验证] " + root_name + " holds more than " +
                    std::to_string(max_records) + " " + shape.record_element +
                    " elements (the schema's maxOccurs): split it into several messages",
                root_name, guid);
  }
  auto schema_error = [&](const std::string& what) {
    return Fail("-2", "[Code:0002;Desc:数据包不能通过schema验证] " + root_name + ": " + what,
                root_name, guid);
  };
  if (shape.has_transport && (cursor || limits.require_base_transfer)) {
    if (!cursor || !IsCeb(cursor, "BaseTransfer")) {
      return schema_error("BaseTransfer is required after the last " +
                          std::string(shape.record_element));
    }
    std::vector<FieldError> errs;
    ErrorSink sink(&errs);
    BaseTransfer bt;
    ReadEntity(cursor, bt, "BaseTransfer", sink);
    if (!errs.empty()) return schema_error(errs[0].path + " " + errs[0].reason);
    cursor = NextElement(cursor);
    // Tolerance: the official export declaration samples repeat BaseTransfer. A repetition with
    // the same content says nothing new and is read as one; a different one is refused, since
    // it would leave the sender in doubt.
    while (cursor && IsCeb(cursor, "BaseTransfer")) {
      BaseTransfer again;
      ReadEntity(cursor, again, "BaseTransfer", sink);
      if (!errs.empty()) return schema_error(errs[0].path + " " + errs[0].reason);
      if (!(again == bt)) {
        return schema_error("BaseTransfer appears twice with different content: send it once");
      }
      cursor = NextElement(cursor);
    }
    out.message.base_transfer = std::move(bt);
    for (; cursor && IsCeb(cursor, "BaseSubscribe"); cursor = NextElement(cursor)) {
      if (out.message.base_subscribe.size() == 5) return schema_error("more than 5 BaseSubscribe");
      BaseSubscribe bs;
      ReadEntity(cursor, bs, "BaseSubscribe", sink);
      if (!errs.empty()) return schema_error(errs[0].path + " " + errs[0].reason);
      out.message.base_subscribe.push_back(std::move(bs));
    }
    // The import schema puts ExtendMessage before ds:Signature, the export schema after it;
    // either order is read.
    for (int i = 0; i < 2 && cursor; ++i) {
      if (out.message.extend_message_xml.empty() && IsCeb(cursor, "ExtendMessage")) {
        out.message.extend_message_xml = OuterXml(cursor);
        cursor = NextElement(cursor);
      } else if (out.message.signature_xml.empty() && LocalName(cursor) == "Signature" &&
                 NamespaceOf(cursor) == kDsNamespace) {
        out.message.signature_xml = OuterXml(cursor);
        cursor = NextElement(cursor);
      }
    }
  }
  if (cursor) {
    return schema_error("unexpected element " + std::string(LocalName(cursor)).substr(0, 60) +
                        " (unknown, repeated or out of schema order)");
  }
  return out;
}

}  // namespace

DecodeResult Decode(std::string_view bytes, const DecodeOptions& limits) {
  if (auto failure = CheckBytes(bytes, limits)) return std::move(*failure);
  if (auto direct = DecodeDirectly(bytes, limits)) return std::move(*direct);
  return DecodeTree(bytes, limits);
}

DecodeResult DecodeThroughTree(std::string_view bytes, const DecodeOptions& limits) {
  if (auto failure = CheckBytes(bytes, limits)) return std::move(*failure);
  return DecodeTree(bytes, limits);
}

std::optional<DecodedMessage> DecodeDirectOnly(std::string_view bytes,
                                               const DecodeOptions& limits) {
  if (CheckBytes(bytes, limits)) return std::nullopt;
  return DecodeDirectly(bytes, limits);
}

}  // namespace kuajing::codec
