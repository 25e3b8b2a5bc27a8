#include "storage/pointer_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace kuajing::storage {
namespace {

struct Item {
  int key;
};

// Hashes from a small range with the low bits shared, so that entries collide, runs of probes
// wrap around the end of the table, and erasing shifts entries back across it.
uint64_t HashOf(int key) { return static_cast<uint64_t>(key % 37) * 1024 + 1000; }

// Random inserts, upserts and erases against a model (a multimap of key -> items): every key's
// entries are found, through growth and backward shifts, and nothing else.
TEST(PointerTable, AgreesWithAModelThroughInsertsUpsertsAndErases) {
  std::vector<Item> items(5000);
  for (int i = 0; i < 5000; ++i) items[i].key = i % 300;
  PointerTable<Item> table;
  std::map<int, std::set<const Item*>> model;
  std::mt19937 rng(11);
  std::vector<const Item*> in;
  for (int step = 0; step < 60000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 5 || in.empty()) {  // insert an item not in the table
      const Item* it = &items[rng() % items.size()];
      if (model[it->key].count(it) != 0) continue;
      table.Insert(HashOf(it->key), it);
      model[it->key].insert(it);
      in.push_back(it);
    } else if (op < 6) {  // upsert: replace one entry of the key, or add
      const Item* it = &items[rng() % items.size()];
      if (model[it->key].count(it) != 0) continue;
      const Item* was =
          table.Find(HashOf(it->key), [&](const Item& o) { return o.key == it->key; });
      table.Upsert(HashOf(it->key), it, [&](const Item& o) { return o.key == it->key; });
      if (was != nullptr) {
        model[it->key].erase(was);
        in.erase(std::find(in.begin(), in.end(), was));
      }
      model[it->key].insert(it);
      in.push_back(it);
    } else {  // erase one that is in, or one that is not
      const size_t at = rng() % in.size();
      const Item* it = in[at];
      EXPECT_TRUE(table.Erase(HashOf(it->key), it));
      EXPECT_FALSE(table.Erase(HashOf(it->key), it));
      model[it->key].erase(it);
      in.erase(in.begin() + static_cast<std::ptrdiff_t>(at));
    }
    if (step % 997 == 0 || step == 59999) {
      size_t total = 0;
      for (int key = 0; key < 300; ++key) {
        std::set<const Item*> got;
        table.ForEach(HashOf(key), [&](const Item* p) {
          if (p->key == key) got.insert(p);
        });
        ASSERT_EQ(got, model[key]) << "key " << key << " at step " << step;
        total += got.size();
        const Item* one = table.Find(HashOf(key), [&](const Item& o) { return o.key == key; });
        EXPECT_EQ(one != nullptr, !model[key].empty());
      }
      ASSERT_EQ(table.size(), total);
    }
  }
}

TEST(PointerTable, AnEmptyTableFindsNothing) {
  PointerTable<Item> table;
  Item a{1};
  EXPECT_EQ(table.Find(7, [](const Item&) { return true; }), nullptr);
  EXPECT_FALSE(table.Erase(7, &a));
  int calls = 0;
  table.ForEach(7, [&](const Item*) { ++calls; });
  EXPECT_EQ(calls, 0);
  table.Insert(7, &a);
  EXPECT_TRUE(table.Erase(7, &a));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.Find(7, [](const Item&) { return true; }), nullptr);
}

TEST(PointerTable, ClearEmptiesItAndItFillsAgain) {
  std::vector<Item> items(3000);
  PointerTable<Item> table;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3000; ++i) {
      items[i].key = i;
      table.Insert(HashOf(i), &items[i]);
    }
    EXPECT_EQ(table.size(), 3000u);
    table.Clear();
    EXPECT_EQ(table.size(), 0u);
    for (int i = 0; i < 3000; ++i) {
      ASSERT_EQ(table.Find(HashOf(i), [&](const Item& o) { return o.key == i; }), nullptr);
    }
  }
}

// After a burst (frames held while the projector was behind) the table gives its room back as it
// empties, and every entry left is still found; a table cleared after a large transaction takes
// the size of the next, small one.
TEST(PointerTable, GivesItsRoomBackAfterABurst) {
  std::vector<Item> items(40000);
  for (int i = 0; i < 40000; ++i) items[i].key = i;
  // Hashes spread over 64 bits, as the store's are (HashOf's few values would make every probe
  // run long in a table this size).
  const auto hash = [](int key) { return static_cast<uint64_t>(key) * 0x9e3779b97f4a7c15ULL; };
  PointerTable<Item> table;
  for (int i = 0; i < 40000; ++i) table.Insert(hash(i), &items[i]);
  const size_t burst = table.capacity();
  EXPECT_GE(burst, 80000u);
  for (int i = 0; i < 39990; ++i) ASSERT_TRUE(table.Erase(hash(i), &items[i])) << i;
  EXPECT_EQ(table.size(), 10u);
  EXPECT_LE(table.capacity(), 2048u) << "the burst's room stays";
  for (int i = 0; i < 40000; ++i) {
    const Item* found = table.Find(hash(i), [&](const Item& o) { return o.key == i; });
    ASSERT_EQ(found, i < 39990 ? nullptr : &items[i]) << i;
  }

  PointerTable<Item> cleared;
  for (int i = 0; i < 40000; ++i) cleared.Insert(hash(i), &items[i]);
  cleared.Clear();  // it held more than an eighth of its room: it keeps it
  EXPECT_EQ(cleared.capacity(), burst);
  for (int i = 0; i < 100; ++i) cleared.Insert(hash(i), &items[i]);
  cleared.Clear();  // a small transaction after the large one
  EXPECT_LE(cleared.capacity(), 1024u);
  for (int i = 0; i < 3000; ++i) cleared.Insert(hash(i), &items[i]);
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(cleared.Find(hash(i), [&](const Item& o) { return o.key == i; }), &items[i]) << i;
  }
}

// The store's indexes fill as frames are appended and empty as the projector writes them, every
// few tens of milliseconds. A table that fills to its usual peak and empties to a tenth of it,
// again and again, keeps its room (it halved at each drain and grew back at each fill); once
// the peaks fall for good, it gives the room back.
TEST(PointerTable, KeepsItsRoomThroughFillsAndDrainsAndGivesItBackWhenTheLoadFalls) {
  std::vector<Item> items(3000);
  for (int i = 0; i < 3000; ++i) items[i].key = i;
  const auto hash = [](int key) { return static_cast<uint64_t>(key) * 0x9e3779b97f4a7c15ULL; };
  PointerTable<Item> table;
  int in_from = 0, in_to = 0;  // the entries in the table: items [in_from, in_to) modulo 3000
  const auto fill_to = [&](int n) {
    while (in_to - in_from < n) {
      const int k = in_to++ % 3000;
      table.Insert(hash(k), &items[k]);
    }
  };
  const auto drain_to = [&](int n) {
    while (in_to - in_from > n) {
      const int k = in_from++ % 3000;
      ASSERT_TRUE(table.Erase(hash(k), &items[k]));
    }
  };
  fill_to(2900);
  const size_t room = table.capacity();
  EXPECT_EQ(room, 8192u);
  for (int cycle = 0; cycle < 50; ++cycle) {
    drain_to(290);
    EXPECT_EQ(table.capacity(), room) << "drained, cycle " << cycle;
    fill_to(2900);
    EXPECT_EQ(table.capacity(), room) << "filled, cycle " << cycle;
  }
  // The load falls: peaks of 600 (under an eighth of the room) from now on.
  for (int cycle = 0; cycle < 20; ++cycle) {
    drain_to(100);
    fill_to(600);
  }
  EXPECT_LE(table.capacity(), 4096u) << "the room of the old peaks stays";
  EXPECT_GE(table.capacity(), 2048u) << "shrunk below what the peaks need";
  for (int i = 0; i < 3000; ++i) {
    // The table holds items in_from % 3000 onwards, in_to - in_from of them, wrapping at 3000.
    const bool in = (i - in_from % 3000 + 3000) % 3000 < in_to - in_from;
    const Item* found = table.Find(hash(i), [&](const Item& o) { return o.key == i; });
    ASSERT_EQ(found, in ? &items[i] : nullptr) << i;
  }
}

}  // namespace
}  // namespace kuajing::storage
