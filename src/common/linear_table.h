// An open-addressing hash table of small entries that grows without a pause.
//
// Linear probing over a power-of-two array, at most 3/4 full; an entry has a 64-bit `id`, 0 when
// the slot is empty (an entry of zero bytes is empty), and a `Hash()` of its key; the caller
// gives the hash and a match for each lookup. There is no removal.
//
// A full table is replaced by one twice its size, and the old one's entries move over a few slots
// at a time (kMoveSlots on each later insert) until none is left; meanwhile a lookup searches
// the new table, then the old one; and the new table was zeroed ahead, a few pages per insert
// (Prepare). Zeroing the doubled table whole and rehashing into it in one insert took 238 ms at
// 800,000 buyers on the benchmark machine, most of it page faults, and every message in flight
// waited for it (clearance::QuotaBook; bench/README.md, "Issue 7").
//
// Thread safety: none.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "common/zeroed_array.h"

namespace kuajing {

template <typename T>
class LinearTable {
 public:
  // Slots of the old table moved per insert. The new table, twice the old one's size, may take
  // 3/4 of the old one's size in inserts before it is 3/4 full: 2 slots an insert would do.
  static constexpr size_t kMoveSlots = 8;
  static constexpr size_t kFirstSize = 1024;
  // Tables from this size on zero their successor ahead, kZeroPages pages per insert: from 5/8
  // to 3/4 full there are size/8 inserts, and the successor is 2 * size * sizeof(T) / 4096
  // pages, at most size/8 * kZeroPages for entries up to 512 bytes.
  static constexpr size_t kPrepareFrom = size_t{1} << 16;
  static constexpr size_t kZeroPages = 2;

  // The entry `match` accepts, or null.
  template <typename Match>
  const T* Find(uint64_t hash, Match match) const {
    if (const T* e = FindIn(table_, hash, match)) return e;
    return old_.empty() ? nullptr : FindIn(old_, hash, match);
  }

  // The entry `match` accepts, or a new one (empty, then given to `init`, which sets its key and
  // a nonzero id). The reference is good until the next call that may add an entry.
  template <typename Match, typename Init>
  T& FindOrAdd(uint64_t hash, Match match, Init init) {
    MoveSome();  // first: an entry found in the old table below is not moved before it is used
    if (T* e = const_cast<T*>(FindIn(table_, hash, match))) return *e;
    if (!old_.empty()) {
      if (T* e = const_cast<T*>(FindIn(old_, hash, match))) return *e;
    }
    if ((used_ + 1) * 4 > table_.size() * 3) {
      Grow();
      MoveSome();
    } else if ((used_ + 1) * 8 > table_.size() * 5 && table_.size() >= kPrepareFrom) {
      Prepare();
    }
    T& e = table_[EmptyFor(table_, hash)];
    init(e);
    ++used_;
    return e;
  }

  size_t used() const { return used_; }
  bool growing() const { return !old_.empty(); }

  // Moves what is left of the old table: the same entries are found before and after, and
  // slots() holds them all.
  void FinishGrowth() {
    while (growing()) MoveSome();
  }

  // The slots, each entry at its place (FinishGrowth first): for saving.
  std::span<const T> slots() const { return table_.span(); }
  // Empties the table and makes it `size` slots (zero, or a power of two from kFirstSize on)
  // holding `used` entries, which the caller then writes into the slots returned, each at its
  // place (the caller checks they are at most 3/4 of the size): for loading what slots() gave.
  std::span<T> Reset(size_t size, size_t used) {
    old_ = ZeroedArray<T>();
    moved_ = 0;
    next_ = ZeroedArray<T>();
    next_zeroed_ = 0;
    table_ = ZeroedArray<T>(size);
    used_ = used;
    return table_.span();
  }

 private:
  template <typename Match>
  static const T* FindIn(const ZeroedArray<T>& table, uint64_t hash, Match match) {
    if (table.empty()) return nullptr;
    const size_t mask = table.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      if (table[i].id == 0) return nullptr;
      if (match(table[i])) return &table[i];
    }
  }
  static size_t EmptyFor(const ZeroedArray<T>& table, uint64_t hash) {
    const size_t mask = table.size() - 1;
    size_t i = hash & mask;
    while (table[i].id != 0) i = (i + 1) & mask;
    return i;
  }

  void Grow() {
    FinishGrowth();  // never two old tables (the new one filled before the old emptied)
    old_ = std::move(table_);
    moved_ = 0;
    if (next_.empty()) {
      table_ = ZeroedArray<T>(old_.empty() ? kFirstSize : old_.size() * 2);
    } else {
      next_.ZeroPages(next_zeroed_, SIZE_MAX);  // nothing left, unless entries are very large
      table_ = std::move(next_);
    }
    next_ = ZeroedArray<T>();
    next_zeroed_ = 0;
  }

  // From 5/8 full on, the next table (twice the size) is allocated and kZeroPages of its pages
  // are zeroed at each insert, so that by 3/4 it is ready, its page faults taken a few at a time.
  // Zeroed when needed, or faulted in by the moves and new entries, they came all at once or
  // within seconds: at 800,000 buyers one message's step took 238-400 ms (zeroed at once), and
  // at 1.57 M buyers (6.4 M documents) a run of the scale curve fell by 40 % with a p99 of
  // 122 ms (faulted in by the inserts; bench/README.md).
  void Prepare() {
    if (next_.empty()) next_ = ZeroedArray<T>(table_.size() * 2, ZeroedArray<T>::Zero::kLater);
    next_zeroed_ = next_.ZeroPages(next_zeroed_, kZeroPages);
  }

  // Moves the next kMoveSlots slots' entries of the old table; drops it when all are moved. The
  // moved ones stay where they were (emptying a slot would cut the probe runs through it) and
  // are never returned again: the new table holds them, and it is searched first.
  void MoveSome() {
    if (old_.empty()) return;
    const size_t end = std::min(old_.size(), moved_ + kMoveSlots);
    for (; moved_ < end; ++moved_) {
      const T& e = old_[moved_];
      if (e.id != 0) table_[EmptyFor(table_, e.Hash())] = e;
    }
    if (moved_ == old_.size()) {
      old_ = ZeroedArray<T>();
      moved_ = 0;
    }
  }

  ZeroedArray<T> table_;
  ZeroedArray<T> old_;      // being moved into table_; empty when not growing
  ZeroedArray<T> next_;     // the next table_, zeroed ahead (Prepare); empty before 5/8 full
  size_t next_zeroed_ = 0;  // its pages zeroed so far
  size_t moved_ = 0;        // old_[0, moved_) are in table_
  size_t used_ = 0;         // entries, in either table
};

}  // namespace kuajing
