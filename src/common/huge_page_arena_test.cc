#include "common/huge_page_arena.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

namespace kuajing {
namespace {

// What tcmalloc asks of its system allocator: pieces of a megabyte or more, page aligned. Each
// piece comes aligned, none overlaps another, each can be written, and a region is 2 MiB
// aligned (the kernel backs only aligned 2 MiB ranges with a huge page).
TEST(HugePageArena, HandsOutAlignedPiecesThatDoNotOverlap) {
  HugePageArena arena;
  std::vector<std::pair<uintptr_t, size_t>> pieces;
  const size_t sizes[] = {1 << 20, 8192, 3 << 20, 1 << 20, 40 << 20, 5000, 1 << 20};
  const size_t aligns[] = {8192, 4096, 1 << 20, 65536, 8192, 16, HugePageArena::kHugePage};
  for (int round = 0; round < 4; ++round) {
    for (size_t i = 0; i < std::size(sizes); ++i) {
      void* p = arena.Take(sizes[i], aligns[i]);
      ASSERT_NE(p, nullptr);
      const auto at = reinterpret_cast<uintptr_t>(p);
      EXPECT_EQ(at % std::max<size_t>(aligns[i], 4096), 0u) << i;
      std::memset(p, 0xAB, sizes[i]);  // writable, all of it
      pieces.emplace_back(at, sizes[i]);
    }
  }
  std::sort(pieces.begin(), pieces.end());
  for (size_t i = 1; i < pieces.size(); ++i) {
    EXPECT_LE(pieces[i - 1].first + pieces[i - 1].second, pieces[i].first) << "overlap at " << i;
  }
  EXPECT_EQ(arena.mapped() % HugePageArena::kRegion, 0u);
  EXPECT_GE(arena.mapped(), size_t{4} * (48 << 20));
}

TEST(HugePageArena, APieceLargerThanARegionGetsItsOwn) {
  HugePageArena arena;
  const size_t big = HugePageArena::kRegion + (3 << 20);
  char* p = static_cast<char*>(arena.Take(big, 8192));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % HugePageArena::kHugePage, 0u);
  p[0] = 1;
  p[big - 1] = 2;
  EXPECT_GE(arena.mapped(), big);
  EXPECT_EQ(arena.Take(1 << 20, 12288), nullptr) << "an alignment not a power of two";
}

TEST(HugePageArena, ThreadsTakeAtOnce) {  // ThreadSanitizer runs this
  HugePageArena arena;
  std::vector<std::vector<uintptr_t>> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&arena, &got, t] {
      for (int i = 0; i < 50; ++i) {
        void* p = arena.Take(1 << 20, 8192);
        ASSERT_NE(p, nullptr);
        static_cast<char*>(p)[0] = static_cast<char>(t);
        got[t].push_back(reinterpret_cast<uintptr_t>(p));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<uintptr_t> all;
  for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GE(all[i] - all[i - 1], size_t{1} << 20);
}

}  // namespace
}  // namespace kuajing
