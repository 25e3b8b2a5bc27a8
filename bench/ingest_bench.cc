// End to end and durable: Platform::Submit of batched messages (100 documents each) into a fresh
// SQLite store (WAL, synchronous=FULL): decode, rules, receipts, one fsync'd commit per message.
// Items = complete clearances (order + payment + waybill + inventory list).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "app/demo_batch.h"
#include "app/platform.h"
#include "common/civil_time.h"

namespace kuajing {
namespace {

namespace fs = std::filesystem;

void BM_IngestDurable(benchmark::State& state) {
  const uint64_t batch = static_cast<uint64_t>(state.range(0));
  const uint64_t clearances = 2000;
  std::vector<std::string> messages;
  for (uint64_t i = 0; i < clearances; i += batch) {
    app::BatchMessages b = app::MakeBatch(app::GeneratedClearances(i, batch));
    for (std::string* xml : {&b.inventories, &b.orders, &b.payments, &b.waybills})
      messages.push_back(std::move(*xml));
  }
  size_t bytes = 0;
  for (const auto& m : messages) bytes += m.size();
  const int64_t now = *ParseAppTime("20240611100000");
  for (auto _ : state) {
    state.PauseTiming();
    fs::path dir = fs::temp_directory_path() / ("kj-bench-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    app::PlatformOptions o;
    o.data_dir = dir.string();
    o.reference_dir = KJ_SOURCE_DIR "/data/reference";
    auto p = app::Platform::Open(o);
    state.ResumeTiming();
    for (const auto& m : messages) benchmark::DoNotOptimize((*p)->Submit(m, "", now));
    state.PauseTiming();
    p->reset();
    fs::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * clearances));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
// Wall-clock rates: the fsync waits are the point of this benchmark.
BENCHMARK(BM_IngestDurable)
    ->Arg(1)
    ->Arg(10)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();

}  // namespace
}  // namespace kuajing

BENCHMARK_MAIN();
