#include "clearance/cold_keys.h"

#include <cstdint>

#include "common/hash.h"

namespace kuajing::clearance {

namespace {

constexpr size_t kFirstTableSlots = size_t{1} << 16;

uint64_t HashOf(char tag, std::string_view key) {
  return Hash64(key, 0x9e3779b97f4a7c15ULL ^ static_cast<unsigned char>(tag));
}

// The high 16 bits, never 0 (which marks an empty slot); the slot comes from the low bits.
uint16_t FingerprintOf(uint64_t h) {
  const auto f = static_cast<uint16_t>(h >> 48);
  return f == 0 ? 1 : f;
}

}  // namespace

bool ColdKeys::Find(const Table& t, uint64_t h, uint16_t f) {
  const size_t mask = t.slots.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    if (t.slots[i] == f) return true;
    if (t.slots[i] == 0) return false;
  }
}

bool ColdKeys::MayContain(char tag, std::string_view key) const {
  const uint64_t h = HashOf(tag, key);
  const uint16_t f = FingerprintOf(h);
  for (auto t = tables_.rbegin(); t != tables_.rend(); ++t) {
    if (Find(*t, h, f)) return true;
  }
  return false;
}

void ColdKeys::Insert(char tag, std::string_view key) {
  const uint64_t h = HashOf(tag, key);
  const uint16_t f = FingerprintOf(h);
  // Only the newest table is asked whether it holds the key already (the key, or one it cannot
  // be told from: nothing to add). Asking every table cost a cache miss in each big one for every
  // key a start without a snapshot fingerprints: a tenth of that start (bench/README.md). A key
  // held by an older table is added again, to the newest: only a clearance read back into memory
  // and settled again does that, and it costs a slot, never an answer.
  if (!tables_.empty() && Find(tables_.back(), h, f)) return;
  if (tables_.empty() || (tables_.back().used + 1) * 4 > tables_.back().slots.size() * 3) {
    Table t;
    if (!next_.empty()) {
      next_.ZeroPages(next_zeroed_, SIZE_MAX);  // nothing left: a page per insert is enough
      t.slots = std::move(next_);
    } else {
      t.slots = ZeroedArray<uint16_t>(tables_.empty() ? kFirstTableSlots
                                                      : tables_.back().slots.size() * 2);
    }
    next_ = ZeroedArray<uint16_t>();
    next_zeroed_ = 0;
    tables_.push_back(std::move(t));
  } else if ((tables_.back().used + 1) * 8 > tables_.back().slots.size() * 5) {
    // From 5/8 to 3/4 full there are size/8 inserts; the next table is size/1024 pages.
    if (next_.empty()) {
      next_ = ZeroedArray<uint16_t>(tables_.back().slots.size() * 2,
                                    ZeroedArray<uint16_t>::Zero::kLater);
    }
    next_zeroed_ = next_.ZeroPages(next_zeroed_, 1);
  }
  Table& t = tables_.back();
  const size_t mask = t.slots.size() - 1;
  size_t i = h & mask;
  while (t.slots[i] != 0) i = (i + 1) & mask;
  t.slots[i] = f;
  ++t.used;
  ++size_;
}

void ColdKeys::SaveTo(std::string& out) const {
  PutVarint(out, size_);
  PutVarint(out, tables_.size());
  for (const Table& t : tables_) {
    PutVarint(out, t.slots.size());
    PutVarint(out, t.used);
    out.append(reinterpret_cast<const char*>(t.slots.span().data()),
               t.slots.size() * sizeof(uint16_t));
  }
}

void ColdKeys::LoadFrom(VarintReader& in) {
  tables_.clear();
  next_ = ZeroedArray<uint16_t>();
  next_zeroed_ = 0;
  size_ = in.Varint();
  const size_t n = in.Count();
  size_t expect = kFirstTableSlots, used = 0;
  for (size_t k = 0; k < n && in.ok(); ++k, expect *= 2) {
    Table t;
    const uint64_t slots = in.Varint();
    t.used = in.Varint();
    // Each table twice the one before, at most 3/4 full: what Insert makes, or not ours.
    if (slots != expect || t.used * 4 > slots * 3 || slots * sizeof(uint16_t) > in.left()) {
      return in.MarkBad();
    }
    t.slots = ZeroedArray<uint16_t>(slots);
    in.Bytes(reinterpret_cast<char*>(t.slots.span().data()), slots * sizeof(uint16_t));
    used += t.used;
    tables_.push_back(std::move(t));
  }
  if (used != size_) in.MarkBad();
}

size_t ColdKeys::bytes() const {
  size_t b = 0;
  for (const Table& t : tables_) b += t.slots.size() * sizeof(uint16_t);
  return b;
}

}  // namespace kuajing::clearance
