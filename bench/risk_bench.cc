// The risk engine's cost (issue 6): time to assess and observe one list with the shipped rules,
// and the memory the velocity state holds per buyer.
//
//   build-release/bench/risk_bench
#include <benchmark/benchmark.h>

#include <string>

#include "app/demo_batch.h"
#include "bench_util.h"
#include "codec/codec.h"
#include "risk/risk.h"

namespace kuajing {
namespace {

using bench::Rss;

std::shared_ptr<const risk::Rules> Shipped() {
  auto r = risk::LoadRules(KJ_SOURCE_DIR "/config/risk-rules.toml");
  if (!r.ok()) std::abort();
  return std::make_shared<const risk::Rules>(std::move(*r));
}

// Assess + Observe of one list, against a history of `state.range(0)` distinct buyers.
void BM_AssessAndObserve(benchmark::State& state) {
  risk::RiskEngine e(Shipped());
  std::vector<model::Inventory> lists;
  for (const auto& spec : app::GeneratedClearances(0, 1000)) {
    auto m = app::MakeClearance(spec);
    auto d = codec::Decode(m.inventory);
    lists.push_back(
        std::get<model::Inventory>(std::get<codec::DecodedMessage>(d).message.records.at(0)));
  }
  model::InventoryHead h = lists[0].head;
  for (int64_t i = 0; i < state.range(0); ++i) {
    h.buyerIdNumber = app::MakeResidentId(static_cast<uint64_t>(i) + 5'000'000);
    h.buyerTelephone = "139" + std::to_string(10'000'000 + i);
    h.consigneeAddress = "湖南省衡阳市蒸湘区解放大道" + std::to_string(i) + "号";
    e.Observe(h, Decimal::FromUnits(300), 1718000000000 + i);
  }
  int64_t now = 1718100000000;
  size_t i = 0;
  for (auto _ : state) {
    const model::Inventory& l = lists[i++ % lists.size()];
    risk::Verdict v =
        e.Assess(risk::ListFacts{&l, nullptr, nullptr, nullptr, Decimal::FromUnits(300)}, now);
    benchmark::DoNotOptimize(v);
    e.Observe(l.head, Decimal::FromUnits(300), now += 1000);
  }
}
BENCHMARK(BM_AssessAndObserve)->Arg(0)->Arg(1'000'000);

// Observes `n` buyers, each seen once (a buyer ID, a phone and an address), the i-th at
// first_ms + i * step_ms; returns the growth of resident memory per buyer, and the identities the
// engine holds at the end.
double BytesPerBuyer(int64_t n, int64_t first_ms, int64_t step_ms, size_t* identities) {
  const int64_t before = Rss();
  auto e = std::make_unique<risk::RiskEngine>(Shipped());
  model::InventoryHead h;
  h.ebpCode = "4304961001";
  for (int64_t i = 0; i < n; ++i) {
    h.buyerIdNumber = app::MakeResidentId(static_cast<uint64_t>(i));
    h.buyerTelephone = "139" + std::to_string(10'000'000 + i);
    h.consigneeAddress = "湖南省衡阳市蒸湘区解放大道" + std::to_string(i) + "号";
    e->Observe(h, Decimal::FromUnits(300), first_ms + i * step_ms);
  }
  *identities = e->keys();
  return static_cast<double>(Rss() - before) / static_cast<double>(n);
}

// Memory: `state.range(0)` buyers within a few minutes: every one is held.
void BM_MemoryPerBuyer(benchmark::State& state) {
  for (auto _ : state) {
    size_t identities = 0;
    state.counters["bytes_per_buyer"] =
        BytesPerBuyer(state.range(0), 1718000000000, 1, &identities);
  }
}
BENCHMARK(BM_MemoryPerBuyer)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

// Memory over a year (issue 7, goal 4): `state.range(0)` buyers spread evenly over 365 days. The
// shipped rules' longest window is 30 days, so the engine holds the buyers of about the last 30
// (to 60: it forgets only when its table fills); bytes per buyer of the year.
void BM_MemoryYearOfBuyers(benchmark::State& state) {
  for (auto _ : state) {
    const int64_t year_ms = int64_t{365} * 86'400'000;
    size_t identities = 0;
    state.counters["bytes_per_buyer"] =
        BytesPerBuyer(state.range(0), 1704038400000, year_ms / state.range(0), &identities);
    state.counters["identities_held"] = static_cast<double>(identities);
  }
}
BENCHMARK(BM_MemoryYearOfBuyers)->Arg(10'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kuajing

BENCHMARK_MAIN();
