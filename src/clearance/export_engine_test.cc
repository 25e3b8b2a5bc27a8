#include "clearance/export_engine.h"

#include <gtest/gtest.h>

#include <map>

#include "app/export_batch.h"
#include "app/platform.h"
#include "common/civil_time.h"
#include "test_util.h"

namespace kuajing::clearance {
namespace {

reference::ReferenceData Reference() { return testing::ShippedReference(); }

using Rows = std::map<std::pair<std::string, std::string>, StateChange>;

// Runs a small month through an engine: every receipt's bytes in order, and the state rows.
std::vector<std::string> RunMonth(ExportEngine& e, Rows* rows) {
  std::vector<std::string> out;
  int64_t now = *ParseAppTime("20240601080000");
  auto apply = [&](const StepResult& r) {
    for (const Emitted& x : r.receipts) out.push_back(app::EncodeReceipt(x).xml);
    for (const StateChange& c : r.changes) (*rows)[{c.kind, c.key}] = c;
  };
  for (const auto& s : app::GeneratedExports(1, 40, 2024, 6)) {
    app::ExportMessages m = app::MakeExport(s);
    for (const std::string* xml :
         {&m.inventory, &m.arrival, &m.order, &m.waybill, &m.receipts, &m.departure}) {
      auto d = std::get<codec::DecodedMessage>(codec::Decode(*xml));
      apply(e.Process(d, d.message.base_transfer->copCode, now += 1000));
    }
  }
  model::exp::SummaryApply a;
  a.head = model::exp::SummaryApplyHead{
      "A1B2C3D4-0000-0000-0000-000000000001", "1", "20240716000000", "2", "4900", "KJ-TEST-1"};
  a.head.agentCode = a.head.declAgentCode = "4304963001";
  a.head.agentName = a.head.declAgentName = "衡阳综保区报关服务有限公司";
  a.head.ebcCode = "4304962002";
  a.head.ebcName = "衡阳雁城母婴用品进出口有限公司";
  a.head.startTime = "20240601000000";
  a.head.endTime = "20240630235959";
  a.head.summaryFlag = "2";
  a.head.itemNameFlag = "1";
  a.head.msgCount = a.head.msgSeqNo = 1;
  apply(e.SummarizeOnBehalf(a, *ParseAppTime("20240716000000")));
  return out;
}

TEST(ExportEngine, IsDeterministicAndRestoresToTheSameState) {
  auto ref = Reference();
  ExportEngine a(&ref, RulesConfig{}), b(&ref, RulesConfig{});
  Rows rows_a, rows_b;
  const std::vector<std::string> ra = RunMonth(a, &rows_a), rb = RunMonth(b, &rows_b);
  ASSERT_GT(ra.size(), 200u);
  EXPECT_EQ(ra, rb);  // the same receipts, byte for byte, guids included
  ASSERT_EQ(rows_a.size(), rows_b.size());
  for (const auto& [k, row] : rows_a) EXPECT_EQ(row.value, rows_b.at(k).value) << k.first;

  // An engine restored from the rows answers every query as the one that made them.
  ExportEngine c(&ref, RulesConfig{});
  for (const auto& [k, row] : rows_a) {
    if (row.erase) continue;
    ASSERT_TRUE(c.Restore(row).ok()) << k.first;
  }
  const int64_t now = *ParseAppTime("20240720000000");
  EXPECT_EQ(c.counts(now).closed, a.counts(now).closed);
  EXPECT_EQ(c.counts(now).summaries, 1u);
  ASSERT_EQ(c.Summaries("", 10).size(), 1u);
  EXPECT_EQ(c.Summaries("", 10)[0].declarations.size(), a.Summaries("", 10)[0].declarations.size());
  EXPECT_EQ(c.Ledger("4304962002", 0, INT64_MAX).size(),
            a.Ledger("4304962002", 0, INT64_MAX).size());
  EXPECT_FALSE(c.Dues(now, 10).at(0).late);
}

TEST(ExportEngine, AListIsReleasedOnlyAfterItsArrival) {
  auto ref = Reference();
  ExportEngine e(&ref, RulesConfig{});
  app::ExportMessages m = app::MakeExport(app::GeneratedExports(7, 1, 2024, 6)[0]);
  int64_t now = *ParseAppTime("20240602080000");
  auto send = [&](const std::string& xml) {
    auto d = std::get<codec::DecodedMessage>(codec::Decode(xml));
    std::vector<std::string> st;
    for (const Emitted& x : e.Process(d, d.message.base_transfer->copCode, now += 1000).receipts)
      st.push_back(std::string(model::MessageTypeName(x.type)) + " " + x.status);
    return st;
  };
  send(m.order);
  send(m.waybill);
  EXPECT_EQ(send(m.inventory), (std::vector<std::string>{"CEB604 120", "CEB604 399"}));
  EXPECT_EQ(send(m.departure), (std::vector<std::string>{"CEB510 -506104"}));
  EXPECT_EQ(send(m.arrival), (std::vector<std::string>{"CEB604 800", "CEB508 399"}));
  EXPECT_EQ(send(m.departure), (std::vector<std::string>{"CEB604 899", "CEB510 399"}));
}

}  // namespace
}  // namespace kuajing::clearance
