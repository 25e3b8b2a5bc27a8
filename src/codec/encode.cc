// Writing CEB messages (codec.h: Encode, EncodeOne, AppendOneAsJsonText, AppendEscaped): the
// canonical XML of records in the standard's element order, escaped for XML 1.0 and, for the
// API's JSON answers, for JSON too. Reading is in codec.cc.
#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "codec/codec.h"
#include "codec/layout.h"

namespace kuajing::codec {

using namespace kuajing::model;
using namespace kuajing::codec::layout;

namespace {
// Bytes AppendEscaped must change: markup, CR, and the C0 controls XML 1.0 forbids (not TAB, LF).
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<size_t>(c)] = c != '\t' && c != '\n';
  for (unsigned char c : {'<', '>', '&', '"'}) t[c] = true;
  return t;
}();
// The same where the XML is written as the text of a JSON string (AppendOneAsJsonText): TAB, LF
// and '\\' too, the only bytes the escaped XML can hold that JSON must escape.
constexpr std::array<bool, 256> kNeedsJsonEscape = [] {
  std::array<bool, 256> t = kNeedsEscape;
  for (unsigned char c : {'\t', '\n', '\\'}) t[c] = true;
  return t;
}();
constexpr size_t kEscapedRoom = 6;  // the most a byte of text becomes: "&quot;"

char* Put(char* p, std::string_view s) {
  if (!s.empty()) std::memcpy(p, s.data(), s.size());  // an empty view's data may be null
  return p + s.size();
}

// Appends to `out` what `write` (char* -> the end it wrote to) writes, given room for at most
// `room` bytes. The room is a buffer of this thread's that keeps its size, so making it costs
// nothing; `out` then grows by what was written. Made in `out` with resize(), the room was
// zero-filled first (worst cases: six bytes per byte of text, 32 per number) and its reservation
// outgrown, so the answer was moved: a sixth of the syncer's instructions (bench/README.md).
// `write` must not call this again (it would write into the same buffer).
constexpr size_t kScratchMax = size_t{1} << 20;  // larger rooms are made in `out`, as before
char* Scratch(size_t room) {                     // one buffer per thread, for every caller
  thread_local std::string scratch;
  if (scratch.size() < room) {
    scratch.resize(std::max(room, std::min(2 * scratch.size(), kScratchMax)));
  }
  return scratch.data();
}
template <typename Write>
void AppendWritten(std::string& out, size_t room, Write&& write) {
  if (room > kScratchMax) {
    const size_t start = out.size();
    out.resize(start + room);
    out.resize(static_cast<size_t>(write(out.data() + start) - out.data()));
    return;
  }
  char* const begin = Scratch(room);
  out.append(begin, static_cast<size_t>(write(begin) - begin));
}

// What a byte of kNeedsEscape becomes: its reference, or nothing for the C0 controls, which XML
// 1.0 forbids even as references. With kJson, what a byte of kNeedsJsonEscape becomes in a JSON
// string (the references hold nothing JSON escapes; TAB, LF and '\\' as boost::json writes them).
template <bool kJson>
std::string_view EscapeOf(unsigned char c) {
  switch (c) {
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '&':
      return "&amp;";
    case '"':
      return "&quot;";
    case '\r':
      return "&#13;";
    case '\t':
      return kJson ? "\\t" : "\t";
    case '\n':
      return kJson ? "\\n" : "\n";
    case '\\':
      return kJson ? "\\\\" : "\\";
    default:
      return "";
  }
}

#ifdef __SSE2__
// The bytes of kNeedsEscape (with kJson, of kNeedsJsonEscape) among the 16 at `s`, as the bits of
// a mask (bit i: byte i).
template <bool kJson>
unsigned EscapeMask16(const char* s) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  const __m128i markup = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('<')), _mm_cmpeq_epi8(v, _mm_set1_epi8('>'))),
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('&')), _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))));
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);  // <= 0x1f
  if constexpr (kJson) {
    return static_cast<unsigned>(_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(markup, control), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))));
  } else {
    const __m128i allowed = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')),
                                         _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
    return static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(markup, _mm_andnot_si128(allowed, control))));
  }
}
#endif

// Writes `text` at `p` with each byte of kNeedsEscape escaped (with kJson, of kNeedsJsonEscape;
// `p` has room for kEscapedRoom bytes per byte of text); returns the end. Runs of plain text are
// copied whole; with SSE2 (every x86-64) they are found sixteen bytes at a time.
template <bool kJson = false>
char* PutEscaped(char* p, std::string_view text) {
  constexpr const std::array<bool, 256>& kNeeds = kJson ? kNeedsJsonEscape : kNeedsEscape;
  size_t run = 0, i = 0;
#ifdef __SSE2__
  while (i + 16 <= text.size()) {
    const unsigned mask = EscapeMask16<kJson>(text.data() + i);
    if (mask == 0) {
      i += 16;
      continue;
    }
    const size_t at = i + static_cast<size_t>(std::countr_zero(mask));
    p = Put(Put(p, text.substr(run, at - run)),
            EscapeOf<kJson>(static_cast<unsigned char>(text[at])));
    run = i = at + 1;
  }
#endif
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!kNeeds[c]) continue;
    p = Put(Put(p, text.substr(run, i - run)), EscapeOf<kJson>(c));
    run = i + 1;
  }
  return Put(p, text.substr(run));
}

template <bool kJson = false>
void AppendEscapedAs(std::string& out, std::string_view text) {
  // Room for the most it can take, written through a pointer.
  AppendWritten(out, kEscapedRoom * text.size(),
                [&](char* p) { return PutEscaped<kJson>(p, text); });
}
}  // namespace

void AppendEscaped(std::string& out, std::string_view text) { AppendEscapedAs(out, text); }

namespace {

void OpenTag(std::string& out, std::string_view name) {
  out += "<ceb:";
  out += name;
  out += '>';
}
void CloseTag(std::string& out, std::string_view name) {
  out += "</ceb:";
  out += name;
  out += '>';
}

// The tags of an entity ("<ceb:OrderHead>", "</ceb:OrderHead>") and of each of its fields in schema
// order, written once per type: a field is then two copies of ready tags around its text instead
// of six appends (the receipts' XML is encoded on the syncer, about five receipts per clearance).
struct Tags {
  std::string open, close;
};
struct EntityTags {
  Tags entity;
  std::vector<Tags> fields;
  // The most the entity's XML can take but for its text fields' bytes (six bytes each at most,
  // "&quot;"): every tag, and kNumberRoom for each number.
  size_t fixed_room = 0;
};
// A number's text: an int64_t takes at most 20 characters, a Decimal at most 26 (N19,5 with its
// sign and point).
constexpr size_t kNumberRoom = 32;
Tags TagsOf(std::string_view name) {
  Tags t;
  OpenTag(t.open, name);
  CloseTag(t.close, name);
  return t;
}
template <typename E>
const EntityTags& TagsOfEntity() {
  static const EntityTags tags = [] {
    EntityTags t{TagsOf(E::kName), {}};
    t.fixed_room = t.entity.open.size() + t.entity.close.size();
    for (std::string_view name : FieldNames<E>()) {
      t.fields.push_back(TagsOf(name));
      t.fixed_room += t.fields.back().open.size() + t.fields.back().close.size() + kNumberRoom;
    }
    return t;
  }();
  return tags;
}

// Room for the entity is made once, with the most it can take, and written through a pointer
// (AppendWritten): an append for each tag and each run of text was about half of encoding a
// receipt. With kJson, as the text of a JSON string (AppendOneAsJsonText): the tags and numbers
// hold nothing JSON escapes, the texts are escaped for both.
template <bool kJson = false, typename E>
void WriteEntity(std::string& out, const E& e) {
  const EntityTags& tags = TagsOfEntity<E>();
  size_t room = tags.fixed_room;
  VisitFields(e, [&](const FieldSpec&, const auto& member) {
    if constexpr (std::is_same_v<std::decay_t<decltype(member)>, std::string>) {
      room += kEscapedRoom * member.size();
    }
  });
  AppendWritten(out, room, [&](char* p) {
    p = Put(p, tags.entity.open);
    size_t i = 0;
    VisitFields(e, [&](const FieldSpec& f, const auto& member) {
      const Tags& tag = tags.fields[i++];
      using M = std::decay_t<decltype(member)>;
      if constexpr (std::is_same_v<M, std::string>) {
        if (member.empty() && !f.required) return;
        p = PutEscaped<kJson>(Put(p, tag.open), member);
      } else if constexpr (std::is_same_v<M, Decimal>) {
        p = Put(Put(p, tag.open), member.ToString());
      } else if constexpr (std::is_same_v<M, std::optional<Decimal>>) {
        if (!member) return;
        p = Put(Put(p, tag.open), member->ToString());
      } else if constexpr (std::is_same_v<M, int64_t>) {
        p = Put(p, tag.open);
        p = std::to_chars(p, p + kNumberRoom, member).ptr;
      } else {
        if (!member) return;
        p = Put(p, tag.open);
        p = std::to_chars(p, p + kNumberRoom, *member).ptr;
      }
      p = Put(p, tag.close);
    });
    return Put(p, tags.entity.close);
  });
}

template <bool kJson = false, typename R>
void WriteRecord(std::string& out, const R& r) {
  if constexpr (!kWrapped<R>) {
    WriteEntity<kJson>(out, r);
  } else {
    OpenTag(out, Layout<R>::kWrapper);
    WriteEntity<kJson>(out, r.head);
    if constexpr (kHasLines<R>) {
      for (const auto& line : r.lists) WriteEntity<kJson>(out, line);
    }
    CloseTag(out, Layout<R>::kWrapper);
  }
}

// Fixed text of a message (ASCII: its only bytes JSON escapes are quotes and line feeds) as it
// is, or with kJson as the text of a JSON string.
template <bool kJson>
std::string Fixed(std::string text) {
  if constexpr (kJson) {
    std::string out;
    for (char c : text) {
      if (c == '"' || c == '\n') out += '\\';
      out += c == '\n' ? 'n' : c;
    }
    return out;
  } else {
    return text;
  }
}

// The declaration and the root's start tag (with kJson, as the text of a JSON string).
template <bool kJson = false>
void OpenMessage(std::string& out, MessageType type, std::string_view guid,
                 std::string_view version, bool signed_message) {
  // The text up to the guid, per type, and after the version, made once: an append per piece
  // (each measuring a C string) was most of opening a receipt's message, eight per clearance.
  static const auto kHeads = [] {
    std::array<std::string, kMessageTypeCount> heads;
    for (int t = 0; t < kMessageTypeCount; ++t) {
      heads[static_cast<size_t>(t)] =
          Fixed<kJson>(std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ceb:") +
                       MessageTypeName(static_cast<MessageType>(t)) + "Message guid=\"");
    }
    return heads;
  }();
  static const std::string kVersion = Fixed<kJson>("\" version=\"");
  static const std::string kNamespace =
      Fixed<kJson>("\" xmlns:ceb=\"" + std::string(kCebNamespace) + '"');
  static const std::string kDs = Fixed<kJson>(" xmlns:ds=\"" + std::string(kDsNamespace) + '"');
  out += kHeads[static_cast<size_t>(type)];
  AppendEscapedAs<kJson>(out, guid);
  out += kVersion;
  AppendEscapedAs<kJson>(out, version);
  out += kNamespace;
  if (signed_message) out += kDs;
  out += '>';
}

template <bool kJson = false>
void CloseMessage(std::string& out, MessageType type) {
  out += "</ceb:";
  out += MessageTypeName(type);
  out += kJson ? "Message>\\n" : "Message>\n";
}

}  // namespace

void AppendOneAsJsonText(std::string& out, MessageType type, std::string_view guid,
                         const Record& record) {
  static const std::string version = Message{}.version;
  OpenMessage<true>(out, type, guid, version, false);
  std::visit([&](const auto& x) { WriteRecord<true>(out, x); }, record);
  CloseMessage<true>(out, type);
}

std::string EncodeOne(MessageType type, std::string_view guid, const Record& record) {
  std::string out;
  out.reserve(2048);
  static const std::string version = Message{}.version;
  OpenMessage(out, type, guid, version, false);
  std::visit([&](const auto& x) { WriteRecord(out, x); }, record);
  CloseMessage(out, type);
  return out;
}

std::string Encode(const Message& m) {
  std::string out;
  out.reserve(1024 + m.records.size() * 2048);
  OpenMessage(out, m.type, m.guid, m.version, !m.signature_xml.empty());
  for (const Record& r : m.records) {
    std::visit([&](const auto& x) { WriteRecord(out, x); }, r);
  }
  if (m.base_transfer) {
    WriteEntity(out, *m.base_transfer);
    for (const auto& bs : m.base_subscribe) WriteEntity(out, bs);
    if (IsExport(m.type)) {  // each schema's own order
      out += m.signature_xml;
      out += m.extend_message_xml;
    } else {
      out += m.extend_message_xml;
      out += m.signature_xml;
    }
  }
  CloseMessage(out, m.type);
  return out;
}

}  // namespace kuajing::codec
