// The dashboard's queries on a year of statistics (docs/METRICS.md): two busy years of
// releases folded into the aggregates — 300 enterprises, both directions, four trade modes, a
// few countries and chapters per list — then the queries the dashboard makes, timed.
#include <benchmark/benchmark.h>

#include "stats/aggregates.h"

namespace kuajing {
namespace {

const stats::Aggregates& Year() {
  static const stats::Aggregates* a = [] {
    auto* agg = new stats::Aggregates;
    static constexpr const char* kModes[] = {"9610", "1210", "9710", "9810"};
    static constexpr const char* kCountries[] = {"116", "502", "303", "305", "601", "609", "133"};
    // 20 lists per enterprise and day is 2.2 million a year; each day's lists of one enterprise
    // fall in the same cells, so the cells, not the lists, make the cost: 300 x 365 x a few.
    for (int64_t day = 19723 - 365; day < 19723 + 365; ++day) {  // 2023 and 2024
      for (int e = 0; e < 300; ++e) {
        stats::Contribution c;
        c.counted = true;
        c.day = day;
        c.direction = e % 3 == 0 ? stats::Direction::kExport : stats::Direction::kImport;
        c.trade_mode = kModes[(e + day) % 4];
        c.ebc = "43049" + std::to_string(10000 + e);
        c.main_currency = c.direction == stats::Direction::kImport ? "142" : "502";
        c.value[c.main_currency] = Decimal::FromUnits(300 + e);
        c.tax = Decimal::FromUnits(30);
        for (int l = 0; l < 3; ++l) {
          c.lines.push_back(stats::LineValue{kCountries[(e + l) % 7],
                                             std::to_string(10 + (e * 7 + l) % 88), c.main_currency,
                                             Decimal::FromUnits(100)});
        }
        for (int n = 0; n < 20; ++n) agg->Apply(c, +1);
      }
    }
    return agg;
  }();
  return *a;
}

void BM_YearSummary(benchmark::State& state) {
  const auto& a = Year();
  for (auto _ : state) {
    // What GET /api/v1/stats/summary computes for 2024: the year, the year before it (the
    // previous period) and the same days a year earlier (the same here), per direction.
    for (auto d : {stats::Direction::kImport, stats::Direction::kExport}) {
      benchmark::DoNotOptimize(a.Summarize(d, 19723, 19723 + 364));
      benchmark::DoNotOptimize(a.Total(d, 19723 - 365, 19722));
      benchmark::DoNotOptimize(a.Total(d, 19723 - 365, 19722));
    }
  }
  state.counters["cells"] = static_cast<double>(a.cells().size());
}
BENCHMARK(BM_YearSummary)->Unit(benchmark::kMillisecond);

void BM_YearMonthlySeries(benchmark::State& state) {
  const auto& a = Year();
  for (auto _ : state)
    benchmark::DoNotOptimize(a.Series(stats::Direction::kImport, 19723, 19723 + 364, true));
}
BENCHMARK(BM_YearMonthlySeries)->Unit(benchmark::kMillisecond);

// Arg 0: by enterprise (cells), 1: by country (line values).
void BM_YearRanking(benchmark::State& state) {
  const auto& a = Year();
  const char* by = state.range(0) == 0 ? "enterprise" : "country";
  for (auto _ : state)
    benchmark::DoNotOptimize(a.Rank(by, stats::Direction::kImport, 19723, 19723 + 364, "142"));
  state.SetLabel(by);
}
BENCHMARK(BM_YearRanking)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kuajing

BENCHMARK_MAIN();
