#include "clearance/quota_book.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>

namespace kuajing::clearance {
namespace {

// Loads what SaveTo wrote into `book`; true if all of it was read and it was all right.
bool Load(const std::string& saved, QuotaBook* book) {
  VarintReader in(saved);
  book->LoadFrom(in);
  return in.ok() && in.done();
}

TEST(QuotaBook, PacksResidentIdsOnly) {
  EXPECT_NE(QuotaBook::Pack("110101199003074514"), 0u);
  EXPECT_NE(QuotaBook::Pack("11010119900307451X"), 0u);
  EXPECT_NE(QuotaBook::Pack("000000000000000000"), 0u);  // 0 is the empty slot's mark
  EXPECT_NE(QuotaBook::Pack("11010119900307451X"), QuotaBook::Pack("110101199003074510"));
  EXPECT_EQ(QuotaBook::Pack("11010119900307451x"), 0u);  // kept as declared: another form
  EXPECT_EQ(QuotaBook::Pack("E12345678"), 0u);
  EXPECT_EQ(QuotaBook::Pack("1101011990030745141"), 0u);
  EXPECT_EQ(QuotaBook::Pack("11010119900307451"), 0u);
  EXPECT_EQ(QuotaBook::Pack("1101011990030745A4"), 0u);
  EXPECT_EQ(QuotaBook::Pack(""), 0u);
}

// Random IDs (both forms) and years against a std::map: amounts and names come back the same
// through the growth of both tables.
TEST(QuotaBook, AgreesWithAMap) {
  QuotaBook book;
  std::map<std::pair<std::string, int>, int64_t> amounts;
  std::map<std::string, std::set<std::string>> names;
  std::mt19937_64 rng(7);
  auto id_of = [&](uint64_t n) {
    if (n % 10 == 0) return "P" + std::to_string(n);  // a passport-like ID: the other map
    std::string id = std::to_string(100000000000000000ULL + n * 7919);
    return n % 3 == 0 ? id.substr(0, 17) + "X" : id;
  };
  for (int i = 0; i < 200000; ++i) {
    const uint64_t n = rng() % 30000;
    const std::string id = id_of(n);
    const int year = 2024 + static_cast<int>(rng() % 3);
    const int64_t delta = static_cast<int64_t>(rng() % 1000000) - 300000;
    book.Used(id, year) += Decimal::FromE5(delta);
    amounts[{id, year}] += delta;
    const std::string name = "name" + std::to_string(rng() % 3);
    book.NoteName(id, name);
    names[id].insert(name);
  }
  EXPECT_EQ(book.entries(), amounts.size());
  for (const auto& [key, e5] : amounts) {
    ASSERT_EQ(book.Find(key.first, key.second).e5, e5) << key.first << " " << key.second;
  }
  for (const auto& [id, set] : names) {
    for (int k = 0; k < 4; ++k) {
      const std::string name = "name" + std::to_string(k);
      ASSERT_EQ(book.KnownAs(id, name), set.count(name) > 0) << id << " " << name;
    }
  }
  EXPECT_EQ(book.Find("110101199003074514", 2030).e5, 0);
  EXPECT_FALSE(book.KnownAs("110101199003074514", "name0"));
  EXPECT_EQ(book.entries(), amounts.size());  // looking up adds nothing
}

// The snapshot (app/snapshot.h): a book loaded from what another saved holds the same amounts and
// names of both forms of ID, grows on as it would, and a cut-short save is refused.
TEST(QuotaBook, ALoadedBookHoldsWhatTheOneThatSavedHeld) {
  QuotaBook original;
  std::mt19937_64 rng(7);
  std::vector<std::string> ids;
  for (int i = 0; i < 20'000; ++i) {
    std::string id = std::to_string(430000000000000000ULL + rng() % 99999999999999ULL);
    if (i % 50 == 0) id = "E" + std::to_string(i);  // a passport: the other form
    ids.push_back(id);
    original.Used(id, 2024 + i % 2) += Decimal::FromUnits(1 + i % 700);
    original.NoteName(id, "name" + std::to_string(i % 13));
  }
  std::string saved;
  original.SaveTo(saved);
  QuotaBook loaded;
  ASSERT_TRUE(Load(saved, &loaded));
  EXPECT_EQ(loaded.entries(), original.entries());
  for (size_t i = 0; i < ids.size(); ++i) {
    for (int year : {2024, 2025}) ASSERT_EQ(loaded.Find(ids[i], year), original.Find(ids[i], year));
    for (int n = 0; n < 13; ++n) {
      const std::string name = "name" + std::to_string(n);
      ASSERT_EQ(loaded.KnownAs(ids[i], name), original.KnownAs(ids[i], name)) << ids[i];
    }
  }
  for (int i = 0; i < 30'000; ++i) {  // through the next growth of both tables
    const std::string id = std::to_string(440000000000000000ULL + static_cast<uint64_t>(i));
    loaded.Used(id, 2024) += Decimal::FromUnits(i);
    original.Used(id, 2024) += Decimal::FromUnits(i);
    loaded.NoteName(id, "n");
    original.NoteName(id, "n");
  }
  for (int i = 0; i < 30'000; i += 7) {
    const std::string id = std::to_string(440000000000000000ULL + static_cast<uint64_t>(i));
    ASSERT_EQ(loaded.Find(id, 2024), original.Find(id, 2024));
    ASSERT_TRUE(loaded.KnownAs(id, "n"));
  }
  for (const std::string& id : ids) ASSERT_EQ(loaded.Find(id, 2024), original.Find(id, 2024));
  EXPECT_EQ(loaded.entries(), original.entries());
  for (size_t cut = 0; cut < saved.size(); cut += 1 + saved.size() / 3000) {
    QuotaBook q;
    VarintReader part(std::string_view(saved).substr(0, cut));
    q.LoadFrom(part);
    ASSERT_FALSE(part.ok()) << "cut at " << cut;
  }
}

// A save while a table grows (common/linear_table.h: the old table's entries move a few at a
// time): 12,300 buyers is 12 inserts past the growth from 16,384 slots to 32,768, whose moving
// takes 2,048 inserts. The loaded book holds the same and grows on the same.
TEST(QuotaBook, ASaveWhileATableGrowsLoadsTheSame) {
  QuotaBook original;
  auto id_of = [](int i) { return std::to_string(450000000000000000ULL + 977ULL * i); };
  for (int i = 0; i < 12'300; ++i) {
    original.Used(id_of(i), 2025) += Decimal::FromUnits(i % 5000);
    original.NoteName(id_of(i), "n" + std::to_string(i % 7));
  }
  std::string saved;
  original.SaveTo(saved);
  QuotaBook loaded;
  ASSERT_TRUE(Load(saved, &loaded));
  for (int i = 12'300; i < 20'000; ++i) {
    for (QuotaBook* b : {&original, &loaded}) {
      b->Used(id_of(i), 2025) += Decimal::FromUnits(i % 5000);
      b->NoteName(id_of(i), "n" + std::to_string(i % 7));
    }
  }
  EXPECT_EQ(loaded.entries(), 20'000u);
  EXPECT_EQ(original.entries(), 20'000u);
  for (int i = 0; i < 20'000; ++i) {
    ASSERT_EQ(loaded.Find(id_of(i), 2025), Decimal::FromUnits(i % 5000)) << i;
    ASSERT_EQ(original.Find(id_of(i), 2025), Decimal::FromUnits(i % 5000)) << i;
    ASSERT_TRUE(loaded.KnownAs(id_of(i), "n" + std::to_string(i % 7))) << i;
    ASSERT_FALSE(loaded.KnownAs(id_of(i), "n" + std::to_string(i % 7 + 1))) << i;
  }
}

}  // namespace
}  // namespace kuajing::clearance
