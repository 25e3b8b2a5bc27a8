// Varints (LEB128, zigzag for signed) and a bounds-checked reader of them: the packed state
// records (codec/pack.cc) and the journal's frames (storage/journaled_store.cc).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace kuajing {

// The most bytes a varint of 64 bits takes.
constexpr size_t kMaxVarintBytes = 10;

// The Put functions below, written through a pointer into room the caller made (at least
// kMaxVarintBytes, plus the text's size for PutTextAt); each returns the end of what it wrote.
// For writers that reserve a whole record's room once (codec/pack.cc): a push_back per byte and
// an append per text, each checking the string's capacity, were most of packing a record.
inline char* PutVarintAt(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
inline char* PutSignedAt(char* p, int64_t v) {
  return PutVarintAt(p, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
inline char* PutTextAt(char* p, std::string_view s) {
  p = PutVarintAt(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

inline void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
inline void PutSigned(std::string& out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
inline void PutText(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}
// Eight bytes as the machine keeps them: for hashes and packed IDs, which varints would lengthen.
// Only for files read back on the same machine (the engine's snapshot, app/snapshot.h).
inline void PutFixed64(std::string& out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}

// The occupied slots of a hash table, in increasing order, each as its distance from the one
// before: loading puts every entry back at its slot without hashing (the engine's snapshot).
class SlotPositions {
 public:
  void Put(std::string& out, uint64_t slot) {
    PutVarint(out, slot - last_);
    last_ = slot;
  }
  // The next slot, below `size`; false if it is not after the one before (or past the end).
  template <typename Reader>
  bool Next(Reader& in, uint64_t size, uint64_t* slot) {
    const uint64_t step = in.Varint();
    if ((any_ && step == 0) || step >= size - last_ || last_ >= size) return false;
    last_ += step;
    any_ = true;
    *slot = last_;
    return true;
  }

 private:
  uint64_t last_ = 0;
  bool any_ = false;
};

// Reads what the Put functions wrote. Any overrun, or a length beyond what is left, makes ok()
// false and every later read return zero or empty: check ok() once at the end.
class VarintReader {
 public:
  explicit VarintReader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  bool ok() const { return ok_; }
  bool done() const { return p_ == end_; }
  const char* pos() const { return p_; }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return Fail();
      const auto b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Fail();
  }
  int64_t Signed() {
    const uint64_t u = Varint();
    return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  }
  void Text(std::string& out) {
    const uint64_t n = Varint();
    if (!ok_ || n > static_cast<uint64_t>(end_ - p_)) {
      Fail();
      out.clear();
      return;
    }
    out.assign(p_, n);
    p_ += n;
  }
  std::string Text() {
    std::string s;
    Text(s);
    return s;
  }
  // The next text as a view into the input (empty, and ok() false, on an overrun).
  std::string_view TextView() {
    const uint64_t n = Varint();
    if (!ok_ || n > static_cast<uint64_t>(end_ - p_)) {
      Fail();
      return {};
    }
    const std::string_view v(p_, static_cast<size_t>(n));
    p_ += n;
    return v;
  }
  // A count of items each at least one byte long: never more than the bytes left.
  size_t Count() {
    const uint64_t n = Varint();
    if (n > static_cast<uint64_t>(end_ - p_)) return static_cast<size_t>(Fail());
    return static_cast<size_t>(n);
  }
  uint64_t Fixed64() {
    if (end_ - p_ < 8) return Fail();
    uint64_t v;
    std::memcpy(&v, p_, 8);
    p_ += 8;
    return v;
  }
  size_t left() const { return static_cast<size_t>(end_ - p_); }
  // Copies the next `n` bytes to `dst` (an overrun fails and copies nothing).
  void Bytes(char* dst, size_t n) {
    if (n > left()) {
      Fail();
      return;
    }
    std::memcpy(dst, p_, n);
    p_ += n;
  }
  // For a caller that finds what it read inconsistent: ok() is false from now on.
  void MarkBad() { Fail(); }
  uint8_t Byte() {
    if (p_ == end_) return static_cast<uint8_t>(Fail());
    return static_cast<uint8_t>(*p_++);
  }

 private:
  uint64_t Fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace kuajing
