#include "clearance/state_rows.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace kuajing::clearance::rows {
namespace {

// Touched keeps what a std::set of the pairs kept before it: each (kind, key) once, in the set's
// order, also when rows are touched again after a Settle (Flush adds the links after reading the
// lists).
TEST(Touched, HoldsWhatASetOfThePairsHolds) {
  static constexpr std::string_view kKinds[] = {"order", "payment", "inventory", "link_waybill",
                                                "meta"};
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    Touched touched;
    std::set<std::pair<std::string, std::string>> model;
    const int settles = static_cast<int>(rng() % 3);
    for (int part = 0; part <= settles; ++part) {
      const int n = static_cast<int>(rng() % 40);
      for (int i = 0; i < n; ++i) {
        const std::string_view kind = kKinds[rng() % 5];
        // Few distinct keys, so that many rows are touched again; some share a long prefix.
        const std::string key = "PLATFORM0000000001\x1f" + std::to_string(rng() % 12);
        touched.Add(kind, key);
        model.emplace(std::string(kind), key);
      }
      touched.Settle();
      std::vector<std::pair<std::string, std::string>> got;
      for (const auto& [kind, key] : touched.rows()) got.emplace_back(std::string(kind), key);
      const std::vector<std::pair<std::string, std::string>> want(model.begin(), model.end());
      ASSERT_EQ(got, want) << "round " << round << ", part " << part;
    }
    touched.clear();
    EXPECT_TRUE(touched.rows().empty());
  }
}

// The shape of clearance::StateChange.
struct StateChangeLike {
  std::string kind, key, value;
  bool erase = false;
};

// A state the flush reads: rows of kind "a" exist when their key is even.
struct EvenRows {
  bool SerializeTo(const std::string& kind, const std::string& key, std::string* out) const {
    if ((key.back() - '0') % 2 != 0) return false;
    *out = kind + "=" + key;
    return true;
  }
};

TEST(FlushDirty, WritesWhatExistsAndErasesTheRestOnceEach) {
  Touched touched;
  for (const char* key : {"3", "2", "3", "1", "2"}) touched.Add("a", key);
  std::vector<StateChangeLike> out;
  FlushDirty(touched, EvenRows{}, &out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].key, "1");
  EXPECT_TRUE(out[0].erase);
  EXPECT_EQ(out[1].key, "2");
  EXPECT_FALSE(out[1].erase);
  EXPECT_EQ(out[1].value, "a=2");
  EXPECT_EQ(out[2].key, "3");
  EXPECT_TRUE(out[2].erase);
  EXPECT_TRUE(touched.rows().empty());  // flushed rows are not flushed again
}

}  // namespace
}  // namespace kuajing::clearance::rows
