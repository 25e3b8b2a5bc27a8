// Settled clearances leave memory and come back when a document names them (engine.h): the same
// traffic through an engine that keeps everything and one that evicts after every step must give
// the same answers, and so must an evicting engine restarted from the stored rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "app/demo_batch.h"
#include "clearance/engine.h"
#include "common/civil_time.h"
#include "test_util.h"

namespace kuajing::clearance {
namespace {

using Rows = std::map<std::pair<std::string, std::string>, std::string>;

// The committed state rows, as the store keeps them.
struct FakeStore {
  Rows rows;
  int reads = 0;
  void Apply(const StepResult& r) {
    for (const StateChange& c : r.changes) {
      if (c.erase) {
        rows.erase({c.kind, c.key});
      } else {
        rows[{c.kind, c.key}] = c.value;
      }
    }
  }
  StateReader Reader() {
    return [this](std::string_view kind, std::string_view key) {
      ++reads;
      auto it = rows.find({std::string(kind), std::string(key)});
      return StatusOr<std::optional<std::string>>(
          it == rows.end() ? std::optional<std::string>() : std::optional<std::string>(it->second));
    };
  }
};

std::string Status513(const app::ClearanceSpec& s, const std::string& app_time, int n) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<ceb:CEB513Message guid="6F1E2D3C-0000-4000-8000-)" +
         std::to_string(100000000000 + n) +
         R"(" version="1.0" xmlns:ceb="http://www.chinaport.gov.cn/ceb">
  <ceb:LogisticsStatus>
    <ceb:guid>7F1E2D3C-0000-4000-8000-)" +
         std::to_string(100000000000 + n) + R"(</ceb:guid>
    <ceb:appType>1</ceb:appType>
    <ceb:appTime>)" +
         app_time + R"(</ceb:appTime>
    <ceb:appStatus>2</ceb:appStatus>
    <ceb:logisticsCode>)" +
         s.logistics_code + R"(</ceb:logisticsCode>
    <ceb:logisticsName>湘南国际物流有限公司</ceb:logisticsName>
    <ceb:logisticsNo>)" +
         s.logistics_no + R"(</ceb:logisticsNo>
    <ceb:logisticsStatus>S</ceb:logisticsStatus>
    <ceb:logisticsTime>)" +
         app_time + R"(</ceb:logisticsTime>
  </ceb:LogisticsStatus>
  <ceb:BaseTransfer>
    <ceb:copCode>)" +
         s.logistics_code + R"(</ceb:copCode>
    <ceb:copName>sender</ceb:copName>
    <ceb:dxpMode>DXP</ceb:dxpMode>
    <ceb:dxpId>DXPENT0000000003</ceb:dxpId>
  </ceb:BaseTransfer>
</ceb:CEB513Message>)";
}

class Twins {
 public:
  explicit Twins(const reference::ReferenceData* ref, RulesConfig rules)
      : ref_(ref), rules_(rules), plain_(ref, rules), evicting_(ref, rules) {
    evicting_.SetStateReader(store_.Reader());
  }

  // Sends `xml` to both engines; their answers must agree. Returns the plain engine's.
  StepResult Send(const std::string& xml, int64_t now) {
    auto decoded = codec::Decode(xml);
    auto* d = std::get_if<codec::DecodedMessage>(&decoded);
    EXPECT_NE(d, nullptr) << xml;
    if (d == nullptr) return {};
    const std::string sender = d->message.base_transfer->copCode;
    StepResult a = plain_.Process(*d, sender, now);
    StepResult b = active().Process(*d, sender, now);
    Compare(a, b);
    store_.Apply(b);
    active().Evict();
    return a;
  }
  StepResult Decide(const OfficerDecision& d, int64_t now) {
    auto a = plain_.Decide(d, now);
    auto b = active().Decide(d, now);
    EXPECT_EQ(a.ok(), b.ok());
    if (!a.ok() || !b.ok()) return {};
    Compare(*a, *b);
    store_.Apply(*b);
    active().Evict();
    return std::move(*a);
  }

  // Replaces the evicting engine by a fresh one restored from the stored rows (a restart), as the
  // platform does it: the rows the engine does not want are passed over.
  void Restart() {
    restarted_ = std::make_unique<Engine>(ref_, rules_);
    restarted_->SetStateReader(store_.Reader());
    passed_over_ = 0;
    for (const auto& [k, value] : store_.rows) {
      if (!restarted_->RestoreWants(k.first, k.second)) {
        ++passed_over_;
        continue;
      }
      ASSERT_TRUE(restarted_->Restore(StateChange{k.first, k.second, value, false}).ok());
    }
  }
  // The rows the last Restart passed over.
  size_t passed_over() const { return passed_over_; }

  // Rows may differ where the stores differ (one written by an older kuajing): answers may not.
  void CompareAnswersOnly() { compare_rows_ = false; }

  Engine& plain() { return plain_; }
  Engine& active() { return restarted_ ? *restarted_ : evicting_; }
  FakeStore& store() { return store_; }

 private:
  void Compare(const StepResult& a, const StepResult& b) const {
    ASSERT_TRUE(b.status.ok()) << b.status.message();
    ASSERT_EQ(a.receipts.size(), b.receipts.size());
    for (size_t i = 0; i < a.receipts.size(); ++i) {
      EXPECT_EQ(a.receipts[i].status, b.receipts[i].status);
      EXPECT_EQ(a.receipts[i].receipt, b.receipts[i].receipt);
    }
    EXPECT_EQ(a.resend_guids, b.resend_guids);
    if (!compare_rows_) return;
    ASSERT_EQ(a.changes.size(), b.changes.size());
    for (size_t i = 0; i < a.changes.size(); ++i) {
      EXPECT_EQ(a.changes[i].kind, b.changes[i].kind);
      EXPECT_EQ(a.changes[i].key, b.changes[i].key);
      EXPECT_EQ(a.changes[i].value, b.changes[i].value) << a.changes[i].kind;
    }
    ASSERT_EQ(a.ledger.size(), b.ledger.size());
    for (size_t i = 0; i < a.ledger.size(); ++i) EXPECT_EQ(a.ledger[i].delta, b.ledger[i].delta);
  }

  const reference::ReferenceData* ref_;
  RulesConfig rules_;
  FakeStore store_;
  Engine plain_, evicting_;
  std::unique_ptr<Engine> restarted_;
  size_t passed_over_ = 0;
  bool compare_rows_ = true;
};

std::string InvtNoOf(const StepResult& r) {
  for (const Emitted& e : r.receipts) {
    auto receipt = codec::UnpackRecord(e.receipt);
    if (!receipt.ok()) return "";
    if (const auto* ret = std::get_if<model::InventoryReturn>(&*receipt))
      if (!ret->invtNo.empty()) return ret->invtNo;
  }
  return "";
}

bool Has(const StepResult& r, const std::string& status) {
  for (const Emitted& e : r.receipts)
    if (e.status == status) return true;
  return false;
}

TEST(EngineEviction, AnswersAsIfEverythingStayedInMemoryAlsoAfterARestart) {
  auto ref = testing::ShippedReference();
  RulesConfig rules;
  rules.random_inspection_rate = *Decimal::Parse("0.2");
  Twins t(&ref, rules);
  int64_t now = *ParseAppTime("20240611100000");
  const std::vector<app::ClearanceSpec> specs = app::GeneratedClearances(1, 240);
  struct Done {
    app::ClearanceSpec spec;
    std::string invt_no;
    app::ClearanceMessages m;
  };
  std::vector<Done> released, rejected;
  std::vector<std::string> held;
  size_t refused = 0;
  int n = 0;
  for (const app::ClearanceSpec& s : specs) {
    app::ClearanceMessages m = app::MakeClearance(s);
    const std::string* order[4] = {&m.order, &m.payment, &m.waybill, &m.inventory};
    std::rotate(order, order + n % 4, order + 4);  // every arrival order
    std::string invt_no;
    for (const std::string* xml : order) {
      StepResult r = t.Send(*xml, now += 1000);
      if (Has(r, "800")) invt_no = InvtNoOf(r);
      if (Has(r, "500") || Has(r, "300")) {
        held.push_back(InvtNoOf(r));
      }
      if (Has(r, "-621005") || Has(r, "-621006") || Has(r, "100")) {
        ++refused;
        rejected.push_back(Done{s, "", m});
      }
    }
    if (!invt_no.empty()) released.push_back(Done{s, invt_no, m});
    ++n;
  }
  ASSERT_GT(released.size(), 150u);
  ASSERT_GT(held.size(), 20u);
  ASSERT_GT(rejected.size(), 5u);
  // Held lists stay in memory; released and rejected ones left.
  EXPECT_EQ(t.active().counts().in_store_only, released.size() + refused);
  EXPECT_EQ(t.active().counts().released, t.plain().counts().released);
  EXPECT_EQ(t.active().counts().held, t.plain().counts().held);
  EXPECT_EQ(released.size() + held.size() + refused, specs.size());
  EXPECT_EQ(t.active().counts().inventories, held.size());

  // Officers release half of the held lists (they leave memory too) and reject the rest.
  for (size_t i = 0; i < held.size(); ++i) {
    t.Decide(
        OfficerDecision{
            held[i], i % 2 ? OfficerDecision::Action::kRelease : OfficerDecision::Action::kReject,
            "checked", "officer 1"},
        now += 1000);
  }
  // Each list in memory has its documents there, and nothing else is: a list that left took its
  // order, payment and waybill along.
  auto alike = [&](const Engine::Counts& c) {
    EXPECT_EQ(c.orders, c.inventories);
    EXPECT_EQ(c.payments, c.inventories);
    EXPECT_EQ(c.waybills, c.inventories);
  };
  alike(t.active().counts());
  // Every list is in memory or counted out of it, once.
  auto all_lists = [&] {
    EXPECT_EQ(t.active().counts().inventories + t.active().counts().in_store_only,
              t.plain().counts().inventories);
  };
  all_lists();

  // Everything that names a settled clearance: a repeat of each document, a changed order, a
  // second list for an order, a waybill reused by another order, delivery, cancellation, return,
  // a decision on a settled list, and the read-only queries.
  auto follow_ups = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      const Done& d = released[i];
      const std::string app_time = FormatAppTime(now);
      switch (i % 8) {
        case 0:
          t.Send(d.m.order, now += 1000);  // the same message again: its receipts are sent again
          t.Send(d.m.waybill, now += 1000);
          break;
        case 1: {
          app::ClearanceSpec changed = d.spec;
          changed.app_time = app_time;
          changed.seed = 999000 + i;
          app::ClearanceMessages c = app::MakeClearance(changed);
          t.Send(c.order, now += 1000);      // locked: refused
          t.Send(c.payment, now += 1000);    // locked: refused
          t.Send(c.inventory, now += 1000);  // already declared: refused
          break;
        }
        case 2: {
          app::ClearanceSpec other = d.spec;
          other.order_no += "-B";
          other.seed = 888000 + i;
          t.Send(app::MakeClearance(other).inventory, now += 1000);  // one waybill, one list
          break;
        }
        case 3:
          EXPECT_TRUE(
              Has(t.Send(Status513(d.spec, app_time, static_cast<int>(i)), now += 1000), "899"));
          now += 1000;
          t.Send(app::MakeReturn(d.spec, d.invt_no, FormatAppTime(now), "x"), now);
          break;
        case 4:
          t.Send(app::MakeCancel(d.spec, d.invt_no, app_time, "x"), now += 1000);
          t.Send(d.m.order, now += 1000);  // the order of a cancelled list
          break;
        case 5:
          t.Send(app::MakeReturn(d.spec, d.invt_no, app_time, "x"), now += 1000);
          now += 1000;
          t.Send(app::MakeReturn(d.spec, d.invt_no, FormatAppTime(now), "x"), now);
          break;
        case 6: {
          auto a = t.plain().Decide(
              OfficerDecision{d.invt_no, OfficerDecision::Action::kRelease, "", "o"}, now);
          auto b = t.active().Decide(
              OfficerDecision{d.invt_no, OfficerDecision::Action::kRelease, "", "o"}, now);
          EXPECT_EQ(a.status().code(), b.status().code());
          t.active().Evict();
          break;
        }
        default:
          break;
      }
      EXPECT_EQ(t.active().GuidOf("invtNo", d.invt_no, ""),
                t.plain().GuidOf("invtNo", d.invt_no, ""));
      EXPECT_EQ(t.active().GuidOf("waybill", d.spec.logistics_code, d.spec.logistics_no),
                t.plain().GuidOf("waybill", d.spec.logistics_code, d.spec.logistics_no));
      auto da = t.plain().DocumentsOf(d.invt_no), db = t.active().DocumentsOf(d.invt_no);
      EXPECT_EQ(da.inventory, db.inventory);
      EXPECT_EQ(da.order, db.order);
      EXPECT_EQ(da.payment, db.payment);
      EXPECT_EQ(da.waybill, db.waybill);
      EXPECT_EQ(t.active().Quota(d.spec.buyer_id, 2024).used,
                t.plain().Quota(d.spec.buyer_id, 2024).used);
    }
  };
  // Everything that names a rejected clearance (it left memory too): the same list again, the list
  // changed (appType 2) to fit the limits, its documents again, a new list for its order, and its
  // waybill on another order's list.
  auto after_rejection = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      const Done& d = rejected[i];
      app::ClearanceSpec changed = d.spec;
      changed.app_time = FormatAppTime(now);
      changed.seed = 777000 + i;
      changed.items.resize(1);
      changed.items[0].qty = Decimal::FromUnits(1);
      app::ClearanceMessages c = app::MakeClearance(changed);
      switch (i % 4) {
        case 0:
          t.Send(d.m.inventory, now += 1000);  // the same message: its receipts again
          t.Send(d.m.payment, now += 1000);
          break;
        case 1: {
          std::string change = c.inventory;
          const std::string one = "<ceb:appType>1</ceb:appType>";
          change.replace(change.find(one), one.size(), "<ceb:appType>2</ceb:appType>");
          t.Send(change, now += 1000);  // changed while rejected: decided anew
          break;
        }
        case 2:
          t.Send(c.inventory, now += 1000);  // declared anew (appType 1): its order is free
          break;
        default: {
          app::ClearanceSpec other = changed;
          other.order_no += "-R";
          app::ClearanceMessages o = app::MakeClearance(other);
          for (const std::string* xml : {&o.order, &o.payment, &o.inventory})
            t.Send(*xml, now += 1000);  // the rejected list's waybill, another order
          break;
        }
      }
      EXPECT_EQ(t.active().GuidOf("inventory", d.spec.ebp_code, d.spec.order_no),
                t.plain().GuidOf("inventory", d.spec.ebp_code, d.spec.order_no));
      EXPECT_EQ(t.active().GuidOf("waybill", d.spec.logistics_code, d.spec.logistics_no),
                t.plain().GuidOf("waybill", d.spec.logistics_code, d.spec.logistics_no));
      EXPECT_EQ(t.active().Quota(d.spec.buyer_id, 2024).used,
                t.plain().Quota(d.spec.buyer_id, 2024).used);
    }
  };
  const int reads_before = t.store().reads;
  after_rejection(0, rejected.size() / 2);
  all_lists();
  follow_ups(0, released.size() / 2);
  all_lists();
  EXPECT_GT(t.store().reads, reads_before) << "the follow-ups read settled clearances back";

  // Clearances still waiting for documents when the engine restarts: the documents already
  // declared must come back (the rest of each clearance is sent after the restart).
  const auto waiting = app::GeneratedClearances(2000, 12);
  std::vector<std::vector<std::string>> rest(waiting.size());
  for (size_t i = 0; i < waiting.size(); ++i) {
    app::ClearanceMessages m = app::MakeClearance(waiting[i]);
    std::vector<std::string> docs = {m.order, m.payment, m.waybill, m.inventory};
    std::rotate(docs.begin(), docs.begin() + static_cast<std::ptrdiff_t>(i % 4), docs.end());
    const size_t before = 1 + i % 3;  // one to three of the four
    for (size_t k = 0; k < before; ++k) t.Send(docs[k], now += 1000);
    rest[i].assign(docs.begin() + static_cast<std::ptrdiff_t>(before), docs.end());
  }
  EXPECT_GT(t.plain().counts().waiting, 0u);

  // A restart from the stored rows: settled lists stay in the store, the rest come back.
  t.Restart();
  EXPECT_EQ(t.active().counts().released, t.plain().counts().released);
  EXPECT_EQ(t.active().counts().held, t.plain().counts().held);
  EXPECT_EQ(t.active().counts().waiting, t.plain().counts().waiting);
  EXPECT_GT(t.active().counts().in_store_only, released.size() / 2);
  // Each clearance out of memory had its order and waybill passed over unread, and each settled
  // one its two links too (the second half of the released ones, at least, are settled still).
  EXPECT_GE(t.passed_over(),
            2 * t.active().counts().in_store_only + 2 * (released.size() - released.size() / 2));
  follow_ups(released.size() / 2, released.size());
  after_rejection(rejected.size() / 2, rejected.size());
  all_lists();
  for (const auto& docs : rest) {
    for (const std::string& xml : docs) t.Send(xml, now += 1000);
  }
  EXPECT_EQ(t.active().counts().waiting, t.plain().counts().waiting);
  // New clearances after the restart decide alike (numbers, quota).
  for (const app::ClearanceSpec& s : app::GeneratedClearances(1000, 20)) {
    app::ClearanceMessages m = app::MakeClearance(s);
    for (const std::string* xml : {&m.inventory, &m.order, &m.payment, &m.waybill})
      t.Send(*xml, now += 1000);
  }
  EXPECT_EQ(t.active().counts().released, t.plain().counts().released);
}

// A list row as stores from before the links wrote it: no payment_key or linked field.
std::string WithoutLinkFields(const std::string& value) {
  const size_t header_end = value.find("\n\n");
  std::string out;
  size_t at = 0;
  while (at < header_end) {
    const size_t nl = value.find('\n', at);
    const std::string_view line(value.data() + at, nl - at + 1);
    if (!line.starts_with("payment_key\t") && !line.starts_with("linked\t")) out += line;
    at = nl + 1;
  }
  return out + value.substr(header_end + 1);
}

TEST(EngineEviction, ListsSettledBeforeTheLinksStayUntilTheyChange) {
  auto ref = testing::ShippedReference();
  Twins t(&ref, RulesConfig{});
  int64_t now = *ParseAppTime("20240611100000");
  std::vector<std::pair<app::ClearanceSpec, std::string>> released;
  for (const app::ClearanceSpec& s : app::GeneratedClearances(1, 20)) {
    app::ClearanceMessages m = app::MakeClearance(s);
    std::string invt_no;
    for (const std::string* xml : {&m.order, &m.payment, &m.waybill, &m.inventory}) {
      StepResult r = t.Send(*xml, now += 1000);
      if (Has(r, "800")) invt_no = InvtNoOf(r);
    }
    if (!invt_no.empty()) released.emplace_back(s, invt_no);
  }
  ASSERT_GT(released.size(), 10u);
  // The store as an older kuajing left it.
  Rows& rows = t.store().rows;
  for (auto it = rows.begin(); it != rows.end();) {
    if (it->first.first.starts_with("link_")) {
      it = rows.erase(it);
      continue;
    }
    if (it->first.first == "inventory") it->second = WithoutLinkFields(it->second);
    ++it;
  }
  t.Restart();
  t.CompareAnswersOnly();  // the older rows get their links as they change
  EXPECT_EQ(t.active().counts().in_store_only, 0u);  // nothing could be found again: all stay
  EXPECT_EQ(t.active().counts().released, t.plain().counts().released);
  // A change (delivery closes the list) writes the links; then the list leaves memory and a
  // return finds it by its invtNo.
  const auto& [spec, invt_no] = released.front();
  now += 1000;
  StepResult closed = t.Send(Status513(spec, FormatAppTime(now), 1), now);
  EXPECT_TRUE(Has(closed, "899")) << "delivery closes the list";
  EXPECT_EQ(t.active().counts().in_store_only, 1u);
  EXPECT_TRUE(t.store().rows.count({"link_invt_no", invt_no}));
  now += 1000;
  StepResult r = t.Send(app::MakeReturn(spec, invt_no, FormatAppTime(now), "x"), now);
  EXPECT_TRUE(Has(r, "399")) << "the return is concluded";
  // The others, never changed, still answer from memory.
  const auto& [other, other_invt_no] = released.back();
  now += 1000;
  t.Send(app::MakeCancel(other, other_invt_no, FormatAppTime(now), "x"), now);
  EXPECT_EQ(t.active().counts().released, t.plain().counts().released);
}

// A clearance that cannot be read back (a failed read, a damaged row) makes the step's status an
// error: its answers could be wrong, and the platform commits nothing of it.
TEST(EngineEviction, AClearanceThatCannotBeReadBackFailsTheStep) {
  auto ref = testing::ShippedReference();
  FakeStore store;
  bool fail = false;
  Engine e(&ref, RulesConfig{});
  e.SetStateReader([&](std::string_view kind, std::string_view key) {
    if (fail) return StatusOr<std::optional<std::string>>(Unavailable("disk gone"));
    return store.Reader()(kind, key);
  });
  const app::ClearanceSpec spec = app::GeneratedClearances(1, 1)[0];
  app::ClearanceMessages m = app::MakeClearance(spec);
  int64_t now = *ParseAppTime("20240611100000");
  for (const std::string* xml : {&m.order, &m.payment, &m.waybill, &m.inventory}) {
    auto d = std::get<codec::DecodedMessage>(codec::Decode(*xml));
    StepResult r = e.Process(d, d.message.base_transfer->copCode, now += 1000);
    ASSERT_TRUE(r.status.ok());
    store.Apply(r);
    e.Evict();
  }
  ASSERT_EQ(e.counts().in_store_only, 1u);
  auto order = std::get<codec::DecodedMessage>(codec::Decode(m.order));
  fail = true;
  EXPECT_EQ(e.Process(order, order.message.base_transfer->copCode, now += 1000).status.code(),
            StatusCode::kUnavailable);
  fail = false;
  const std::string key = spec.ebp_code + '\x1f' + spec.order_no;
  ASSERT_TRUE(store.rows.count({"inventory", key}));
  store.rows[{"inventory", key}] = "phase\t4\n\nnot a packed record";
  EXPECT_FALSE(e.Process(order, order.message.base_transfer->copCode, now += 1000).status.ok());
}

}  // namespace
}  // namespace kuajing::clearance
