// A table of pointers found by a 64-bit hash of their key, for the journaled store's indexes of
// what memory holds (journaled_store.cc) and the SQL store's last change of each state row in a
// transaction (sqlite_store.cc): open addressing with linear probing, deletion by
// shifting the entries after it back, so no tombstones build up under steady inserts and erases.
// Nothing is allocated per entry and no key is copied: the key is in what the pointer points to,
// and callers compare it there. Several entries may share a hash, and even a key.
//
// It replaced std::unordered_map<std::string, ...>, whose node and key string per entry, made on
// the writer and freed on the projector, cost each of them a few per cent (bench/README.md).
// Internal to the storage layer; not thread-safe (the store holds its lock).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/table_hash.h"

namespace kuajing::storage {

template <typename T>
class PointerTable {
 public:
  // Adds (hash, p); p must not be null.
  void Insert(uint64_t hash, const T* p) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    size_t i = hash & mask_;
    while (slots_[i].p != nullptr) i = (i + 1) & mask_;
    slots_[i] = Slot{hash, p};
    ++size_;
    CountCalm();
  }

  // The first entry of `hash` for which same(p) holds, or null.
  template <typename Same>
  const T* Find(uint64_t hash, const Same& same) const {
    const size_t i = Locate(hash, [&](const T* p) { return same(*p); });
    return i == kNone ? nullptr : slots_[i].p;
  }

  // Calls f(p) for every entry of `hash` (in no particular order).
  template <typename F>
  void ForEach(uint64_t hash, const F& f) const {
    if (size_ == 0) return;
    for (size_t i = hash & mask_; slots_[i].p != nullptr; i = (i + 1) & mask_) {
      if (slots_[i].hash == hash) f(slots_[i].p);
    }
  }

  // Points the first entry of `hash` for which same(old) holds at `p` instead; adds (hash, p) if
  // there is none.
  template <typename Same>
  void Upsert(uint64_t hash, const T* p, const Same& same) {
    const size_t i = Locate(hash, [&](const T* old) { return same(*old); });
    if (i == kNone) return Insert(hash, p);
    slots_[i].p = p;
  }

  // Removes the entry (hash, p); false if there is none.
  bool Erase(uint64_t hash, const T* p) {
    size_t i = Locate(hash, [p](const T* q) { return q == p; });
    if (i == kNone) return false;
    // Shift back every entry after i, up to the next empty slot, that may not stay where it is:
    // one whose home (hash & mask_) is not cyclically within (i, j].
    for (size_t j = (i + 1) & mask_; slots_[j].p != nullptr; j = (j + 1) & mask_) {
      const size_t home = slots_[j].hash & mask_;
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
    --size_;
    CountCalm();
    if (Outgrown()) {
      Rehash(Fit());
    } else if (Underused()) {
      Rehash(slots_.size() / 2);
    }
    return true;
  }

  size_t size() const { return size_; }
  // The slots the table holds (its memory: 16 bytes each).
  size_t capacity() const { return slots_.size(); }

  // Empties the table. It keeps its room unless what it held had outgrown or underused it (as
  // Erase decides), and then takes the size of what it held: a table cleared for every
  // transaction (the SQL store's) takes the size of its transactions again after a large one,
  // and clearing it no longer writes the large one's room every time.
  void Clear() {
    if (size_ == 0) return;
    if (Outgrown() || Underused()) {
      const size_t slots = Fit();
      slots_.assign(slots, Slot{});
      mask_ = slots - 1;
      calm_ = 0;
    } else {
      std::fill(slots_.begin(), slots_.end(), Slot{});
    }
    size_ = 0;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    const T* p = nullptr;
  };
  static constexpr size_t kNone = ~size_t{0};

  // The slot of the first entry of `hash` for which match(p) holds, or kNone.
  template <typename Match>
  size_t Locate(uint64_t hash, const Match& match) const {
    if (size_ == 0) return kNone;
    for (size_t i = hash & mask_; slots_[i].p != nullptr; i = (i + 1) & mask_) {
      if (slots_[i].hash == hash && match(slots_[i].p)) return i;
    }
    return kNone;
  }

  static constexpr size_t kMinSlots = 1024;

  // When a table gives room back. The store's indexes fill as the writer appends frames and
  // empty as the projector writes them to SQLite, every few tens of milliseconds; each
  // transaction took them below an eighth full, so they halved, and the next frames grew them
  // back: about 80 rebuilds each way per 100,000 clearances, under the store's lock
  // (bench/README.md, "What changed"). Now a table gives room back only when
  // - it is at most a 256th full: what is left of a burst (frames held while the projector was
  //   behind) once it is written, so that the burst leaves no room behind (a transaction leaves
  //   more than that of the table's usual fill: the frames appended while SQLite wrote it); it
  //   then takes the size of what it holds (Fit); or
  // - it is at most an eighth full, and has done as many inserts and erases as half its slots
  //   without once being more than an eighth full: the load has fallen, for longer than a fill
  //   and a drain of the table (which, rising above an eighth, starts the count again). It then
  //   halves.
  bool Outgrown() const { return slots_.size() > kMinSlots && size_ * 256 <= slots_.size(); }
  bool Underused() const {
    return slots_.size() > kMinSlots && size_ * 8 <= slots_.size() && calm_ * 2 >= slots_.size();
  }

  // Counts an insert or erase towards Underused.
  void CountCalm() {
    if (size_ * 8 > slots_.size()) {
      calm_ = 0;
    } else {
      ++calm_;
    }
  }

  // The slots for the entries held now: a quarter full or less, at least kMinSlots.
  size_t Fit() const {
    size_t slots = kMinSlots;
    while (slots < size_ * 4) slots *= 2;
    return slots;
  }

  void Grow() { Rehash(slots_.empty() ? kMinSlots : slots_.size() * 2); }

  // Moves every entry into a table of `slots` slots (a power of two, more than twice the entries).
  void Rehash(size_t slots) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(slots, Slot{});
    mask_ = slots - 1;
    calm_ = 0;
    for (const Slot& s : old) {
      if (s.p == nullptr) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].p != nullptr) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t calm_ = 0;  // inserts and erases since the table was last more than a quarter full
};

// The hashes of the keys the store's tables use (in memory only, never stored): a guid, and a
// state row's (kind, key). TableHash rather than std::hash: `std::_Hash_bytes` was 4.5 % of the
// projector's samples, each change's row hashed twice there (bench/README.md, "What changed").
inline uint64_t HashOfGuid(std::string_view guid) { return TableHash(guid); }
inline uint64_t HashOfRow(std::string_view kind, std::string_view key) {
  return TableHash(key) ^ (TableHash(kind) * 0x9e3779b97f4a7c15ULL);
}

}  // namespace kuajing::storage
