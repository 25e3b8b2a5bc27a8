#include "stats/aggregates.h"

#include <gtest/gtest.h>

#include "common/civil_time.h"

namespace kuajing::stats {
namespace {

Contribution Import(const char* day, const std::string& ebc, const std::string& mode, int64_t cny,
                    const std::string& country) {
  Contribution c;
  c.counted = true;
  c.day = DayOf(*ParseAppTime(std::string(day) + "120000"));
  c.trade_mode = mode;
  c.ebc = ebc;
  c.main_currency = "142";
  c.value["142"] = Decimal::FromUnits(cny);
  c.tax = Decimal::FromUnits(cny / 10);
  c.lines.push_back(LineValue{country, "33", "142", Decimal::FromUnits(cny)});
  return c;
}

TEST(Stats, DayIsTheChinaStandardTimeDay) {
  // 2024-06-30 23:30 CST is 15:30 UTC; 2024-07-01 00:30 CST is 16:30 UTC the same UTC day.
  EXPECT_EQ(DayOf(*ParseAppTime("20240630233000")) + 1, DayOf(*ParseAppTime("20240701003000")));
}

TEST(Stats, TotalsSeriesRankingsAndActiveEnterprises) {
  Aggregates a;
  a.Apply(Import("20240610", "E1", "1210", 300, "116"), +1);
  a.Apply(Import("20240610", "E2", "9610", 100, "502"), +1);
  a.Apply(Import("20240702", "E1", "1210", 50, "116"), +1);
  const int64_t june1 = DayOf(*ParseAppTime("20240601120000"));
  const int64_t july31 = DayOf(*ParseAppTime("20240731120000"));
  auto t = a.Total(Direction::kImport, june1, july31);
  EXPECT_EQ(t.lists, 3);
  EXPECT_EQ(t.value["142"], Decimal::FromUnits(450));
  EXPECT_EQ(t.tax, Decimal::FromUnits(45));
  EXPECT_EQ(a.Total(Direction::kImport, june1, july31, "9610").lists, 1);
  EXPECT_EQ(a.Total(Direction::kExport, june1, july31).lists, 0);
  auto months = a.Series(Direction::kImport, june1, july31, true);
  ASSERT_EQ(months.size(), 2u);
  EXPECT_EQ(months[0].first, 202406);
  EXPECT_EQ(months[0].second.value["142"], Decimal::FromUnits(400));
  EXPECT_EQ(months[1].first, 202407);
  auto by_ebc = a.Rank("enterprise", Direction::kImport, june1, july31, "142");
  ASSERT_EQ(by_ebc.size(), 2u);
  EXPECT_EQ(by_ebc[0].key, "E1");
  EXPECT_EQ(by_ebc[0].lists, 2);
  EXPECT_EQ(by_ebc[0].value, Decimal::FromUnits(350));
  auto by_country = a.Rank("country", Direction::kImport, june1, june1 + 29, "142");
  ASSERT_EQ(by_country.size(), 2u);
  EXPECT_EQ(by_country[0].key, "116");
  EXPECT_EQ(by_country[0].value, Decimal::FromUnits(300));
  EXPECT_EQ(a.ActiveEnterprises(Direction::kImport, june1 + 30, july31), 1u);
  EXPECT_TRUE(a.Rank("nonsense", Direction::kImport, june1, july31, "142").empty());
  const auto sum = a.Summarize(Direction::kImport, june1, july31);
  EXPECT_EQ(sum.all.lists, t.lists);
  EXPECT_EQ(sum.all.value, t.value);
  EXPECT_EQ(sum.all.tax, t.tax);
  ASSERT_EQ(sum.by_mode.size(), 2u);
  EXPECT_EQ(sum.by_mode.at("1210").value.at("142"), Decimal::FromUnits(350));
  EXPECT_EQ(sum.by_mode.at("9610").lists, 1);
  EXPECT_EQ(sum.active_enterprises, 2u);
}

TEST(Stats, GrowthIsRoundedToATenthAndUndefinedOnZero) {
  EXPECT_EQ(GrowthPercent(Decimal::FromUnits(110), Decimal::FromUnits(100))->ToString(), "10");
  EXPECT_EQ(GrowthPercent(Decimal::FromUnits(2), Decimal::FromUnits(3))->ToString(), "-33.3");
  EXPECT_EQ(GrowthPercent(Decimal::FromUnits(1), Decimal::FromUnits(8))->ToString(), "-87.5");
  EXPECT_EQ(GrowthPercent(Decimal::FromE5(100001), Decimal::FromUnits(1))->ToString(), "0");
  EXPECT_FALSE(GrowthPercent(Decimal::FromUnits(5), Decimal{}).has_value());
  const int64_t mar1 = DayOf(*ParseAppTime("20250301120000"));
  EXPECT_EQ(SameDayLastYear(mar1), DayOf(*ParseAppTime("20240301120000")));
  EXPECT_EQ(SameDayLastYear(DayOf(*ParseAppTime("20240229120000"))),
            DayOf(*ParseAppTime("20230228120000")));
}

// Queries read month cells for whole months and day cells at the edges: any range gives what a
// sum over the day cells gives.
TEST(Stats, MonthRollupsAgreeWithTheDaysForAnyRange) {
  Aggregates a;
  const int64_t jan1 = DayOf(*ParseAppTime("20240101120000"));
  for (int64_t day = jan1; day < jan1 + 120; day += 3) {
    Contribution c =
        Import("20240101", day % 2 ? "E1" : "E2", day % 5 ? "1210" : "9610", 100 + day % 7, "116");
    c.day = day;
    a.Apply(c, +1);
  }
  for (int64_t from = jan1 - 3; from < jan1 + 125; from += 7) {
    for (int64_t to = from; to < jan1 + 130; to += 11) {
      int64_t lists = 0;
      Decimal value;
      for (const auto& [k, cell] : a.cells()) {
        if (std::get<0>(k) < from || std::get<0>(k) > to) continue;
        lists += cell.lists;
        value += cell.value;
      }
      const auto t = a.Total(Direction::kImport, from, to);
      ASSERT_EQ(t.lists, lists) << from - jan1 << ".." << to - jan1;
      ASSERT_EQ(t.value.count("142") ? t.value.at("142") : Decimal{}, value);
      ASSERT_EQ(a.Summarize(Direction::kImport, from, to).all.lists, lists);
    }
  }
}

TEST(Stats, TakingBackWhatWasAddedLeavesNothing) {
  Aggregates a;
  const Contribution c = Import("20240610", "E1", "1210", 300, "116");
  Contribution returned = c;  // a partial return: 100 of 300 back
  returned.value["142"] = Decimal::FromUnits(200);
  returned.lines[0].value = Decimal::FromUnits(200);
  a.Change({}, c);
  a.Change(c, returned);
  EXPECT_EQ(a.Total(Direction::kImport, 0, 100000).value["142"], Decimal::FromUnits(200));
  a.Change(returned, {});
  EXPECT_TRUE(a == Aggregates{});  // no empty cells left behind
}

TEST(Stats, ClearanceTimeBucketsAndTheirBounds) {
  EXPECT_EQ(ClearanceBucket(-5), 0u);  // a clock running backwards counts as instant
  EXPECT_EQ(ClearanceBucket(9'999), 0u);
  EXPECT_EQ(ClearanceBucket(10'000), 1u);  // 10 s is no longer "under 10 s"
  EXPECT_EQ(ClearanceBucket(599'999), 2u);
  EXPECT_EQ(ClearanceBucket(259'200'000), kClearanceBuckets - 1);
  Aggregates a;
  Contribution c = Import("20240610", "E1", "1210", 300, "116");
  c.clearance_ms = 45'000;
  a.Change({}, c);
  const int64_t day = c.day;
  EXPECT_EQ(a.ClearanceHistogram(day, day)[1], 1);
  EXPECT_EQ(a.ClearanceHistogram(day + 1, day + 9)[1], 0);
  a.Change(c, {});  // cancelled: gone from the histogram too
  EXPECT_TRUE(a == Aggregates{});
}

TEST(Stats, QuotaBandsFollowEachBuyersMoves) {
  EXPECT_EQ(QuotaBucket(Decimal::FromUnits(999)), 0u);
  EXPECT_EQ(QuotaBucket(Decimal::FromUnits(1000)), 1u);
  EXPECT_EQ(QuotaBucket(Decimal::FromUnits(26000)), kQuotaBuckets - 1);
  Aggregates a;
  a.MoveQuota(2024, {}, Decimal::FromUnits(800));
  a.MoveQuota(2024, Decimal::FromUnits(800), Decimal::FromUnits(5800));  // a second order
  a.MoveQuota(2024, {}, Decimal::FromUnits(300));
  a.MoveQuota(2025, {}, Decimal::FromUnits(300));
  const auto y = a.QuotaDistribution(2024);
  EXPECT_EQ(y[0], 1);  // 300
  EXPECT_EQ(y[3], 1);  // 5,800: moved out of the first band
  EXPECT_EQ(y[0] + y[1] + y[2] + y[3] + y[4] + y[5] + y[6], 2);
  a.MoveQuota(2024, Decimal::FromUnits(300), {});  // returned in full
  EXPECT_EQ(a.QuotaDistribution(2024)[0], 0);
}

TEST(Stats, RefusalsAreCountedWrittenAndRestored) {
  Aggregates a;
  a.AddRefusal(19885, "CEB622", "-621005");
  a.AddRefusal(19885, "CEB622", "-621005");
  a.AddRefusal(19886, "CEB900", "-2");
  std::vector<StateRow> rows;
  a.TakeDirty(&rows);
  ASSERT_EQ(rows.size(), 2u);
  Aggregates b;
  for (const auto& r : rows) ASSERT_TRUE(b.Restore(r).ok());
  EXPECT_TRUE(a == b);
  const auto top = b.Refusals(19885, 19886);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].status, "-621005");
  EXPECT_EQ(top[0].count, 2);
  EXPECT_EQ(b.Refusals(19886, 19886).size(), 1u);
  rows.clear();
  a.TakeDirty(&rows);
  EXPECT_TRUE(rows.empty());  // nothing new
  EXPECT_FALSE(b.Restore(StateRow{"stats_refusal", "19885|CEB622", "1", false}).ok());
}

// The snapshot (app/snapshot.h): aggregates loaded from what others saved are equal to them and
// answer the same; a cut-short save is refused.
TEST(Stats, LoadedAggregatesEqualTheOnesThatSaved) {
  Aggregates a;
  for (int i = 0; i < 400; ++i) {
    Contribution c = Import(i % 2 ? "20240610" : "20240711", "E" + std::to_string(i % 7),
                            i % 3 ? "1210" : "9610", 100 + i, i % 5 ? "116" : "502");
    c.clearance_ms = i * 1000;
    a.Apply(c, +1);
    a.AddRefusal(c.day, "CEB622", i % 2 ? "-621003" : "-621005");
    a.MoveQuota(2024, Decimal{}, Decimal::FromUnits(i * 70));
  }
  std::vector<StateRow> taken;
  a.TakeDirty(&taken);
  std::string saved;
  a.SaveTo(saved);
  Aggregates b;
  VarintReader in(saved);
  b.LoadFrom(in);
  ASSERT_TRUE(in.ok() && in.done());
  EXPECT_TRUE(b == a);
  EXPECT_FALSE(b == Aggregates());
  const int64_t from = DayOf(*ParseAppTime("20240601000000")), to = from + 60;
  EXPECT_EQ(b.Rank("enterprise", Direction::kImport, from, to, "142").size(),
            a.Rank("enterprise", Direction::kImport, from, to, "142").size());
  EXPECT_EQ(b.QuotaDistribution(2024), a.QuotaDistribution(2024));
  std::vector<StateRow> none;
  b.TakeDirty(&none);
  EXPECT_TRUE(none.empty());  // the refusals' rows were written before the save
  for (size_t cut = 0; cut < saved.size(); cut += 1 + saved.size() / 2000) {
    Aggregates c;
    VarintReader part(std::string_view(saved).substr(0, cut));
    c.LoadFrom(part);
    ASSERT_FALSE(part.ok()) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace kuajing::stats
