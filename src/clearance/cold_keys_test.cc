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
  // A key inserted again adds nothing if the newest table holds it; one only an older table
  // holds (ORDER7 went into the first) gets a second fingerprint, and is still found.
  keys.Insert('o', "ORDER" + std::to_string(kKeys - 1));
  EXPECT_EQ(keys.size(), size);
  keys.Insert('o', "ORDER7");
  EXPECT_EQ(keys.size(), size + 1);
  EXPECT_TRUE(keys.MayContain('o', "ORDER7"));
  // At most 3/4 of each table is used: at most ~6 bytes per key with the newest table new.
  EXPECT_LE(keys.bytes(), size_t{kKeys} * 6);
}

TEST(ColdKeys, EmptyClaimsNothing) {
  ColdKeys keys;
  EXPECT_FALSE(keys.MayContain('o', ""));
  EXPECT_EQ(keys.bytes(), 0u);
}

// The snapshot (app/snapshot.h): a set loaded from what another saved answers as it does, keeps
// growing as it would, and a cut-short save is refused.
TEST(ColdKeys, ALoadedSetAnswersAsTheOneThatSaved) {
  ColdKeys original;
  for (int i = 0; i < 150'000; ++i) original.Insert("opw"[i % 3], "K" + std::to_string(i));
  std::string saved;
  original.SaveTo(saved);
  ColdKeys loaded;
  VarintReader in(saved);
  loaded.LoadFrom(in);
  ASSERT_TRUE(in.ok() && in.done());
  EXPECT_EQ(loaded.size(), original.size());
  EXPECT_EQ(loaded.bytes(), original.bytes());
  for (int i = 0; i < 300'000; ++i) {
    const std::string k = "K" + std::to_string(i);
    ASSERT_EQ(loaded.MayContain("opw"[i % 3], k), original.MayContain("opw"[i % 3], k)) << i;
    if (i < 150'000) {
      ASSERT_TRUE(loaded.MayContain("opw"[i % 3], k));
    }
  }
  for (int i = 150'000; i < 400'000; ++i) {
    loaded.Insert('o', "K" + std::to_string(i));
    original.Insert('o', "K" + std::to_string(i));
  }
  std::string again, again_original;
  loaded.SaveTo(again);
  original.SaveTo(again_original);
  EXPECT_TRUE(again == again_original);  // the same tables, slot for slot
  for (size_t cut = 0; cut < saved.size(); cut += 1 + saved.size() / 2000) {
    ColdKeys c;
    VarintReader part(std::string_view(saved).substr(0, cut));
    c.LoadFrom(part);
    ASSERT_FALSE(part.ok()) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace kuajing::clearance
