// The packed form of records for the engines' state rows (codec.h: PackRecord). Rows are rewritten
// as documents match and lists change state, so this is on the clearance path: the canonical XML
// it replaces cost a sixth of ingest's instructions (bench/README.md "Where the time goes").
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <tuple>
#include <type_traits>
#include <utility>

#include "codec/codec.h"
#include "codec/layout.h"
#include "common/varint.h"

namespace kuajing::codec {

using namespace kuajing::model;
using namespace kuajing::codec::layout;

namespace {

// A record is at most a few hundred fields of a few hundred bytes: anything near this is damage.
constexpr uint64_t kMaxPackedLength = 64u << 20;

using Reader = VarintReader;

// The most bytes PutEntityAt writes for `e`: a varint's most per field, and each text's bytes.
template <typename E>
size_t RoomOf(const E& e) {
  size_t room = 0;
  VisitFields(e, [&](const FieldSpec&, const auto& member) {
    room += kMaxVarintBytes + 1;  // + 1: the presence byte of an optional
    if constexpr (std::is_same_v<std::decay_t<decltype(member)>, std::string>) {
      room += member.size();
    }
  });
  return room;
}

// The fields of `e` in the order of the standard, written at `p` (room made by the caller,
// RoomOf); returns the end.
template <typename E>
char* PutEntityAt(char* p, const E& e) {
  VisitFields(e, [&](const FieldSpec&, const auto& member) {
    using M = std::decay_t<decltype(member)>;
    if constexpr (std::is_same_v<M, std::string>) {
      p = PutTextAt(p, member);
    } else if constexpr (std::is_same_v<M, Decimal>) {
      p = PutSignedAt(p, member.e5);
    } else if constexpr (std::is_same_v<M, std::optional<Decimal>>) {
      *p++ = member ? '\1' : '\0';
      if (member) p = PutSignedAt(p, member->e5);
    } else if constexpr (std::is_same_v<M, int64_t>) {
      p = PutSignedAt(p, member);
    } else {
      static_assert(std::is_same_v<M, std::optional<int64_t>>);
      *p++ = member ? '\1' : '\0';
      if (member) p = PutSignedAt(p, *member);
    }
  });
  return p;
}

template <typename E>
void GetEntity(Reader& in, E& e) {
  VisitFields(e, [&](const FieldSpec&, auto& member) {
    using M = std::decay_t<decltype(member)>;
    if constexpr (std::is_same_v<M, std::string>) {
      in.Text(member);
    } else if constexpr (std::is_same_v<M, Decimal>) {
      member.e5 = in.Signed();
    } else if constexpr (std::is_same_v<M, std::optional<Decimal>>) {
      // Absent is written too: the record may be read over another (UnpackRecordInto).
      if (in.Byte() != 0) {
        member = Decimal{in.Signed()};
      } else {
        member.reset();
      }
    } else if constexpr (std::is_same_v<M, int64_t>) {
      member = in.Signed();
    } else {
      if (in.Byte() != 0) {
        member = in.Signed();
      } else {
        member.reset();
      }
    }
  });
}

// A record's head: the entity itself where it is not wrapped (layout.h).
template <typename R>
const auto& HeadOf(const R& r) {
  if constexpr (kWrapped<R>) {
    return r.head;
  } else {
    return r;
  }
}

// The record's room is made once (RoomOf), then written through a pointer.
template <typename R>
void PutRecord(std::string& out, const R& r) {
  const auto& head = HeadOf(r);
  size_t room = RoomOf(head);
  if constexpr (kHasLines<R>) {
    room += kMaxVarintBytes;
    for (const auto& line : r.lists) room += RoomOf(line);
  }
  const size_t start = out.size();
  out.resize(start + room);
  char* const begin = out.data();
  char* p = PutEntityAt(begin + start, head);
  if constexpr (kHasLines<R>) {
    p = PutVarintAt(p, r.lists.size());
    for (const auto& line : r.lists) p = PutEntityAt(p, line);
  }
  // A tripwire for RoomOf: were it short, the writes went past the room (tests catch it).
  if (static_cast<size_t>(p - begin) > start + room) std::abort();
  out.resize(static_cast<size_t>(p - begin));
}

template <typename R>
void GetRecord(Reader& in, R& r) {
  if constexpr (kWrapped<R>) {
    GetEntity(in, r.head);
  } else {
    GetEntity(in, r);
  }
  if constexpr (kHasLines<R>) {
    const uint64_t n = in.Varint();
    // Each line takes at least one byte per field: a count beyond the bytes left is damage.
    if (!in.ok() || n > kMaxPackedLength) return;
    r.lists.resize(n);
    for (auto& line : r.lists) {
      GetEntity(in, line);
      if (!in.ok()) return;
    }
  }
}

template <size_t I = 0>
bool EmplaceAndRead(size_t index, Reader& in, Record& out) {
  if constexpr (I < std::variant_size_v<Record>) {
    if (index == I) {
      // A record of the kind already there is read over it (GetEntity assigns every field).
      GetRecord(in, out.index() == I ? std::get<I>(out) : out.emplace<I>());
      return true;
    }
    return EmplaceAndRead<I + 1>(index, in, out);
  } else {
    return false;
  }
}

}  // namespace

// The index of R among model::Record's alternatives: the kind byte.
template <typename R, typename V>
struct KindOf;
template <typename R, typename... Rs>
struct KindOf<R, std::variant<Rs...>> {
  static constexpr size_t value = [] {
    constexpr bool same[] = {std::is_same_v<R, Rs>...};
    for (size_t i = 0; i < sizeof...(Rs); ++i) {
      if (same[i]) return i;
    }
    return sizeof...(Rs);
  }();
};

template <typename R>
void AppendPackedOf(std::string& out, const R& r) {
  // Magic, then the length of what follows (fixed 4 bytes, patched), then the kind and fields.
  out.push_back(kPackedMagic);
  const size_t at = out.size();
  out.append(4, '\0');
  out.push_back(static_cast<char>(KindOf<R, Record>::value));
  PutRecord(out, r);
  const auto n = static_cast<uint32_t>(out.size() - at - 4);
  for (int i = 0; i < 4; ++i) out[at + static_cast<size_t>(i)] = static_cast<char>(n >> (8 * i));
}

void AppendPacked(std::string& out, const Record& record) {
  std::visit([&](const auto& r) { AppendPackedOf(out, r); }, record);
}

template <typename R>
std::string PackRecordOf(const R& record) {
  std::string out;
  out.reserve(512);
  AppendPackedOf(out, record);
  return out;
}

// Every alternative's PackRecordOf and AppendPackedOf, instantiated here for the other
// translation units.
template <typename V>
struct InstantiatePackers;
template <typename... Rs>
struct InstantiatePackers<std::variant<Rs...>> {
  static constexpr auto kAll = std::make_tuple(&PackRecordOf<Rs>..., &AppendPackedOf<Rs>...);
};
template struct InstantiatePackers<Record>;

std::string PackRecord(const Record& record) {
  std::string out;
  out.reserve(512);
  AppendPacked(out, record);
  return out;
}

size_t PackedSize(std::string_view bytes) {
  if (bytes.size() < 5 || bytes[0] != kPackedMagic) return 0;
  size_t n = 0;
  for (size_t i = 0; i < 4; ++i)
    n |= static_cast<size_t>(static_cast<uint8_t>(bytes[1 + i])) << (8 * i);
  return 5 + n;
}

Status UnpackRecordInto(std::string_view bytes, Record& out, size_t* consumed) {
  if (bytes.size() < 6 || bytes[0] != kPackedMagic) return Internal("not a packed record");
  const size_t n = PackedSize(bytes) - 5;
  if (n == 0 || n > bytes.size() - 5) return Internal("packed record cut short");
  const std::string_view body = bytes.substr(5, n);
  Reader in(body.substr(1));
  if (!EmplaceAndRead(static_cast<uint8_t>(body[0]), in, out)) {
    return Internal("packed record of an unknown kind");
  }
  if (!in.ok() || in.pos() != body.data() + body.size()) return Internal("packed record damaged");
  if (consumed != nullptr) *consumed = 5 + n;
  return Status::Ok();
}

template <typename R>
Status UnpackRecordOfInto(std::string_view bytes, R& out) {
  if (bytes.size() < 6 || bytes[0] != kPackedMagic) return Internal("not a packed record");
  const size_t n = PackedSize(bytes) - 5;
  if (n == 0 || n > bytes.size() - 5) return Internal("packed record cut short");
  const std::string_view body = bytes.substr(5, n);
  if (static_cast<uint8_t>(body[0]) != KindOf<R, Record>::value) {
    return Internal("packed record of another kind");
  }
  Reader in(body.substr(1));
  GetRecord(in, out);  // every field assigned (GetEntity), over what `out` held
  if (!in.ok() || in.pos() != body.data() + body.size()) return Internal("packed record damaged");
  return Status::Ok();
}
template <typename V>
struct InstantiateUnpackers;
template <typename... Rs>
struct InstantiateUnpackers<std::variant<Rs...>> {
  static constexpr auto kAll = std::make_tuple(&UnpackRecordOfInto<Rs>...);
};
template struct InstantiateUnpackers<Record>;

namespace {

// Whether the field's name is `name`, compared up to the first difference without measuring the
// name first; never read past its end.
inline bool Named(const FieldSpec& f, std::string_view name) {
  const char* p = f.name;
  for (const char c : name) {
    if (c == '\0' || *p != c) return false;
    ++p;
  }
  return *p == '\0';
}

// A default entity of type Head: the head's shape (its fields' names and types) for the visits
// below; its values are unused.
template <typename Head>
const Head& ShapeOf() {
  static const Head kShape{};
  return kShape;
}

// The place of the text field named `name` among the fields of a head of type Head, or -1 when
// it has none. The last name asked is kept per thread with its place: the intake answer asks
// for "invtNo" of every brief receipt, and a kind without one (an order's, a payment's, a
// waybill's receipt) is then answered without reading a byte.
template <typename Head>
int TextFieldAt(std::string_view name) {
  struct Last {
    std::string name;
    int at = -1;
    bool set = false;
  };
  thread_local Last last;
  if (last.set && last.name == name) return last.at;
  int i = 0, at = -1;
  VisitFields(ShapeOf<Head>(), [&](const FieldSpec& f, const auto& member) {
    if (at < 0 && std::is_same_v<std::decay_t<decltype(member)>, std::string> && Named(f, name))
      at = i;
    ++i;
  });
  last.name.assign(name);
  last.at = at;
  last.set = true;
  return at;
}

// The text of the head's field named `name` (PackedHeadText): the fields before it skipped as
// their types say; nothing after it read.
template <typename R>
std::optional<std::string_view> HeadTextOf(Reader& in, std::string_view name) {
  using Head = std::decay_t<decltype(HeadOf(std::declval<const R&>()))>;
  const int at = TextFieldAt<Head>(name);
  if (at < 0) return std::nullopt;
  std::optional<std::string_view> found;
  int i = 0;
  VisitFields(ShapeOf<Head>(), [&](const FieldSpec&, const auto& member) {
    if (i++ > at || !in.ok()) return;
    using M = std::decay_t<decltype(member)>;
    if constexpr (std::is_same_v<M, std::string>) {
      const std::string_view text = in.TextView();
      if (i - 1 == at) found = text;
    } else if constexpr (std::is_same_v<M, Decimal> || std::is_same_v<M, int64_t>) {
      in.Signed();
    } else if (in.Byte() != 0) {
      in.Signed();
    }
  });
  if (!in.ok()) return std::nullopt;
  return found;
}

// HeadTextOf of each kind, indexed by the kind byte (one lookup, not a test per kind).
using HeadTextFn = std::optional<std::string_view> (*)(Reader&, std::string_view);
template <typename V>
struct HeadTextTable;
template <typename... Rs>
struct HeadTextTable<std::variant<Rs...>> {
  static constexpr HeadTextFn kByKind[] = {&HeadTextOf<Rs>...};
};

}  // namespace

std::optional<std::string_view> PackedHeadText(std::string_view packed, std::string_view name) {
  const size_t size = PackedSize(packed);
  if (size < 6 || size > packed.size()) return std::nullopt;
  Reader in(packed.substr(6, size - 6));
  const auto& table = HeadTextTable<Record>::kByKind;
  const size_t kind = static_cast<uint8_t>(packed[5]);
  if (kind >= std::size(table)) return std::nullopt;
  return table[kind](in, name);
}

StatusOr<Record> UnpackRecord(std::string_view bytes, size_t* consumed) {
  Record out;
  KJ_RETURN_IF_ERROR(UnpackRecordInto(bytes, out, consumed));
  return out;
}

}  // namespace kuajing::codec
