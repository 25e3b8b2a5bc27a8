// StringMap<V>: a hash map from std::string to V, for the clearance engine's maps of documents
// by key (clearance/engine.cc), in place of std::unordered_map<std::string, V>.
//
// The same guarantees the engine relies on: an entry never moves (each is a node of its own, so
// references and pointers to it stay valid until it is erased); iterators are invalidated by an
// insert that grows or tidies the table, as std::unordered_map's are by a rehash; erasing one
// entry leaves the others' iterators valid. Iteration order is the slots' order: deterministic
// for the same operations, but not the order of insertion.
//
// What differs is the index: open addressing with linear probing over a power-of-two array of
// (hash, node) slots, at most half full, with the whole 64-bit hash kept in the slot. A lookup
// is one multiply-and-mask, a scan of adjacent slots comparing hashes, and one key comparison,
// where std::unordered_map took a 64-bit division for the bucket, a load of the bucket, a walk
// of the chain node by node and a call to the byte-wise std::hash. The engine's lookups were
// about a seventh of the writer thread's samples (bench/README.md, "What changed").
//
// An erased slot becomes empty when the slot after it is, else a tombstone (its neighbours stay
// where they are, so iteration can go on past an erase), which a later insert may take. An insert
// that would leave fewer than half the slots empty, or that finds the entries down to a sixteenth
// of the slots, rebuilds the array at four times the live entries, dropping the tombstones, so a
// map whose entries come and go stays small. Lookups take std::string_view, so a key need not be
// made into a string to be found.
//
// storage::PointerTable indexes the same way entries it does not own (several may share a key;
// erasure shifts later entries back; no iteration); this map owns its entries, one per key, and
// is iterated, hence tombstones.
//
// Thread safety: none.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/table_hash.h"

namespace kuajing {

template <typename V>
class StringMap {
 public:
  using key_type = std::string;
  using mapped_type = V;
  using value_type = std::pair<const std::string, V>;
  using size_type = size_t;

 private:
  struct Slot {
    uint64_t hash = 0;
    value_type* node = nullptr;  // null: empty, or a tombstone when `hash` is kTombstone
  };
  static constexpr uint64_t kTombstone = 1;
  static constexpr size_t kMinSlots = 16;

  template <bool kConst>
  class Iter {
   public:
    using value_type = StringMap::value_type;
    using reference = std::conditional_t<kConst, const value_type&, value_type&>;
    using pointer = std::conditional_t<kConst, const value_type*, value_type*>;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;

    Iter() = default;
    template <bool kOther, typename = std::enable_if_t<kConst && !kOther>>
    Iter(const Iter<kOther>& o) : slots_(o.slots_), end_(o.end_) {}  // NOLINT: as std's

    reference operator*() const { return *slots_->node; }
    pointer operator->() const { return slots_->node; }
    Iter& operator++() {
      ++slots_;
      Skip();
      return *this;
    }
    Iter operator++(int) {
      Iter old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const Iter& a, const Iter& b) { return a.slots_ == b.slots_; }

   private:
    friend class StringMap;
    template <bool>
    friend class Iter;
    using SlotPtr = std::conditional_t<kConst, const Slot*, Slot*>;
    Iter(SlotPtr at, SlotPtr end) : slots_(at), end_(end) { Skip(); }
    void Skip() {
      while (slots_ != end_ && slots_->node == nullptr) ++slots_;
    }
    SlotPtr slots_ = nullptr;
    SlotPtr end_ = nullptr;
  };

 public:
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  StringMap() = default;
  StringMap(const StringMap&) = delete;
  StringMap& operator=(const StringMap&) = delete;
  StringMap(StringMap&& o) noexcept
      : slots_(std::move(o.slots_)),
        size_(std::exchange(o.size_, 0)),
        used_(std::exchange(o.used_, 0)) {}
  StringMap& operator=(StringMap&& o) noexcept {
    if (this != &o) {
      clear();
      slots_ = std::move(o.slots_);
      size_ = std::exchange(o.size_, 0);
      used_ = std::exchange(o.used_, 0);
    }
    return *this;
  }
  ~StringMap() { clear(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  iterator begin() { return {slots_.data(), slots_.data() + slots_.size()}; }
  iterator end() { return {slots_.data() + slots_.size(), slots_.data() + slots_.size()}; }
  const_iterator begin() const { return {slots_.data(), slots_.data() + slots_.size()}; }
  const_iterator end() const {
    return {slots_.data() + slots_.size(), slots_.data() + slots_.size()};
  }

  iterator find(std::string_view key) {
    const size_t i = Find(key, HashOf(key));
    return i == kNone ? end() : At(i);
  }
  const_iterator find(std::string_view key) const {
    const size_t i = Find(key, HashOf(key));
    return i == kNone ? end() : const_iterator(&slots_[i], slots_.data() + slots_.size());
  }
  size_t count(std::string_view key) const { return Find(key, HashOf(key)) == kNone ? 0 : 1; }
  bool contains(std::string_view key) const { return count(key) != 0; }

  V& at(std::string_view key) {
    const size_t i = Find(key, HashOf(key));
    if (i == kNone) throw std::out_of_range("StringMap::at: no such key");
    return slots_[i].node->second;
  }
  const V& at(std::string_view key) const {
    const size_t i = Find(key, HashOf(key));
    if (i == kNone) throw std::out_of_range("StringMap::at: no such key");
    return slots_[i].node->second;
  }

  // As std::unordered_map's: V is made from `args` only when the key is absent.
  template <typename... Args>
  std::pair<iterator, bool> try_emplace(std::string_view key, Args&&... args) {
    const uint64_t h = HashOf(key);
    if (const size_t i = Find(key, h); i != kNone) return {At(i), false};
    MakeRoom();  // first: a failed allocation of the slots leaves no node behind
    auto* node = new value_type(std::piecewise_construct, std::forward_as_tuple(key),
                                std::forward_as_tuple(std::forward<Args>(args)...));
    return {At(Place(h, node)), true};
  }
  template <typename... Args>
  std::pair<iterator, bool> emplace(std::string_view key, Args&&... args) {
    return try_emplace(key, std::forward<Args>(args)...);
  }
  template <typename M>
  std::pair<iterator, bool> insert_or_assign(std::string_view key, M&& value) {
    auto [it, inserted] = try_emplace(key, std::forward<M>(value));
    if (!inserted) it->second = std::forward<M>(value);
    return {it, inserted};
  }
  V& operator[](std::string_view key) { return try_emplace(key).first->second; }

  // Returns the iterator after `it`: nothing else moves.
  iterator erase(const_iterator it) {
    const size_t at = static_cast<size_t>(it.slots_ - slots_.data());
    delete slots_[at].node;
    slots_[at].node = nullptr;
    --size_;
    const size_t mask = slots_.size() - 1;
    if (slots_[(at + 1) & mask].hash == 0) {
      // The run of slots ends here, so no lookup passes this slot to a later one: it becomes
      // empty, and so do the tombstones just before it (most erases leave no tombstone, and the
      // array is rebuilt less often).
      size_t i = at;
      do {
        slots_[i].hash = 0;
        --used_;
        i = (i - 1) & mask;
      } while (slots_[i].hash == kTombstone);  // stops at an empty slot at the latest
    } else {
      slots_[at].hash = kTombstone;
    }
    return iterator(&slots_[at], slots_.data() + slots_.size());
  }
  iterator erase(iterator it) { return erase(const_iterator(it)); }
  size_t erase(std::string_view key) {
    const size_t i = Find(key, HashOf(key));
    if (i == kNone) return 0;
    erase(const_iterator(&slots_[i], slots_.data() + slots_.size()));
    return 1;
  }

  void clear() {
    for (Slot& s : slots_) delete s.node;
    slots_.clear();
    size_ = used_ = 0;
  }

  // The slots' bytes, not the entries' (tests and memory estimates).
  size_t slot_bytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  static constexpr size_t kNone = ~size_t{0};

  iterator At(size_t i) { return {&slots_[i], slots_.data() + slots_.size()}; }

  // The key's hash as slots keep it: never 0 (empty) or kTombstone, those two values nudged.
  static uint64_t HashOf(std::string_view key) {
    const uint64_t h = TableHash(key);
    return h <= kTombstone ? h + 2 : h;
  }

  size_t Find(std::string_view key, uint64_t h) const {
    if (slots_.empty()) return kNone;
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.hash == h && s.node->first == key) return i;
      if (s.hash == 0) return kNone;  // empty: the key would have been placed here or before
    }
  }

  // At most half the slots used (entries and tombstones): probes stay short, and a lookup of an
  // absent key always meets an empty slot. And a map whose entries went down to a sixteenth of
  // the slots is made smaller (here, before an insert, not in erase, which leaves iterators
  // valid).
  void MakeRoom() {
    if ((used_ + 1) * 2 > slots_.size() ||
        (slots_.size() > kMinSlots && (size_ + 1) * 16 < slots_.size())) {
      Rebuild();
    }
  }

  // Places a node whose key is absent (the caller looked, then made room) in the first empty
  // slot or tombstone of its run; returns the slot.
  size_t Place(uint64_t h, value_type* node) {
    const size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (slots_[i].node != nullptr) i = (i + 1) & mask;
    if (slots_[i].hash == 0) ++used_;  // else a tombstone, counted already
    slots_[i] = Slot{h, node};
    ++size_;
    return i;
  }

  // Four times the live entries' slots (at least kMinSlots), the entries placed again and the
  // tombstones dropped.
  void Rebuild() {
    const size_t want = std::max(kMinSlots, std::bit_ceil((size_ + 1) * 4));
    std::vector<Slot> old(want);
    old.swap(slots_);
    const size_t mask = want - 1;
    for (const Slot& s : old) {
      if (s.node == nullptr) continue;
      size_t i = s.hash & mask;
      while (slots_[i].hash != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
    used_ = size_;
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;  // entries
  size_t used_ = 0;  // entries and tombstones
};

}  // namespace kuajing
