// Replay (issue 6): a stretch of a zone's life — imports under risk rules v1, an officer's
// decisions, a reload to rules v2, more imports, a month of exports and its summary — is decided
// again from the stored messages. With the recorded rules every receipt comes out byte for byte
// the same; with other rules the what-if report shows the decisions that change.
#include "app/replay.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "app/demo_batch.h"
#include "app/export_batch.h"
#include "app/platform.h"
#include "common/civil_time.h"
#include "test_util.h"

namespace kuajing {
namespace {

namespace fs = std::filesystem;

TEST(Replay, IdenticalWithTheRecordedRulesAndAWhatIfWithOthers) {
  const kuajing::testing::ScopedTempDir temp("kj-replay-");
  const fs::path& dir = temp.path();
  fs::create_directories(dir);
  const std::string base = testing::ReadFile(KJ_SOURCE_DIR "/tests/golden/risk/rules.toml");
  ASSERT_FALSE(base.empty());
  const fs::path rules_file = dir / "rules.toml";
  std::ofstream(rules_file) << base;

  app::PlatformOptions o;
  o.data_dir = (dir / "zone").string();
  o.reference_dir = KJ_SOURCE_DIR "/data/reference";
  o.risk_rules_path = rules_file.string();
  o.rules.random_inspection_rate = *Decimal::Parse("0.2");  // replayed too: it is seeded
  {
    auto rules = risk::LoadRules(o.risk_rules_path);
    ASSERT_TRUE(rules.ok());
    o.rules.risk_rules = std::make_shared<const risk::Rules>(std::move(*rules));
  }
  auto opened = app::Platform::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  app::Platform& p = **opened;
  int64_t now = *ParseAppTime("20240611100000");
  auto send_batch = [&](uint64_t first, uint64_t n) {
    app::BatchMessages b = app::MakeBatch(app::GeneratedClearances(first, n));
    for (const std::string* xml : {&b.inventories, &b.orders, &b.payments, &b.waybills}) {
      ASSERT_TRUE(p.Submit(*xml, "", now += 1000).ok());
    }
  };
  send_batch(0, 60);
  // The officer releases or rejects what is held.
  int decided = 0;
  for (const auto& h : p.engine().Held(10)) {
    clearance::OfficerDecision d;
    d.invt_no = h.invt_no;
    d.action = decided++ % 2 ? clearance::OfficerDecision::Action::kRelease
                             : clearance::OfficerDecision::Action::kReject;
    d.reason = "checked";
    d.officer = "officer:test";
    ASSERT_TRUE(p.Decide(d, now += 1000).ok());
  }
  ASSERT_GT(decided, 0);
  // The officer's refusals after inspection are findings: the declaring agent's computed credit
  // grade is D (inspected at 0.8). An officer pins it to A (inspected at a fifth of 0.2), so a
  // replay that forgot the correction would decide the lists below differently.
  auto agent = p.credit().View("4304963001", now);
  ASSERT_TRUE(agent.has_value());
  ASSERT_EQ(agent->computed, credit::Grade::kD) << agent->Explain();
  app::Platform::CreditCorrection pin;
  pin.subject = "4304963001";
  pin.grade = credit::Grade::kA;
  pin.reason = "appeal upheld";
  pin.officer = "officer:test";
  ASSERT_TRUE(p.CorrectCredit(pin, now += 1000).ok());
  const int64_t reload_at = now;
  // Rules v2: a stricter velocity rule, reloaded without a restart.
  std::string v2 = base;
  v2.replace(v2.find("version = \"golden-1\""), 20, "version = \"golden-2\"");
  v2.replace(v2.find("max_count = 3"), 13, "max_count = 1");
  std::ofstream(rules_file, std::ios::trunc) << v2;
  auto version = p.ReloadRiskRules();
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->rfind("golden-2#", 0), 0u);
  send_batch(1000, 60);
  // Exports and their summary.
  for (const auto& s : app::GeneratedExports(1, 30, 2024, 6)) {
    app::ExportMessages m = app::MakeExport(s);
    for (const std::string* xml :
         {&m.order, &m.receipts, &m.waybill, &m.inventory, &m.arrival, &m.departure})
      ASSERT_TRUE(p.Submit(*xml, "", now += 1000).ok());
  }
  ASSERT_TRUE(p.SummarizeMonth({2024, 6, "1", "1"}, now += 86400000).ok());
  opened->reset();

  app::ReplayOptions r;
  r.platform = o;
  r.scratch_dir = (dir / "scratch").string();
  auto same = app::Replay(r);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_GT(same->compared, 150);
  EXPECT_EQ(same->identical, same->compared) << app::FormatReport(*same, false);
  EXPECT_EQ(same->differing, 0);
  ASSERT_EQ(same->rules_versions.size(), 2u);
  EXPECT_EQ(same->rules_versions[1].rfind("golden-2#", 0), 0u);

  // Only the second half: still identical (the state before `from` is rebuilt, not compared).
  r.from_ms = reload_at;
  auto half = app::Replay(r);
  ASSERT_TRUE(half.ok());
  EXPECT_LT(half->compared, same->compared);
  EXPECT_EQ(half->differing, 0);

  // What if the zone had had no risk rules at all from the reload on?
  auto none = risk::ParseRules("version = \"empty\"\n");
  ASSERT_TRUE(none.ok());
  r.what_if = std::make_shared<const risk::Rules>(std::move(*none));
  auto what_if = app::Replay(r);
  ASSERT_TRUE(what_if.ok());
  EXPECT_GT(what_if->differing, 0) << app::FormatReport(*what_if, true);
  int64_t held_before = 0, held_after = 0;
  for (const auto& [k, n] : what_if->decision_changes) {
    if (k.first == "300" || k.first == "500") held_before += n;
    if (k.second == "300" || k.second == "500") held_after += n;
  }
  EXPECT_LT(held_after, held_before) << app::FormatReport(*what_if, true);
}

}  // namespace
}  // namespace kuajing
