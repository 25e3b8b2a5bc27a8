#include "clearance/engine.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "app/demo_batch.h"
#include "clearance/state_rows.h"
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

// A state row as stores written before the packed form hold it: each packed record as canonical
// XML, a list's tax bill after '\x1e'.
std::string AsWrittenByOlderStores(const std::string& value) {
  const size_t at = value.find(codec::kPackedMagic);
  if (at == std::string::npos) return value;
  std::string out = value.substr(0, at);
  std::string_view rest = std::string_view(value).substr(at);
  bool first = true;
  while (!rest.empty()) {
    size_t used = 0;
    auto rec = codec::UnpackRecord(rest, &used);
    if (!rec.ok()) return "damaged";
    rest.remove_prefix(used);
    model::Message m;
    m.type = std::holds_alternative<model::Order>(*rec)       ? model::MessageType::kCEB311
             : std::holds_alternative<model::Payment>(*rec)   ? model::MessageType::kCEB411
             : std::holds_alternative<model::Logistics>(*rec) ? model::MessageType::kCEB511
             : std::holds_alternative<model::Inventory>(*rec) ? model::MessageType::kCEB621
                                                              : model::MessageType::kCEB816;
    m.guid = model::RecordGuid(*rec);
    m.records.push_back(std::move(*rec));
    if (!first) out += '\x1e';
    out += codec::Encode(m);
    first = false;
  }
  return out;
}

TEST(Engine, IsDeterministicAndRestoresToTheSameState) {
  auto ref = Reference();
  RulesConfig rules;
  rules.random_inspection_rate = *Decimal::Parse("0.3");
  std::map<std::pair<std::string, std::string>, StateChange> rows_a, rows_b;
  Engine a(&ref, rules), b(&ref, rules);
  // Senders come from BaseTransfer in the platform; here we pass each message's own. `give`:
  // the engine is given the message (Process(DecodedMessage&&), as the platform does) and moves
  // the documents it keeps out of it; else it copies them.
  std::vector<std::string> receipts_a, receipts_b;  // packed
  auto run = [&](Engine& e, std::map<std::pair<std::string, std::string>, StateChange>* rows,
                 std::vector<std::string>* receipts, bool give) {
    std::vector<std::string> out;
    int64_t now = *ParseAppTime("20240611100000");
    for (const app::ClearanceSpec& s : app::DemoClearances()) {
      app::ClearanceMessages m = app::MakeClearance(s);
      for (const std::string* xml : {&m.payment, &m.inventory, &m.waybill, &m.order}) {
        codec::DecodedMessage d = Decoded(*xml);
        const std::string sender = d.message.base_transfer->copCode;
        StepResult r =
            give ? e.Process(std::move(d), sender, now += 500) : e.Process(d, sender, now += 500);
        for (const Emitted& x : r.receipts) {
          out.push_back(std::string(model::MessageTypeName(x.type)) + " " + x.status);
          receipts->push_back(x.receipt);
        }
        for (StateChange& c : r.changes) (*rows)[{c.kind, c.key}] = std::move(c);
      }
    }
    return out;
  };
  std::vector<std::string> first = run(a, &rows_a, &receipts_a, false);
  EXPECT_EQ(first, run(b, &rows_b, &receipts_b, true));
  EXPECT_GT(first.size(), 40u);
  // Moving the documents in changes nothing the engine says or stores.
  EXPECT_TRUE(receipts_a == receipts_b);
  ASSERT_EQ(rows_a.size(), rows_b.size());
  for (const auto& [k, row] : rows_a) {
    ASSERT_TRUE(rows_b.count(k)) << k.first << " " << k.second;
    EXPECT_EQ(row.value, rows_b.at(k).value) << k.first << " " << k.second;
    EXPECT_EQ(row.erase, rows_b.at(k).erase) << k.first << " " << k.second;
  }
  EXPECT_NE(std::find(first.begin(), first.end(), "CEB622 500"), first.end())
      << "30 % inspection drew none";

  // A fresh engine fed the stored rows has the same state: same quota, same counts, and it
  // answers the next message exactly as the original does; also from rows in the XML form of
  // older stores.
  for (bool older : {false, true}) {
    SCOPED_TRACE(older ? "rows as older stores wrote them" : "packed rows");
    Engine c(&ref, rules);
    Engine& a_twin = older ? b : a;  // b has seen what a has: each is asked the next message once
    int taxed = 0;
    for (const auto& [k, row] : rows_a) {
      if (!row.erase) {
        StateChange stored = row;
        if (older) stored.value = AsWrittenByOlderStores(row.value);
        if (row.kind == "inventory") {
          const auto [list, tax] = rows::SplitRecords(
              std::string_view(stored.value).substr(stored.value.find(older ? '<' : '\x01')));
          taxed += tax.empty() ? 0 : 1;
        }
        ASSERT_TRUE(c.Restore(stored).ok()) << stored.value;
      }
    }
    EXPECT_GT(taxed, 0) << "some rows hold a list and its tax bill";
    for (const app::ClearanceSpec& s : app::DemoClearances()) {
      EXPECT_EQ(c.Quota(s.buyer_id, 2024).used, a_twin.Quota(s.buyer_id, 2024).used);
    }
    EXPECT_EQ(c.counts().released, a_twin.counts().released);
    EXPECT_EQ(c.counts().held, a_twin.counts().held);
    app::ClearanceSpec next = app::DemoClearances()[0];
    next.order_no = "HY-NEXT";
    next.logistics_no = "XN-NEXT";
    app::ClearanceMessages m = app::MakeClearance(next);
    for (const std::string* xml : {&m.order, &m.payment, &m.waybill, &m.inventory}) {
      codec::DecodedMessage d = Decoded(*xml);
      StepResult ra = a_twin.Process(d, d.message.base_transfer->copCode, 1718100000000);
      StepResult rc = c.Process(d, d.message.base_transfer->copCode, 1718100000000);
      ASSERT_EQ(ra.receipts.size(), rc.receipts.size());
      for (size_t i = 0; i < ra.receipts.size(); ++i) {
        EXPECT_EQ(ra.receipts[i].status, rc.receipts[i].status);
        EXPECT_EQ(ra.receipts[i].receipt, rc.receipts[i].receipt);
      }
    }
  }
}

// A list's row is written when it is declared and again when it changes or settles. A change
// declared while the list waits (appType 2) must reach its row, and so must the changed list when
// it is released (a row kept packed between writes, tried on 2026-12-04, must not go stale).
TEST(Engine, AListChangedWhileItWaitsIsStoredAsChanged) {
  auto ref = Reference();
  Engine e(&ref, RulesConfig{});
  app::ClearanceMessages m = app::MakeClearance(app::DemoClearances()[0]);
  int64_t now = *ParseAppTime("20240611100000");
  auto stored_list = [](const StepResult& r) -> std::optional<model::Inventory> {
    for (const StateChange& c : r.changes) {
      if (c.kind != "inventory" || c.erase) continue;
      std::string_view rest;
      const FieldsView header(c.value, &rest);
      auto list = rows::DecodeRecord<model::Inventory>(rows::SplitRecords(rest).first);
      if (list.ok()) return *list;
    }
    return std::nullopt;
  };
  codec::DecodedMessage first = Decoded(m.inventory);
  const std::string sender = first.message.base_transfer->copCode;
  codec::DecodedMessage change = first;
  auto& changed = std::get<model::Inventory>(change.message.records[0]);
  changed.head.appType = "2";
  changed.head.appTime = "20240611100100";
  changed.head.consigneeAddress = "湖南省衡阳市蒸湘区 changed while waiting";

  auto declared = stored_list(e.Process(std::move(first), sender, now += 500));
  ASSERT_TRUE(declared.has_value());
  EXPECT_NE(declared->head.consigneeAddress, changed.head.consigneeAddress);
  StepResult r = e.Process(change, sender, now += 500);
  ASSERT_FALSE(r.receipts.empty());
  EXPECT_EQ(r.receipts[0].status, "2") << "the change is accepted and waits";
  auto after_change = stored_list(r);
  ASSERT_TRUE(after_change.has_value());
  EXPECT_EQ(after_change->head.consigneeAddress, changed.head.consigneeAddress);
  EXPECT_EQ(after_change->head.appTime, "20240611100100");

  // The other documents come: the released list's row holds the change too.
  std::optional<model::Inventory> released;
  for (const std::string* xml : {&m.order, &m.payment, &m.waybill}) {
    codec::DecodedMessage d = Decoded(*xml);
    const std::string from = d.message.base_transfer->copCode;
    StepResult step = e.Process(std::move(d), from, now += 500);
    if (auto list = stored_list(step)) released = list;
  }
  ASSERT_TRUE(released.has_value()) << "the list was released with the last document";
  EXPECT_EQ(released->head.consigneeAddress, changed.head.consigneeAddress);
  EXPECT_EQ(e.counts().released, 1);
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
