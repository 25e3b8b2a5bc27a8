// Kernels of the clearance path, each against its floor: pugixml's bare parse of the same bytes.
//   codec_bench --benchmark_filter=. (see bench/README.md for the figures and the machine)
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <pugixml.hpp>
#include <sstream>

#include "app/demo_batch.h"
#include "clearance/engine.h"
#include "clearance/tax.h"
#include "codec/codec.h"
#include "common/civil_time.h"

namespace kuajing {
namespace {

// Every iteration here parses into new memory and frees it. glibc's malloc gave a buffer over its
// mmap threshold (128 KiB at first, such as pugixml's copy of a 270 KB message) its own mapping
// and unmapped it when freed, and trimmed the heap's top, so each iteration faulted its pages in
// again: 74,531 page faults in one run of the floor, which on these virtual machines (about 11 µs
// a fault, common/zeroed_array.h) made the bare parse run at 226-311 MB/s in some hours and
// 850-925 in others. What was measured then was the kernel's page faults, not the parse. Kept
// instead (the threshold at glibc's largest, the heap never trimmed), the same run takes 718
// faults and the parse runs at 925 MB/s (bench/README.md, goal 3). Set before any allocation.
const bool kHeapKept = [] {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
}();

const app::ClearanceMessages& One() {
  static const app::ClearanceMessages m = app::MakeClearance(app::GeneratedClearances(7, 1)[0]);
  return m;
}

const app::BatchMessages& Batch() {
  static const app::BatchMessages b = app::MakeBatch(app::GeneratedClearances(0, 100));
  return b;
}

void BM_PugixmlParseInventory(benchmark::State& state) {  // the floor
  const std::string& xml = One().inventory;
  for (auto _ : state) {
    pugi::xml_document doc;
    benchmark::DoNotOptimize(doc.load_buffer(xml.data(), xml.size()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * xml.size()));
}
BENCHMARK(BM_PugixmlParseInventory);

void BM_DecodeInventory(benchmark::State& state) {
  const std::string& xml = One().inventory;
  for (auto _ : state) benchmark::DoNotOptimize(codec::Decode(xml));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * xml.size()));
}
BENCHMARK(BM_DecodeInventory);

// Arg 0: Decode (the direct reader); 1: through pugixml's tree, the reader every message took
// before it (2026-12-06) and still the one for unusual forms and errors.
void BM_DecodeBatchOf100Inventories(benchmark::State& state) {
  const std::string& xml = Batch().inventories;
  const bool tree = state.range(0) == 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(tree ? codec::DecodeThroughTree(xml) : codec::Decode(xml));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * xml.size()));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_DecodeBatchOf100Inventories)->Arg(0)->Arg(1);

// Issue 7's floor: bare pugixml over the four messages of a batch of 100 clearances, as loadgen
// sends them (bytes/s here against loadgen's clearances/s x bytes per clearance).
void BM_PugixmlParseBatchOf100Clearances(benchmark::State& state) {
  const app::BatchMessages& b = Batch();
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string* xml : {&b.inventories, &b.orders, &b.payments, &b.waybills}) {
      pugi::xml_document doc;
      benchmark::DoNotOptimize(doc.load_buffer(xml->data(), xml->size()));
      bytes += xml->size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_PugixmlParseBatchOf100Clearances);

// The official sample messages of the import standard (spec/samples/import, 19 files): the set
// bench/compare-codecs reads with Java's and Python's XML stacks too. Items are messages.
const std::vector<std::string>& OfficialImportSamples() {
  static const std::vector<std::string> all = [] {
    std::vector<std::filesystem::path> paths;
    for (const auto& e :
         std::filesystem::directory_iterator(KJ_SOURCE_DIR "/spec/samples/import")) {
      paths.push_back(e.path());
    }
    std::sort(paths.begin(), paths.end());
    std::vector<std::string> out;
    for (const auto& p : paths) {
      std::ifstream in(p, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      out.push_back(ss.str());
    }
    return out;
  }();
  return all;
}

void BM_PugixmlParseOfficialSamples(benchmark::State& state) {  // the floor
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& xml : OfficialImportSamples()) {
      pugi::xml_document doc;
      benchmark::DoNotOptimize(doc.load_buffer(xml.data(), xml.size()));
      bytes += xml.size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(
      static_cast<int64_t>(state.iterations() * OfficialImportSamples().size()));
}
BENCHMARK(BM_PugixmlParseOfficialSamples);

// Args as BM_DecodeBatchOf100Inventories. The declarations' samples are signed (ds:Signature):
// the direct reader gives that part to pugixml.
void BM_DecodeOfficialSamples(benchmark::State& state) {
  codec::DecodeOptions lenient;  // some receipts' samples carry no BaseTransfer
  lenient.require_base_transfer = false;
  const bool tree = state.range(0) == 1;
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& xml : OfficialImportSamples()) {
      benchmark::DoNotOptimize(tree ? codec::DecodeThroughTree(xml, lenient)
                                    : codec::Decode(xml, lenient));
      bytes += xml.size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(
      static_cast<int64_t>(state.iterations() * OfficialImportSamples().size()));
}
BENCHMARK(BM_DecodeOfficialSamples)->Arg(0)->Arg(1);

void BM_EncodeInventory(benchmark::State& state) {
  auto d = std::get<codec::DecodedMessage>(codec::Decode(One().inventory));
  for (auto _ : state) benchmark::DoNotOptimize(codec::Encode(d.message));
}
BENCHMARK(BM_EncodeInventory);

void BM_AssessTax(benchmark::State& state) {
  std::vector<clearance::TaxLineInput> lines = {
      {1, "3304990000", Decimal::FromUnits(328), *Decimal::Parse("0.13"), *Decimal::Parse("0.15"),
       *Decimal::Parse("0.01")},
      {2, "1901101000", Decimal::FromUnits(536), *Decimal::Parse("0.13"), Decimal{},
       *Decimal::Parse("0.15")}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        clearance::AssessTax(lines, Decimal::FromUnits(20), false, *Decimal::Parse("0.7")));
  }
}
BENCHMARK(BM_AssessTax);

// The rule engine alone (no store): 100 complete clearances per iteration, four documents each,
// decoded beforehand. Items = clearances.
void BM_EngineClearances(benchmark::State& state) {
  static const auto ref = *reference::ReferenceData::LoadDir(KJ_SOURCE_DIR "/data/reference");
  const app::BatchMessages& b = Batch();
  std::vector<codec::DecodedMessage> decoded;
  for (const std::string* xml : {&b.inventories, &b.orders, &b.payments, &b.waybills}) {
    decoded.push_back(std::get<codec::DecodedMessage>(codec::Decode(*xml)));
  }
  int64_t now = *ParseAppTime("20240611100000");
  // Args: with the credit system (every document charged, grades for random inspection); with
  // the statistics (each release counted).
  const bool with_credit = state.range(0) == 1, with_stats = state.range(1) == 1;
  for (auto _ : state) {
    state.PauseTiming();
    credit::Book book{credit::Config{}};
    stats::Aggregates aggregates;
    auto engine = std::make_unique<clearance::Engine>(&ref, clearance::RulesConfig{},
                                                      with_credit ? &book : nullptr);
    if (with_stats) engine->SetStats(&aggregates);
    state.ResumeTiming();
    for (const auto& d : decoded) {
      benchmark::DoNotOptimize(engine->Process(d, d.message.base_transfer->copCode, now));
    }
    state.PauseTiming();
    engine.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_EngineClearances)->Args({0, 0})->Args({1, 0})->Args({0, 1})->Args({1, 1});

}  // namespace
}  // namespace kuajing

BENCHMARK_MAIN();
