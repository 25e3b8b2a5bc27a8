#include "clearance/engine.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "app/demo_batch.h"
#include "clearance/receipts.h"
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

// A list's row as stores wrote it before 2026-12-08: the assessment as a CEB816 tax bill after
// the list (MakeTaxBill(list, tax, invtNo, "0", 0)) instead of the "tax_e5" field.
std::string WithTaxBill(const std::string& value) {
  std::string_view rest;
  const FieldsView f(value, &rest);
  const std::string_view tax = f.Get("tax_e5");
  if (tax.empty()) return value;
  auto list = codec::UnpackRecord(rest);
  if (!list.ok() || !std::holds_alternative<model::Inventory>(*list)) return "damaged";
  const auto& inv = std::get<model::Inventory>(*list);
  std::vector<int64_t> n;  // the field's numbers in order: 3 totals, then 5 per line
  for (size_t p = 0; p <= tax.size();) {
    const size_t q = std::min(tax.find_first_of(",;", p), tax.size());
    n.push_back(std::stoll(std::string(tax.substr(p, q - p))));
    p = q + 1;
  }
  if (n.size() != 3 + 5 * inv.lists.size()) return "damaged";
  TaxAssessment t;
  t.full_tax = f.Get("full_tax") == "1";
  t.customs_tax.e5 = n[0];
  t.value_added_tax.e5 = n[1];
  t.consumption_tax.e5 = n[2];
  for (size_t i = 0; i < inv.lists.size(); ++i) {
    const int64_t* l = &n[3 + 5 * i];
    t.lines.push_back(LineTax{l[0], inv.lists[i].gcode, Decimal::FromE5(l[1]),
                              Decimal::FromE5(l[2]), Decimal::FromE5(l[3]), Decimal::FromE5(l[4])});
  }
  std::string out;
  for (const auto& [k, v] : f.all())
    if (k != "tax_e5") AppendField(out, k, v);
  out += '\n';
  out += rest;
  codec::AppendPackedOf(out, MakeTaxBill(inv, t, f.Get("invt_no"), "0", 0));
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
  // A third with the same past: each of a, b and t is asked the next messages once, below.
  Engine t(&ref, rules);
  {
    std::map<std::pair<std::string, std::string>, StateChange> rows_t;
    std::vector<std::string> receipts_t;
    EXPECT_EQ(first, run(t, &rows_t, &receipts_t, true));
  }
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
  // answers the next messages exactly as the original does, a return of a released list among
  // them (its tax bill, voided, comes from the assessment read back); also from rows with the
  // assessment as a tax bill (stores written before 2026-12-08) and from rows in the XML form of
  // older stores still.
  std::string returned_invt_no;
  app::ClearanceSpec returned_spec;
  for (const auto& [k, row] : rows_a) {
    if (row.kind != "inventory" || row.erase || !returned_invt_no.empty()) continue;
    std::string_view rest;
    const FieldsView f(row.value, &rest);
    if (ToInt(f, "released_ms") == 0 || f.Get("tax_e5").empty()) continue;
    for (const app::ClearanceSpec& s : app::DemoClearances()) {
      if (k.second.find(s.order_no) == std::string::npos) continue;
      returned_invt_no = std::string(f.Get("invt_no"));
      returned_spec = s;
    }
  }
  ASSERT_FALSE(returned_invt_no.empty()) << "no released list with its tax to return";
  for (int form : {0, 1, 2}) {
    SCOPED_TRACE(form == 0   ? "packed rows"
                 : form == 1 ? "rows with the tax bill"
                             : "rows as older stores wrote them");
    Engine c(&ref, rules);
    Engine& a_twin = form == 0 ? a : form == 1 ? b : t;
    int taxed = 0;
    for (const auto& [k, row] : rows_a) {
      if (!row.erase) {
        StateChange stored = row;
        if (form >= 1) stored.value = WithTaxBill(row.value);
        if (form == 2) stored.value = AsWrittenByOlderStores(stored.value);
        if (row.kind == "inventory") {
          std::string_view rest;
          const FieldsView f(stored.value, &rest);
          taxed += form == 0 ? !f.Get("tax_e5").empty() : !rows::SplitRecords(rest).second.empty();
        }
        ASSERT_TRUE(c.Restore(stored).ok()) << stored.value;
      }
    }
    EXPECT_GT(taxed, 0) << "some rows hold a list's tax";
    for (const app::ClearanceSpec& s : app::DemoClearances()) {
      EXPECT_EQ(c.Quota(s.buyer_id, 2024).used, a_twin.Quota(s.buyer_id, 2024).used);
    }
    EXPECT_EQ(c.counts().released, a_twin.counts().released);
    EXPECT_EQ(c.counts().held, a_twin.counts().held);
    app::ClearanceSpec next = app::DemoClearances()[0];
    next.order_no = "HY-NEXT";
    next.logistics_no = "XN-NEXT";
    app::ClearanceMessages m = app::MakeClearance(next);
    const std::string returned =
        app::MakeReturn(returned_spec, returned_invt_no, "20240611110000", "x");
    bool voided = false;
    for (const std::string* xml : std::initializer_list<const std::string*>{
             &m.order, &m.payment, &m.waybill, &m.inventory, &returned}) {
      codec::DecodedMessage d = Decoded(*xml);
      StepResult ra = a_twin.Process(d, d.message.base_transfer->copCode, 1718100000000);
      StepResult rc = c.Process(d, d.message.base_transfer->copCode, 1718100000000);
      ASSERT_EQ(ra.receipts.size(), rc.receipts.size());
      ASSERT_EQ(ra.changes.size(), rc.changes.size());
      for (size_t i = 0; i < ra.changes.size(); ++i)
        EXPECT_EQ(ra.changes[i].value, rc.changes[i].value) << ra.changes[i].key;
      for (size_t i = 0; i < ra.receipts.size(); ++i) {
        voided = voided || ra.receipts[i].type == model::MessageType::kCEB818;
        EXPECT_EQ(ra.receipts[i].status, rc.receipts[i].status);
        EXPECT_EQ(ra.receipts[i].receipt, rc.receipts[i].receipt);
      }
    }
    EXPECT_TRUE(voided) << "the return voids the released list's tax bill (CEB818)";
  }
}

// A list's stored tax (tax_e5) that does not pair with its goods lines, or is not numbers, is an
// error at reading, not a tax read wrong or an index past the lines (KeptTax pairs them).
TEST(Engine, AListsStoredTaxThatDoesNotMatchItsGoodsIsAnError) {
  auto ref = Reference();
  Engine e(&ref, RulesConfig{});
  app::ClearanceMessages m = app::MakeClearance(app::DemoClearances()[0]);
  int64_t now = *ParseAppTime("20240611100000");
  std::optional<StateChange> row;
  for (const std::string* xml : {&m.order, &m.payment, &m.waybill, &m.inventory}) {
    codec::DecodedMessage d = Decoded(*xml);
    const std::string sender = d.message.base_transfer->copCode;
    for (StateChange& c : e.Process(std::move(d), sender, now += 500).changes)
      if (c.kind == "inventory" && !c.erase) row = std::move(c);
  }
  ASSERT_TRUE(row.has_value());
  const size_t at = row->value.find("tax_e5\t");
  ASSERT_NE(at, std::string::npos) << "the released list's row holds its tax";
  const size_t end = row->value.find('\n', at);
  {
    Engine fresh(&ref, RulesConfig{});
    EXPECT_TRUE(fresh.Restore(*row).ok()) << "the row as written reads";
  }
  const std::string field = row->value.substr(at, end - at);
  for (const std::string& bad : {field + ";99,0,0,0,0",                       // a line too many
                                 field.substr(0, field.rfind(';')),           // a line too few
                                 std::string("tax_e5\t1,2"),                  // totals cut short
                                 field.substr(0, field.size() - 1) + "x"}) {  // not a number
    StateChange damaged = *row;
    damaged.value.replace(at, end - at, bad);
    Engine fresh(&ref, RulesConfig{});
    const Status st = fresh.Restore(damaged);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("does not match its goods"), std::string::npos) << st.message();
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
