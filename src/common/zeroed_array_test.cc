#include "common/zeroed_array.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdint>
#include <utility>

namespace kuajing {
namespace {

using Zero = ZeroedArray<uint64_t>::Zero;

// AddressSanitizer writes the shadow of each allocation when it is made (an eighth of its size),
// so the fault counts below hold only without it.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kShadowed = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kShadowed = true;
#else
constexpr bool kShadowed = false;
#endif
#else
constexpr bool kShadowed = false;
#endif

long MinorFaults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

TEST(ZeroedArray, StartsZero) {
  for (size_t n : {size_t{1}, size_t{1000}, size_t{1} << 20}) {
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

// What Zero::kLater is for: the array's pages are zeroed (and faulted in) a few at a time. A
// calloc of the same 64 MiB writes all 16,384 pages at once.
TEST(ZeroedArray, ZeroedLaterAFewPagesAtATime) {
  const size_t n = size_t{8} << 20;  // 64 MiB of uint64_t
  const long before = MinorFaults();
  ZeroedArray<uint64_t> a(n, Zero::kLater);
  if (!kShadowed) {
    EXPECT_LT(MinorFaults() - before, 64);
  }
  ASSERT_EQ(a.pages(), n * 8 / 4096);
  size_t page = 0;
  page = a.ZeroPages(page, 3);
  EXPECT_EQ(page, 3u);
  if (!kShadowed) {
    EXPECT_LT(MinorFaults() - before, 64);
  }
  for (size_t i = 0; i < 3 * 4096 / 8; ++i) ASSERT_EQ(a[i], 0u) << i;
  page = a.ZeroPages(page, SIZE_MAX);  // the rest
  EXPECT_EQ(page, a.pages());
  EXPECT_EQ(a.ZeroPages(page, 5), a.pages());  // nothing past the end
  for (size_t i = 0; i < n; i += 511) ASSERT_EQ(a[i], 0u) << i;
  EXPECT_EQ(a[n - 1], 0u);
  // An array that ends inside a page: its last page is zeroed up to its end only.
  ZeroedArray<uint16_t> odd(3000, ZeroedArray<uint16_t>::Zero::kLater);
  EXPECT_EQ(odd.pages(), 2u);
  EXPECT_EQ(odd.ZeroPages(0, SIZE_MAX), 2u);
  for (size_t i = 0; i < odd.size(); ++i) ASSERT_EQ(odd[i], 0u) << i;
}

TEST(ZeroedArray, MovesLeaveTheSourceEmpty) {
  ZeroedArray<int> a(size_t{1} << 20);
  a[3] = 3;
  ZeroedArray<int> b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): what a move leaves is the point
  EXPECT_EQ(b[3], 3);
  ZeroedArray<int> c(10);
  c = std::move(b);
  EXPECT_EQ(c.size(), size_t{1} << 20);
  EXPECT_EQ(c[3], 3);
  c = ZeroedArray<int>();
  EXPECT_TRUE(c.empty());
}

}  // namespace
}  // namespace kuajing
