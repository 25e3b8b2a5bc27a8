// What the import engine holds in memory (issue 7, goal 4), per clearance and per buyer, measured
// as the growth of this process's resident memory while the engine takes N generated clearances
// (each a new buyer) with no store behind it. One benchmark per process (RSS does not grow while
// freed heap is reused):
//
//   for b in Pending Released ReleasedOutOfMemory Buyers; do build-release/bench/memory_bench
//   --benchmark_filter=$b; done
//
// Pending: only the inventory list arrived; it waits for its order, payment and waybill.
// Released: all four arrived and the list was released, the buyer's annual amount counted, with
// no store behind the engine, so it keeps every released list. ReleasedOutOfMemory: the same
// with a state reader, as the platform runs it: after each step the released clearance leaves
// memory (Engine::Evict) and what stays is its keys' fingerprints and the buyer's amount. The
// reader stands for the store and holds nothing (a stream of new clearances reads nothing back;
// `reads` counts the fingerprint collisions).
// Buyers: the annual amount and the declared name of N buyers (clearance::QuotaBook), and the same
// in the maps the engine used before it (BuyersAsMaps), for the ratio.
#include <benchmark/benchmark.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "app/demo_batch.h"
#include "bench_util.h"
#include "clearance/engine.h"
#include "clearance/quota_book.h"
#include "common/civil_time.h"
#include "reference/reference_data.h"

namespace kuajing {
namespace {

using bench::Rss;

void Run(benchmark::State& state, bool complete, bool evict = false) {
  auto ref = reference::ReferenceData::LoadDir(KJ_SOURCE_DIR "/data/reference");
  if (!ref.ok()) std::abort();
  const int64_t n = state.range(0);
  for (auto _ : state) {
    // Messages are made and read 100 at a time, so that only the engine's state stays.
    const int64_t before = Rss();
    auto engine = std::make_unique<clearance::Engine>(&*ref, clearance::RulesConfig{});
    int64_t reads = 0;
    if (evict) {
      engine->SetStateReader([&reads](std::string_view, std::string_view) {
        ++reads;
        return StatusOr<std::optional<std::string>>(std::optional<std::string>());
      });
    }
    int64_t now = *ParseAppTime("20240611100000");
    for (int64_t first = 0; first < n; first += 100) {
      app::BatchMessages m =
          app::MakeBatch(app::GeneratedClearances(static_cast<uint64_t>(first), 100));
      std::vector<const std::string*> docs = {&m.inventories};
      if (complete) docs = {&m.inventories, &m.orders, &m.payments, &m.waybills};
      for (const std::string* xml : docs) {
        auto d = std::get<codec::DecodedMessage>(codec::Decode(*xml));
        // Given up, as the platform gives it (the engine keeps the documents it moves out).
        const std::string sender = d.message.base_transfer->copCode;
        benchmark::DoNotOptimize(engine->Process(std::move(d), sender, now += 10));
        engine->Evict();  // nothing without a reader
      }
    }
    const auto counts = engine->counts();
    state.counters["bytes_per_clearance"] =
        static_cast<double>(Rss() - before) / static_cast<double>(n);
    state.counters["released"] = static_cast<double>(counts.released);
    state.counters["waiting"] = static_cast<double>(counts.waiting);
    state.counters["held"] = static_cast<double>(counts.held);
    state.counters["in_store_only"] = static_cast<double>(counts.in_store_only);
    state.counters["reads"] = static_cast<double>(reads);
    benchmark::DoNotOptimize(engine);
  }
}

void BM_Pending(benchmark::State& state) { Run(state, false); }
void BM_Released(benchmark::State& state) { Run(state, true); }
void BM_ReleasedOutOfMemory(benchmark::State& state) { Run(state, true, true); }
// A resident ID for buyer n (the check digit is not verified here).
std::string BuyerId(int64_t n) { return std::to_string(110101199000000000LL + n * 37); }

void BM_Buyers(benchmark::State& state) {
  const int64_t n = state.range(0);
  for (auto _ : state) {
    const int64_t before = Rss();
    clearance::QuotaBook book;
    for (int64_t i = 0; i < n; ++i) {
      const std::string id = BuyerId(i);
      book.Used(id, 2024) += Decimal::FromUnits(100);
      book.NoteName(id, "张三");
    }
    state.counters["bytes_per_buyer"] =
        static_cast<double>(Rss() - before) / static_cast<double>(n);
    benchmark::DoNotOptimize(book);
  }
}

void BM_BuyersAsMaps(benchmark::State& state) {
  const int64_t n = state.range(0);
  for (auto _ : state) {
    const int64_t before = Rss();
    std::unordered_map<std::string, Decimal> quota;                   // "ID|year"
    std::unordered_map<std::string, std::vector<std::string>> names;  // ID -> names
    for (int64_t i = 0; i < n; ++i) {
      const std::string id = BuyerId(i);
      quota[id + "|2024"] += Decimal::FromUnits(100);
      names[id].push_back("张三");
    }
    state.counters["bytes_per_buyer"] =
        static_cast<double>(Rss() - before) / static_cast<double>(n);
    benchmark::DoNotOptimize(quota);
    benchmark::DoNotOptimize(names);
  }
}

BENCHMARK(BM_Buyers)->Arg(10'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuyersAsMaps)->Arg(10'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Pending)->Arg(20'000)->Arg(200'000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Released)->Arg(200'000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReleasedOutOfMemory)
    ->Arg(200'000)
    ->Arg(1'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kuajing

BENCHMARK_MAIN();
