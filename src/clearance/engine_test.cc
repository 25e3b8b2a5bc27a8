#include "clearance/engine.h"

#include <gtest/gtest.h>

#include <map>

#include "app/demo_batch.h"
#include "common/civil_time.h"
#include "test_util.h"

namespace kuajing::clearance {
namespace {

reference::ReferenceData Reference() { return testing::ShippedReference(); }

codec::DecodedMessage Decoded(const std::string& xml) {
  return std::get<codec::DecodedMessage>(codec::Decode(xml));
}

TEST(Engine, TheSenderMustBeKnownForEveryDocument) {
  auto ref = Reference();
  Engine e(&ref, RulesConfig{});
  app::ClearanceMessages m = app::MakeClearance(app::DemoClearances()[0]);
  StepResult r = e.Process(Decoded(m.order), "", *ParseAppTime("20240611100000"));
  ASSERT_EQ(r.receipts.size(), 1u);
  EXPECT_EQ(r.receipts[0].status, "-10102");  // an empty sender is nobody
}

TEST(Engine, IsDeterministicAndRestoresToTheSameState) {
  auto ref = Reference();
  RulesConfig rules;
  rules.random_inspection_rate = *Decimal::Parse("0.3");
  std::map<std::pair<std::string, std::string>, StateChange> rows_a, rows_b;
  Engine a(&ref, rules), b(&ref, rules);
  // Senders come from BaseTransfer in the platform; here we pass each message's own.
  auto run = [&](Engine& e, std::map<std::pair<std::string, std::string>, StateChange>* rows) {
    std::vector<std::string> out;
    int64_t now = *ParseAppTime("20240611100000");
    for (const app::ClearanceSpec& s : app::DemoClearances()) {
      app::ClearanceMessages m = app::MakeClearance(s);
      for (const std::string* xml : {&m.payment, &m.inventory, &m.waybill, &m.order}) {
        codec::DecodedMessage d = Decoded(*xml);
        StepResult r = e.Process(d, d.message.base_transfer->copCode, now += 500);
        for (const Emitted& x : r.receipts)
          out.push_back(std::string(model::MessageTypeName(x.type)) + " " + x.status);
        for (StateChange& c : r.changes) (*rows)[{c.kind, c.key}] = std::move(c);
      }
    }
    return out;
  };
  std::vector<std::string> first = run(a, &rows_a);
  EXPECT_EQ(first, run(b, &rows_b));
  EXPECT_GT(first.size(), 40u);
  EXPECT_NE(std::find(first.begin(), first.end(), "CEB622 500"), first.end())
      << "30 % inspection drew none";

  // A fresh engine fed the stored rows has the same state: same quota, same counts, and it
  // answers the next message exactly as the original does.
  Engine c(&ref, rules);
  for (const auto& [k, row] : rows_a) {
    if (!row.erase) {
      ASSERT_TRUE(c.Restore(row).ok());
    }
  }
  for (const app::ClearanceSpec& s : app::DemoClearances()) {
    EXPECT_EQ(c.Quota(s.buyer_id, 2024).used, a.Quota(s.buyer_id, 2024).used);
  }
  EXPECT_EQ(c.counts().released, a.counts().released);
  EXPECT_EQ(c.counts().held, a.counts().held);
  app::ClearanceSpec next = app::DemoClearances()[0];
  next.order_no = "HY-NEXT";
  next.logistics_no = "XN-NEXT";
  app::ClearanceMessages m = app::MakeClearance(next);
  for (const std::string* xml : {&m.order, &m.payment, &m.waybill, &m.inventory}) {
    codec::DecodedMessage d = Decoded(*xml);
    StepResult ra = a.Process(d, d.message.base_transfer->copCode, 1718100000000);
    StepResult rc = c.Process(d, d.message.base_transfer->copCode, 1718100000000);
    ASSERT_EQ(ra.receipts.size(), rc.receipts.size());
    for (size_t i = 0; i < ra.receipts.size(); ++i) {
      EXPECT_EQ(ra.receipts[i].status, rc.receipts[i].status);
      EXPECT_EQ(ra.receipts[i].receipt, rc.receipts[i].receipt);
    }
  }
}

TEST(Engine, OfficerDecisionsNeedAHeldList) {
  auto ref = Reference();
  Engine e(&ref, RulesConfig{});
  auto r = e.Decide(
      OfficerDecision{"49002024I000000001", OfficerDecision::Action::kRelease, "", "x"}, 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace kuajing::clearance
