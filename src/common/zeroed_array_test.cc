#include "common/zeroed_array.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdint>
#include <utility>

namespace kuajing {
namespace {

long MinorFaults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

TEST(ZeroedArray, StartsZeroSmallAndLarge) {
  for (size_t n : {size_t{1}, size_t{1000}, ZeroedArray<uint64_t>::kMapBytes / 8 + 1}) {
    ZeroedArray<uint64_t> a(n);
    ASSERT_EQ(a.size(), n);
    for (size_t i = 0; i < n; i += 1 + n / 1000) ASSERT_EQ(a[i], 0u) << n << " " << i;
    a[n - 1] = 7;
    EXPECT_EQ(a.span().back(), 7u);
  }
  ZeroedArray<uint64_t> none;
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(ZeroedArray<uint64_t>(0).empty());
}

// What it is for: a large array is not written when made. A std::vector of the same 64 MiB
// faults in every page (16,384 of 4 KiB) before the first insert.
TEST(ZeroedArray, ALargeOneCostsNoPageFaultsUntilWritten) {
  const long before = MinorFaults();
  ZeroedArray<uint16_t> a(size_t{32} << 20);
  EXPECT_LT(MinorFaults() - before, 64);
  a[12345] = 1;  // one page now
  EXPECT_EQ(a[12345], 1);
  EXPECT_EQ(a[size_t{32} << 19], 0);
}

TEST(ZeroedArray, MovesLeaveTheSourceEmpty) {
  ZeroedArray<int> a(size_t{1} << 20);  // mapped
  a[3] = 3;
  ZeroedArray<int> b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): what a move leaves is the point
  EXPECT_EQ(b[3], 3);
  ZeroedArray<int> c(10);  // from calloc
  c = std::move(b);
  EXPECT_EQ(c.size(), size_t{1} << 20);
  EXPECT_EQ(c[3], 3);
  c = ZeroedArray<int>();
  EXPECT_TRUE(c.empty());
}

}  // namespace
}  // namespace kuajing
