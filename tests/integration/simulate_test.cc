// `kuajing simulate` (issue 5): the stream is reproducible, looks like a zone's traffic (the
// troubles it plants come back as the standard's refusals; cancellations and returns are
// accepted), and after the whole mixed stream the live statistics equal a recount from the stored
// lists (a reopened platform rebuilds them).
#include "app/simulate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "app/platform.h"
#include "codec/codec.h"
#include "common/civil_time.h"
#include "test_util.h"

namespace kuajing::app {
namespace {

namespace fs = std::filesystem;

SimulationOptions Small(uint64_t seed) {
  SimulationOptions o;
  o.seed = seed;
  o.first_day_ms = *ParseDate8("20240610");
  o.days = 3;
  o.imports_per_day = 400;
  o.exports_per_day = 60;
  o.mismatch_share = 0.02;
  o.malformed_share = 0.01;
  o.cancel_share = 0.03;
  o.return_share = 0.05;
  return o;
}

TEST(Simulate, TheSameSeedGivesTheSameStreamInTimeOrder) {
  Simulator a(Small(5)), b(Small(5)), c(Small(6));
  SimEvent x, y, z;
  int64_t last = 0;
  uint64_t same = 0, differ = 0, n = 0;
  std::set<std::string> kinds;
  while (a.Next(&x)) {
    ASSERT_TRUE(b.Next(&y));
    ASSERT_EQ(x.at_ms, y.at_ms);
    ASSERT_EQ(x.xml, y.xml);
    ASSERT_GE(x.at_ms, last);  // in time order
    ASSERT_LT(x.at_ms, Small(5).first_day_ms + 3 * kMillisPerDay);
    last = x.at_ms;
    kinds.insert(x.kind);
    if (c.Next(&z)) (z.xml == x.xml ? same : differ)++;
    // Every message but the planted broken ones is a well-formed declaration of the standard.
    if (x.kind != "malformed") {
      ASSERT_TRUE(std::holds_alternative<codec::DecodedMessage>(codec::Decode(x.xml)))
          << x.kind << "\n"
          << x.xml.substr(0, 400);
    }
    ++n;
  }
  EXPECT_FALSE(b.Next(&y));
  EXPECT_GT(n, 3 * 400 * 4u);
  EXPECT_EQ(same, 0u);  // another seed, other traffic
  EXPECT_GT(differ, 0u);
  for (const char* k : {"order", "payment", "waybill", "inventory", "malformed", "x_order",
                        "x_inventory", "x_arrival", "x_departure"})
    EXPECT_TRUE(kinds.count(k)) << k;
}

TEST(Simulate, PresetsScaleTheirVolumes) {
  SimulationOptions o;
  ASSERT_TRUE(PresetOptions("hengyang-year", 0.5, &o));
  EXPECT_EQ(o.days, 365);
  EXPECT_NEAR(o.imports_per_day * 365, 21000, 1);
  EXPECT_NEAR(o.exports_per_day * 365, 555000, 1);
  ASSERT_TRUE(PresetOptions("double11", 0.001, &o));
  EXPECT_EQ(o.days, 1);
  EXPECT_NEAR(o.imports_per_day, 122400, 1e-6);  // 85,000 a minute, a day, times 0.001
  EXPECT_FALSE(PresetOptions("christmas", 1, &o));
  EXPECT_FALSE(PresetOptions("day", 0, &o));
  EXPECT_FALSE(PresetOptions("day", 11, &o));
}

TEST(Simulate, AMixedStreamClearsAndTheStatisticsEqualARecount) {
  const kuajing::testing::ScopedTempDir temp("kuajing-simulate-");
  const fs::path& dir = temp.path();
  PlatformOptions o;
  o.data_dir = dir.string();
  o.reference_dir = KJ_SOURCE_DIR "/data/reference";
  auto p = Platform::Open(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Simulator sim(Small(11));
  auto refused = SimulateInto(**p, sim);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  const Simulator::Counts& c = sim.counts();
  EXPECT_GT(c.cancels, 10u);
  EXPECT_GT(c.returns, 10u);

  const int64_t from = CstDay(*ParseDate8("20240601"));
  const int64_t to = CstDay(*ParseDate8("20240630"));
  const stats::Aggregates& live = (*p)->stats();
  std::map<std::string, int64_t> by_code;
  for (const auto& r : live.Refusals(from, to)) by_code[r.receipt_type + " " + r.status] = r.count;
  // The planted troubles come back as the standard's refusals.
  EXPECT_EQ(by_code["CEB900 -1"] + by_code["CEB900 -2"], static_cast<int64_t>(c.malformed));
  EXPECT_GE(by_code["CEB622 -621003"], static_cast<int64_t>(c.mismatched) * 9 / 10);
  EXPECT_GT(by_code["CEB622 -621005"], 0);
  // Cancellations and returns are accepted, not refused.
  int64_t after_release_refused = 0;
  for (const auto& [k, n] : by_code)
    if (k.starts_with("CEB624 ") || k.starts_with("CEB626 ")) after_release_refused += n;
  EXPECT_EQ(after_release_refused, 0) << "a cancellation or return was refused";
  const auto imports = live.Total(stats::Direction::kImport, from, to);
  const auto exports = live.Total(stats::Direction::kExport, from, to);
  EXPECT_GT(imports.lists, static_cast<int64_t>(c.imports) * 8 / 10);
  EXPECT_GT(exports.lists, 0);
  int64_t timed = 0;
  for (int64_t n : live.ClearanceHistogram(from, to)) timed += n;
  EXPECT_EQ(timed, imports.lists);  // every counted import list has a clearance time

  // The recount: a platform reopened on the same folder rebuilds the aggregates from the stored
  // lists (and reads the stored refusal counts); they must be the same.
  const stats::Aggregates copy = live;
  const auto im = (*p)->engine().counts();
  const auto ex = (*p)->export_engine().counts(0);
  EXPECT_EQ(im.released, static_cast<size_t>(imports.lists));
  p->reset();
  auto again = Platform::Open(o);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->stats() == copy);
  // The lists' counts by state, kept as lists change, equal a count afresh from the store.
  const auto im2 = (*again)->engine().counts();
  const auto ex2 = (*again)->export_engine().counts(0);
  EXPECT_EQ(std::tie(im.waiting, im.held, im.released),
            std::tie(im2.waiting, im2.held, im2.released));
  EXPECT_EQ(std::tie(ex.waiting, ex.concluded, ex.released, ex.closed),
            std::tie(ex2.waiting, ex2.concluded, ex2.released, ex2.closed));
  again->reset();
}

}  // namespace
}  // namespace kuajing::app
