#include "storage/guid_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace kuajing::storage {
namespace {

std::string Guid(uint64_t i) {
  return "2A3B4C5D-0000-4000-8000-" + std::to_string(100000000000 + i);
}

TEST(GuidFilter, NeverForgetsAGuidAndSeldomImaginesOne) {
  GuidFilter f(1 << 20);  // 8 Mi bits
  EXPECT_EQ(f.bytes(), size_t{1} << 20);
  constexpr uint64_t kAdded = 500'000;  // 16.8 bits each: about 0.3 % false positives
  for (uint64_t i = 0; i < kAdded; ++i) f.Add(Guid(i));
  for (uint64_t i = 0; i < kAdded; ++i) ASSERT_TRUE(f.MayContain(Guid(i))) << i;
  uint64_t imagined = 0;
  for (uint64_t i = kAdded; i < 2 * kAdded; ++i) imagined += f.MayContain(Guid(i));
  EXPECT_LT(imagined, kAdded / 100) << "false positives";
  EXPECT_FALSE(GuidFilter(1 << 20).MayContain(Guid(1))) << "a new filter has nothing";
}

TEST(GuidFilter, AFullFilterSaysMaybeNeverNo) {
  GuidFilter tiny(1);  // rounded up to one block of 512 bits
  EXPECT_EQ(tiny.bytes(), 64u);
  for (uint64_t i = 0; i < 5'000; ++i) tiny.Add(Guid(i));
  for (uint64_t i = 0; i < 10'000; ++i) EXPECT_TRUE(tiny.MayContain(Guid(i)));
  EXPECT_EQ(GuidFilter(100'000).bytes(), 65'536u) << "rounded down to a power of two";
}

TEST(GuidFilter, ThreadsAddAtOnce) {  // ThreadSanitizer runs this
  GuidFilter f(1 << 16);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&f, t] {
      for (uint64_t i = 0; i < 20'000; ++i) {
        f.Add(Guid(uint64_t(t) * 1'000'000 + i));
        (void)f.MayContain(Guid(i));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    for (uint64_t i = 0; i < 20'000; ++i)
      ASSERT_TRUE(f.MayContain(Guid(uint64_t(t) * 1'000'000 + i)));
  }
}

}  // namespace
}  // namespace kuajing::storage
