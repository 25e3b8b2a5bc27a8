#include "common/varint.h"

#include <gtest/gtest.h>

namespace kuajing {
namespace {

TEST(Varint, SlotPositionsComeBackAndOnlyIncreasingOnesBelowTheSize) {
  std::string out;
  SlotPositions w;
  for (uint64_t slot : {0, 1, 7, 1000, 1023}) w.Put(out, slot);
  VarintReader in(out);
  SlotPositions r;
  uint64_t slot = 0;
  for (uint64_t want : {0, 1, 7, 1000, 1023}) {
    ASSERT_TRUE(r.Next(in, 1024, &slot));
    EXPECT_EQ(slot, want);
  }
  EXPECT_TRUE(in.ok() && in.done());

  auto reads = [](std::initializer_list<uint64_t> steps, uint64_t size) {
    std::string bytes;
    for (uint64_t s : steps) PutVarint(bytes, s);
    VarintReader in(bytes);
    SlotPositions r;
    uint64_t slot;
    size_t n = 0;
    while (!in.done() && r.Next(in, size, &slot)) ++n;
    return n;
  };
  EXPECT_EQ(reads({0, 1, 1}, 8), 3u);
  EXPECT_EQ(reads({0, 0}, 8), 1u);             // the same slot twice
  EXPECT_EQ(reads({3, 4, 1}, 8), 2u);          // 3, 7, then 8: past the end
  EXPECT_EQ(reads({8}, 8), 0u);                // the first past the end
  EXPECT_EQ(reads({0}, 0), 0u);                // an empty table has no slot
  EXPECT_EQ(reads({1, ~uint64_t{0}}, 8), 1u);  // no wrap-around
}

}  // namespace
}  // namespace kuajing
