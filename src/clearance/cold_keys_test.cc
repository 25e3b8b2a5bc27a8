#include "clearance/cold_keys.h"

#include <gtest/gtest.h>

#include <string>

namespace kuajing::clearance {
namespace {

TEST(ColdKeys, HoldsEveryKeyThroughGrowthAndRarelyClaimsOthers) {
  ColdKeys keys;
  constexpr int kKeys = 300000;  // several tables
  for (int i = 0; i < kKeys; ++i) keys.Insert('o', "ORDER" + std::to_string(i));
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(keys.MayContain('o', "ORDER" + std::to_string(i)));
  // Two keys with the same fingerprint near the same slot count once (a few dozen here).
  EXPECT_LE(keys.size(), size_t{kKeys});
  EXPECT_GE(keys.size(), size_t{kKeys} - kKeys / 1000);
  const size_t size = keys.size();
  // The same text under another tag, and keys never inserted: rarely claimed (each claim costs the
  // engine one read of the store).
  int claimed = 0;
  for (int i = 0; i < kKeys; ++i) {
    claimed += keys.MayContain('w', "ORDER" + std::to_string(i));
    claimed += keys.MayContain('o', "OTHER" + std::to_string(i));
  }
  EXPECT_LE(claimed, 2 * kKeys / 1000);
  // A key inserted again adds nothing.
  keys.Insert('o', "ORDER7");
  EXPECT_EQ(keys.size(), size);
  // At most 3/4 of each table is used: at most ~6 bytes per key with the newest table new.
  EXPECT_LE(keys.bytes(), size_t{kKeys} * 6);
}

TEST(ColdKeys, EmptyClaimsNothing) {
  ColdKeys keys;
  EXPECT_FALSE(keys.MayContain('o', ""));
  EXPECT_EQ(keys.bytes(), 0u);
}

}  // namespace
}  // namespace kuajing::clearance
