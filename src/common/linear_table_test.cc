#include "common/linear_table.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>

namespace kuajing {
namespace {

struct Entry {
  uint64_t id = 0;  // the key; 0: empty
  int64_t value = 0;
  // A poor hash on purpose: long probe runs, across the old table's moved and unmoved slots.
  uint64_t Hash() const { return HashOf(id); }
  static uint64_t HashOf(uint64_t id) { return (id * 0x9E3779B97F4A7C15ULL) >> 7; }
};

using Table = LinearTable<Entry>;

int64_t& Add(Table& t, uint64_t id) {
  return t
      .FindOrAdd(
          Entry::HashOf(id), [id](const Entry& e) { return e.id == id; },
          [id](Entry& e) { e.id = id; })
      .value;
}
// Adds keys 1, 2, ... until the table's second growth has begun (the first is from nothing);
// returns the next key.
uint64_t IntoTheSecondGrowth(Table& t) {
  uint64_t id = 1;
  while (!t.growing()) Add(t, id++);
  while (t.growing()) Add(t, id++);
  while (!t.growing()) Add(t, id++);
  return id;
}

const Entry* Find(const Table& t, uint64_t id) {
  return t.Find(Entry::HashOf(id), [id](const Entry& e) { return e.id == id; });
}

// Random keys, some again and again, against a std::map; every key checked after each growth
// began and after it ended, and some after every insert.
TEST(LinearTable, AgreesWithAMapThroughItsGrowths) {
  Table t;
  std::map<uint64_t, int64_t> m;
  std::mt19937_64 rng(11);
  bool was_growing = false;
  int growths = 0;
  for (int i = 0; i < 60'000; ++i) {
    const uint64_t id = 1 + rng() % 40'000;
    const int64_t delta = static_cast<int64_t>(rng() % 1000) - 400;
    Add(t, id) += delta;
    m[id] += delta;
    ASSERT_EQ(t.used(), m.size());
    if (t.growing() != was_growing || i % 997 == 0) {
      growths += t.growing() && !was_growing;
      was_growing = t.growing();
      for (const auto& [k, v] : m) {
        const Entry* e = Find(t, k);
        ASSERT_NE(e, nullptr) << k << " at insert " << i;
        ASSERT_EQ(e->value, v) << k;
      }
      for (uint64_t k = 40'001; k < 40'100; ++k) ASSERT_EQ(Find(t, k), nullptr);
    }
  }
  EXPECT_GE(growths, 5);  // 1,024 slots at first, 65,536 at the end
}

// A growth moves the old table a few slots per insert: the insert that doubles the table leaves
// most of the old one in place, and it is gone once its slots are all moved.
TEST(LinearTable, GrowsAFewSlotsAtATime) {
  Table t;
  uint64_t id = 1;
  while (!t.growing()) Add(t, id++);  // the first growth is from nothing: at once
  while (t.growing()) Add(t, id++);
  const size_t before = t.slots().size();
  while (!t.growing()) Add(t, id++);
  ASSERT_EQ(t.slots().size(), 2 * before);
  EXPECT_EQ(t.used(), before * 3 / 4 + 1);
  // The old table is `before` slots: it takes before / kMoveSlots more inserts to move.
  size_t inserts = 0;
  while (t.growing()) {
    Add(t, id++);
    ++inserts;
  }
  EXPECT_GE(inserts, before / Table::kMoveSlots - 2);
  EXPECT_LE(inserts, before / Table::kMoveSlots + 1);
  for (uint64_t k = 1; k < id; ++k) ASSERT_NE(Find(t, k), nullptr) << k;
}

// A value changed through the reference FindOrAdd gave for an entry still in the old table is
// the value that moves.
TEST(LinearTable, AChangeToAnEntryNotYetMovedIsKept) {
  Table t;
  uint64_t id = IntoTheSecondGrowth(t);
  // Change every entry while the growth is under way (each call moves a few slots), with an
  // insert after every fourth; the changes come in the order of the keys, the moves in the order
  // of the slots.
  const uint64_t last = id;
  size_t changed_before_moved = 0;
  for (uint64_t k = 1; k < last; ++k) {
    changed_before_moved += t.growing();
    Add(t, k) += static_cast<int64_t>(k);
    if (k % 4 == 0) Add(t, id++);
  }
  ASSERT_FALSE(t.growing());
  EXPECT_GT(changed_before_moved, 100u);
  for (uint64_t k = 1; k < last; ++k) ASSERT_EQ(Find(t, k)->value, static_cast<int64_t>(k)) << k;
}

// Finishing a growth leaves every entry at a slot a lookup finds; a table loaded from those
// slots holds the same.
TEST(LinearTable, FinishedGrowthLeavesOneVectorToSave) {
  Table t;
  uint64_t id = IntoTheSecondGrowth(t);
  t.FinishGrowth();
  EXPECT_FALSE(t.growing());
  Table loaded;
  const std::span<Entry> slots = loaded.Reset(t.slots().size(), t.used());
  std::copy(t.slots().begin(), t.slots().end(), slots.begin());
  for (uint64_t k = 1; k < id; ++k) {
    ASSERT_NE(Find(loaded, k), nullptr) << k;
    ASSERT_EQ(Find(loaded, k)->id, k);
  }
  EXPECT_EQ(Find(loaded, id), nullptr);
}

long MinorFaults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// A large table makes its successor between 5/8 and 3/4 full, a few pages per insert: the growth
// and the inserts after it find the new table in memory. Made at the growth instead, the moves
// and the new entries fault in its 1,024 pages within the first few hundred inserts.
TEST(LinearTable, ALargeTableFaultsItsSuccessorInAhead) {
  Table t;
  uint64_t id = 1;
  while (t.slots().size() < Table::kPrepareFrom * 2 || t.growing()) Add(t, id++);
  const size_t size = t.slots().size();  // 131,072 slots of 16 bytes
  while ((t.used() + 1) * 4 <= size * 3) Add(t, id++);
  const long before = MinorFaults();
  for (int i = 0; i < 2000; ++i) Add(t, id++);  // the growth, and the first moves
  EXPECT_EQ(t.slots().size(), 2 * size);
  EXPECT_LT(MinorFaults() - before, 100);
  for (uint64_t k = 1; k < id; k += 97) ASSERT_NE(Find(t, k), nullptr) << k;
}

}  // namespace
}  // namespace kuajing
