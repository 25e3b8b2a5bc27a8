#include "clearance/engine.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "clearance/cold_keys.h"
#include "clearance/credit_events.h"
#include "clearance/parties.h"
#include "clearance/quota_book.h"
#include "clearance/receipts.h"
#include "clearance/state_rows.h"
#include "clearance/validation.h"
#include "common/civil_time.h"
#include "common/hash.h"
#include "common/string_map.h"

namespace kuajing::clearance {

using namespace kuajing::model;
using reference::Enterprise;
using reference::Role;

using namespace kuajing::clearance::rows;

namespace {

enum class Phase : uint8_t {
  kDraft = 0,       // appStatus 1: stored, not declared
  kWaiting = 1,     // declared, waiting for order / payment / waybill (receipt 2)
  kReview = 2,      // held for manual review (300)
  kInspection = 3,  // held for inspection (500)
  kReleased = 4,    // 800
  kClosed = 5,      // 899
  kCancelled = 6,   // CEB623 approved
  kReturned = 7,    // fully returned (CEB625)
  kRejected = 8,    // 100 or a negative code; the key may be declared again
};

bool Decided(Phase p) {
  return p == Phase::kReview || p == Phase::kInspection || p == Phase::kReleased ||
         p == Phase::kClosed || p == Phase::kReturned;
}

// A list whose documents can no longer change (the order, payment and waybill are locked, see
// AdmitChange) and which waits for nobody: the clearance may leave memory. Held lists stay (the
// officer's queue); rejected and cancelled ones free their order, which may be declared anew.
bool Settled(Phase p) {
  return p == Phase::kReleased || p == Phase::kClosed || p == Phase::kReturned;
}

// A list that may leave memory once its step is committed (issue 7): a settled one with its
// links written, or a rejected one (it waits for nobody; a document that names it again reads it
// back by its fingerprints, as a settled one, and a rejected list is not found by its waybill or
// invtNo in memory either, so it needs no links).
bool MayLeave(Phase p, bool linked) { return (Settled(p) && linked) || p == Phase::kRejected; }

// The state kinds of the links from a settled list's other keys to its own (ebpCode|orderNo), read
// when a clearance out of memory is looked up by its waybill or its invtNo.
constexpr const char* kLinkWaybill = "link_waybill";
constexpr const char* kLinkInvtNo = "link_invt_no";

std::string Money(Decimal d) { return d.ToMoneyString(); }

}  // namespace

// --- the state -----------------------------------------------------------------------------------

struct Engine::State {
  struct WaybillRec {
    Logistics doc;
    bool signed_off = false;
    bool arrived = false;
    std::string status_guid, status_app_time;
  };
  struct InventoryRec {
    Inventory doc;
    Phase phase = Phase::kWaiting;
    std::string pre_no, invt_no, hold_reason;
    int64_t released_ms = 0;
    int year = 0;
    Decimal counted;   // added to the buyer's annual amount
    Decimal restored;  // given back by partial returns so far
    bool tax_issued = false;
    int tax_seq = 0;
    TaxAssessment tax;
    std::vector<Decimal> returned_qty;  // per line, by position
    // The risk decision: when, on what amount, with which rules version and score.
    int64_t risk_ms = 0;
    Decimal risk_amount;
    std::string risk_version;
    int risk_score = 0;
    // When the list was declared (waiting for documents), and whether its declarant was charged
    // for documents that did not come (credit::Event::kMissingDocuments).
    int64_t received_ms = 0;
    bool missing_charged = false;
    // When the clearance began: set at the release (docs/METRICS.md, "Clearance time").
    int64_t first_ms = 0;
    // The phase this list is counted under in phase_counts (-1: not yet), brought up to date
    // when its change is flushed.
    int8_t counted_phase = -1;
    // A hold by rules marked discredit_buyer: their reasons, the evidence if an officer refuses.
    std::string discredit_evidence;
    // The link rows (kLinkWaybill, kLinkInvtNo) are written: the list may leave memory. Lists
    // settled in stores from before them get them when they next change.
    bool linked = false;
  };
  struct DeliveryRec {
    std::string guid, app_time;
  };

  const reference::ReferenceData* ref;
  RulesConfig rules;
  std::unique_ptr<risk::RiskEngine> risk;  // null when no risk rules are configured
  credit::Book* credit = nullptr;          // null when there is no credit system
  stats::Aggregates* stats = nullptr;      // null when no statistics are kept
  int64_t swept_hour = 0;                  // the last hour the missing-documents sweep ran

  // The documents in memory by key, and the links between them (common/string_map.h: the
  // engine's lookups were about a seventh of the writer's samples in std::unordered_map).
  StringMap<Order> orders;                        // ebpCode|orderNo
  StringMap<Payment> payments;                    // payCode|payTransactionId
  StringMap<std::string> payment_of_order;        // ebpCode|orderNo -> payment key
  StringMap<WaybillRec> waybills;                 // logisticsCode|logisticsNo
  StringMap<InventoryRec> inventories;            // ebpCode|orderNo
  std::array<int64_t, 9> phase_counts{};          // lists by Phase, for the status without a walk
  std::set<std::string> waiting_keys, held_keys;  // see KeysOf
  StringMap<std::string> inventory_of_waybill;    // waybill key -> inv key
  StringMap<std::string> inventory_of_invt_no;    // invtNo -> inv key
  StringMap<DeliveryRec> deliveries;              // operatorCode|copNo-or-guid
  QuotaBook quota;  // the annual amount per buyer and year, and the names each buyer used
  int64_t seq = 0;  // numbers preNo and invtNo

  // Settled clearances out of memory (see engine.h): read back through `reader`.
  StateReader reader;  // empty: everything stays in memory
  ColdKeys cold;       // fingerprints of their order, payment and waybill keys: tags 'o', 'p', 'w'
  // Set by LoadSnapshot: the amounts, windows and statistics of the rows restored are in the
  // snapshot already.
  bool counted_in_snapshot = false;
  int64_t cold_count = 0;  // lists out of memory
  // Start-up's room for reading lists (ParseInventoryInto) and payments, most only to count them.
  InventoryRec restore_scratch;
  Payment restore_payment;
  std::vector<std::string> evictable;  // lists settled or read back since the last Evict()
  Status read_error = Status::Ok();    // the first failed read of this step

  // Per call.
  StepResult* out = nullptr;
  int64_t now = 0;
  std::string_view sender;
  rows::Touched dirty;

  // The declarations are passed by address (RecordRef): answering one never copies it.
  // `packed`: the receipt's record packed (codec::PackRecord).
  void Emit(MessageType type, RecordRef decl, std::string status, std::string packed) {
    out->receipts.push_back(
        Emitted{type, RecordGuid(decl), std::move(status), std::move(packed), PartiesOf(decl)});
  }
  template <typename R>
  void Answer(const R& decl, MessageType receipt_type, std::string status, std::string_view info,
              std::string_view pre_no = {}, std::string_view invt_no = {}) {
    const RecordRef d = &decl;
    // Every refusal counts in the credit record of the enterprise answerable for the document.
    if (!status.empty() && status[0] == '-') {
      Charge(credit, *ref, d, sender, RejectionEvent(DeclarationTypeOf(d), status), now,
             status + " " + std::string(info.substr(0, 160)));
    }
    std::string packed;
    AppendPackedReceipt(packed, d, status, info, now, pre_no, invt_no);
    Emit(receipt_type, d, std::move(status), std::move(packed));
  }
  void ChargeEvent(RecordRef decl, credit::Event e, std::string_view detail) {
    Charge(credit, *ref, decl, sender, e, now, detail);
  }
  void Touch(const char* kind, const std::string& key) { dirty.Add(kind, key); }

  void NoteBuyer(const InventoryHead& h) { quota.NoteName(h.buyerIdNumber, h.buyerName); }

  void CountQuota(const std::string& buyer, int year, Decimal delta, const std::string& invt_no,
                  std::string reason) {
    if (delta.e5 == 0) return;
    Decimal& used = quota.Used(buyer, year);
    if (stats != nullptr) stats->MoveQuota(year, used, used + delta);
    used += delta;
    out->ledger.push_back(QuotaEntry{buyer, year, delta, invt_no, std::move(reason), now});
  }

  std::string NextPreNo() {
    ++seq;
    Touch("meta", "seq");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(seq % 1000000000));
    return "B" + FormatDate8(now) + buf;  // an18: B + date + 9-digit serial (domain-reference 1.4)
  }
  std::string NewInvtNo(const InventoryRec& inv) {
    // 4-digit customs code + 4-digit year + I + 9-digit serial (domain-reference 1.4).
    std::string customs = inv.doc.head.customsCode.size() == 4 ? inv.doc.head.customsCode
                                                               : rules.default_customs_code;
    return customs + FormatDate8(now).substr(0, 4) + "I" + inv.pre_no.substr(9);
  }

  // --- authorisation --------------------------------------------------------------------------

  std::string CheckSender(std::string_view sender, uint8_t allowed_roles,
                          std::initializer_list<std::string_view> own_codes, const char** code,
                          const CodeSet& codes) {
    return clearance::CheckSender(*ref, sender, allowed_roles, own_codes, codes, code);
  }
  std::string CheckParty(std::string_view code, Role role, const char* field,
                         const char** out_code) {
    return clearance::CheckParty(*ref, code, role, field, out_code);
  }

  static constexpr std::string_view kLocked =
      "the inventory list using this document is already decided; it can no longer change";

  bool InventoryDecided(const std::string& inv_key) const {
    auto it = inventories.find(inv_key);
    return it != inventories.end() && Decided(it->second.phase);
  }

  // --- clearances out of memory -----------------------------------------------------------------
  // A settled clearance leaves memory whole (Evict) and comes back whole (WarmOrder) before any
  // handler looks at one of its keys: each handler first calls the Warm function of every key it
  // will look up. A key whose fingerprint is absent is certainly not out of memory; one whose
  // fingerprint is present is read from the store, which may find nothing (a collision).

  std::optional<std::string> Read(const char* kind, const std::string& key) {
    auto row = reader(kind, key);
    if (row.ok()) return std::move(*row);
    if (read_error.ok()) {
      read_error = Unavailable("reading the stored " + std::string(kind) + " " + key + ": " +
                               row.status().message());
    }
    return std::nullopt;
  }

  // A stored row that does not decode: the step cannot be trusted either.
  void Damaged(const Status& st) {
    if (read_error.ok()) read_error = st;
  }

  // Puts an order, payment or waybill row of a clearance that was out of memory back, unless
  // memory has its own (newer) one.
  void Put(std::string_view kind, const std::string& key, const std::string& value) {
    std::string_view rest;
    if (kind == "order") {
      auto o = DecodeRecord<Order>(value);
      if (!o.ok()) return Damaged(o.status());
      orders.try_emplace(key, std::move(*o));
    } else if (kind == "payment") {
      auto p = DecodeRecord<Payment>(value);
      if (!p.ok()) return Damaged(p.status());
      payment_of_order.try_emplace(Key(p->head.ebpCode, p->head.orderNo), key);
      payments.try_emplace(key, std::move(*p));
    } else {
      auto w = ParseWaybill(value, &rest);
      if (!w.ok()) return Damaged(w.status());
      waybills.try_emplace(key, std::move(*w));
    }
  }

  // The clearance of the list `key` (ebpCode|orderNo), if it is out of memory; also an order or a
  // payment of that key read back alone (one whose fingerprint collided at start-up).
  void WarmOrder(const std::string& key) {
    if (!reader || (inventories.count(key) != 0 && orders.count(key) != 0)) return;
    if (!cold.MayContain('o', key)) return;
    if (inventories.count(key) == 0) {
      if (auto row = Read("inventory", key)) {
        std::string payment_key;
        auto v = ParseInventory(*row, &payment_key);
        if (!v.ok()) return Damaged(v.status());
        const auto& h = v->doc.head;
        const std::string waybill_key = Key(h.logisticsCode, h.logisticsNo);
        // The indexes a list of its phase has in memory (as Restore builds them).
        if (v->phase != Phase::kRejected) {
          inventory_of_waybill.try_emplace(waybill_key, key);
          if (!v->invt_no.empty()) inventory_of_invt_no.try_emplace(v->invt_no, key);
        }
        v->counted_phase = static_cast<int8_t>(v->phase);  // counted while out of memory
        const bool cold_list = MayLeave(v->phase, true);
        inventories.emplace(key, std::move(*v));
        if (cold_list) {
          --cold_count;
          evictable.push_back(key);  // leaves again after this step unless it changes
        }
        if (!payment_key.empty() && payments.count(payment_key) == 0) {
          if (auto p = Read("payment", payment_key)) Put("payment", payment_key, *p);
        }
        if (waybills.count(waybill_key) == 0) {
          if (auto w = Read("waybill", waybill_key)) Put("waybill", waybill_key, *w);
        }
      }
    }
    if (orders.count(key) == 0) {
      if (auto o = Read("order", key)) Put("order", key, *o);
    }
  }
  void WarmPayment(const std::string& key) {
    if (!reader || payments.count(key) != 0 || !cold.MayContain('p', key)) return;
    auto row = Read("payment", key);
    if (!row) return;
    auto p = DecodeRecord<Payment>(*row);
    if (!p.ok()) return Damaged(p.status());
    WarmOrder(Key(p->head.ebpCode, p->head.orderNo));
    Put("payment", key, *row);
  }
  void WarmWaybill(const std::string& key) {
    if (!reader || waybills.count(key) != 0 || !cold.MayContain('w', key)) return;
    if (auto list = Read(kLinkWaybill, key)) WarmOrder(*list);
    if (waybills.count(key) == 0) {
      if (auto w = Read("waybill", key)) Put("waybill", key, *w);
    }
  }
  // An invtNo has no fingerprint: cancellations, returns and officers name settled lists seldom
  // enough to read the link every time one is not in memory.
  void WarmInvtNo(const std::string& invt_no) {
    if (!reader || inventory_of_invt_no.count(invt_no) != 0) return;
    if (auto list = Read(kLinkInvtNo, invt_no)) WarmOrder(*list);
  }

  // Lets the settled lists of `evictable` and their documents leave memory (their rows are
  // committed). The phase counts keep them.
  void EvictSettled() {
    for (const std::string& key : evictable) {
      auto it = inventories.find(key);
      if (it == inventories.end() || !MayLeave(it->second.phase, it->second.linked)) continue;
      auto link = payment_of_order.find(key);
      // Settled lists were matched; a list rejected before its payment came stays.
      if (link == payment_of_order.end()) continue;
      const InventoryRec& v = it->second;
      const std::string waybill_key = Key(v.doc.head.logisticsCode, v.doc.head.logisticsNo);
      cold.Insert('o', key);
      cold.Insert('p', link->second);
      cold.Insert('w', waybill_key);
      orders.erase(key);
      payments.erase(link->second);
      payment_of_order.erase(link);
      // The waybill goes too unless another list in memory carries it.
      if (auto w = inventory_of_waybill.find(waybill_key); w == inventory_of_waybill.end()) {
        waybills.erase(waybill_key);
      } else if (w->second == key) {
        inventory_of_waybill.erase(w);
        waybills.erase(waybill_key);
      }
      if (auto i = inventory_of_invt_no.find(v.invt_no);
          i != inventory_of_invt_no.end() && i->second == key) {
        inventory_of_invt_no.erase(i);
      }
      inventories.erase(it);
      ++cold_count;
    }
    evictable.clear();
  }

  // --- declarations ------------------------------------------------------------------------------

  // The four declarations a clearance is made of come as `const D&` or as `D&&`: the message's
  // own document when the caller gave it up (Engine::Process(DecodedMessage&&)), which the
  // engine then keeps by moving it in once rather than copying every string of it.
  template <typename D>
  void OnOrder(D&& o, std::string_view sender) {
    const auto& h = o.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB311);
    const char* code = nullptr;
    std::string why = CheckSender(sender, reference::kEbp | reference::kEbc | reference::kLogistics,
                                  {h.ebpCode, h.ebcCode}, &code, codes);
    if (why.empty()) why = CheckParty(h.ebcCode, reference::kEbc, "ebcCode", &code);
    if (why.empty()) why = CheckParty(h.ebpCode, reference::kEbp, "ebpCode", &code);
    if (!why.empty()) return Answer(o, MessageType::kCEB312, code, why);
    const std::string key = Key(h.ebpCode, h.orderNo);
    WarmOrder(key);
    auto it = orders.find(key);
    const OrderHead* stored = it == orders.end() ? nullptr : &it->second.head;
    Admit a = AdmitChange(h, stored, InventoryDecided(key), kLocked, codes, &code, &why);
    if (a == Admit::kResend) return out->resend_guids.push_back(stored->guid);
    if (a == Admit::kRefused) return Answer(o, MessageType::kCEB312, code, why);
    Touch("order", key);
    if (a == Admit::kDelete) {
      orders.erase(it);
      return Answer(o, MessageType::kCEB312, status::kConcluded, "删除成功: the order is deleted");
    }
    const Order& kept = orders.insert_or_assign(key, std::forward<D>(o)).first->second;
    if (kept.head.appStatus == "1") {
      return Answer(
          kept, MessageType::kCEB312, status::kDeclaring,
          "已暂存: stored as a draft (appStatus 1); send appType 2 with appStatus 2 to declare");
    }
    Answer(kept, MessageType::kCEB312, status::kStored,
           "[Code:1800;Desc:逻辑校验通过] order stored");
    TryMatch(key);
  }

  template <typename D>
  void OnPayment(D&& p, std::string_view sender) {
    const auto& h = p.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB411);
    const char* code = nullptr;
    std::string why =
        CheckSender(sender, reference::kPay | reference::kLogistics, {h.payCode}, &code, codes);
    if (why.empty()) why = CheckParty(h.payCode, reference::kPay, "payCode", &code);
    if (!why.empty()) return Answer(p, MessageType::kCEB412, code, why);
    const std::string key = Key(h.payCode, h.payTransactionId);
    const std::string order_key = Key(h.ebpCode, h.orderNo);
    WarmPayment(key);
    WarmOrder(order_key);
    auto linked = payment_of_order.find(order_key);
    if (linked != payment_of_order.end() && linked->second != key) {
      return Answer(p, MessageType::kCEB412, codes.duplicate,
                    "已存在相同编号的支付单: order " + h.orderNo + " already has the payment " +
                        payments[linked->second].head.payTransactionId);
    }
    auto it = payments.find(key);
    const PaymentHead* stored = it == payments.end() ? nullptr : &it->second.head;
    if (stored != nullptr && Key(stored->ebpCode, stored->orderNo) != order_key &&
        h.appType != "1") {
      return Answer(p, MessageType::kCEB412, codes.state,
                    "状态不符: a payment cannot move to another order");
    }
    Admit a = AdmitChange(h, stored, InventoryDecided(order_key), kLocked, codes, &code, &why);
    if (a == Admit::kResend) return out->resend_guids.push_back(stored->guid);
    if (a == Admit::kRefused) return Answer(p, MessageType::kCEB412, code, why);
    Touch("payment", key);
    if (a == Admit::kDelete) {
      payments.erase(it);
      payment_of_order.erase(order_key);
      return Answer(p, MessageType::kCEB412, status::kConcluded,
                    "删除成功: the payment is deleted");
    }
    const Payment& kept = payments.insert_or_assign(key, std::forward<D>(p)).first->second;
    payment_of_order[order_key] = key;
    if (kept.head.appStatus == "1") {
      return Answer(kept, MessageType::kCEB412, status::kDeclaring,
                    "已暂存: stored as a draft (appStatus 1)");
    }
    Answer(kept, MessageType::kCEB412, status::kStored,
           "[Code:1800;Desc:逻辑校验通过] payment stored");
    TryMatch(order_key);
  }

  template <typename D>
  void OnLogistics(D&& l, std::string_view sender) {
    const auto& h = l.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB511);
    const char* code = nullptr;
    std::string why = CheckSender(sender, reference::kLogistics, {h.logisticsCode}, &code, codes);
    if (why.empty())
      why = CheckParty(h.logisticsCode, reference::kLogistics, "logisticsCode", &code);
    if (!why.empty()) return Answer(l, MessageType::kCEB512, code, why);
    const std::string key = Key(h.logisticsCode, h.logisticsNo);
    WarmWaybill(key);
    auto it = waybills.find(key);
    const LogisticsHead* stored = it == waybills.end() ? nullptr : &it->second.doc.head;
    auto inv = inventory_of_waybill.find(key);
    bool locked = inv != inventory_of_waybill.end() && InventoryDecided(inv->second);
    Admit a = AdmitChange(h, stored, locked, kLocked, codes, &code, &why);
    if (a == Admit::kResend) return out->resend_guids.push_back(stored->guid);
    if (a == Admit::kRefused) return Answer(l, MessageType::kCEB512, code, why);
    Touch("waybill", key);
    if (a == Admit::kDelete) {
      waybills.erase(it);
      return Answer(l, MessageType::kCEB512, status::kConcluded,
                    "删除成功: the waybill is deleted");
    }
    WaybillRec& w = waybills[key];
    w.doc = std::forward<D>(l);
    if (w.doc.head.appStatus == "1") {
      return Answer(w.doc, MessageType::kCEB512, status::kDeclaring,
                    "已暂存: stored as a draft (appStatus 1)");
    }
    Answer(w.doc, MessageType::kCEB512, status::kStored,
           "[Code:1800;Desc:逻辑校验通过] waybill stored");
    if (inv != inventory_of_waybill.end()) TryMatch(inv->second);
  }

  void OnLogisticsStatus(const LogisticsStatus& st, std::string_view sender) {
    const CodeSet& codes = CodesFor(MessageType::kCEB513);
    const char* code = nullptr;
    std::string why = CheckSender(sender, reference::kLogistics, {st.logisticsCode}, &code, codes);
    if (!why.empty()) return Answer(st, MessageType::kCEB514, code, why);
    const std::string key = Key(st.logisticsCode, st.logisticsNo);
    WarmWaybill(key);
    auto it = waybills.find(key);
    if (it == waybills.end()) {
      return Answer(st, MessageType::kCEB514, codes.not_found,
                    "未找到对应运单: no waybill " + st.logisticsNo + " of " + st.logisticsCode +
                        " is stored");
    }
    WaybillRec& w = it->second;
    if (w.signed_off) {
      if (w.status_app_time == st.appTime) return out->resend_guids.push_back(w.status_guid);
      return Answer(st, MessageType::kCEB514, codes.duplicate,
                    "物流运单状态已存在: the waybill is already signed for");
    }
    w.signed_off = true;
    w.status_guid = st.guid;
    w.status_app_time = st.appTime;
    Touch("waybill", key);
    Answer(st, MessageType::kCEB514, status::kConcluded, "签收状态已接收: delivery recorded");
    auto inv = inventory_of_waybill.find(key);
    if (inv != inventory_of_waybill.end()) MaybeClose(inv->second);
  }

  template <typename D>
  void OnInventory(D&& iv, std::string_view sender) {
    const auto& h = iv.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB621);
    const char* code = nullptr;
    // CEB621 comes from the e-commerce enterprise or its agent (XSD annotation).
    std::string why = CheckSender(sender, reference::kEbc | reference::kAgent,
                                  {h.agentCode, h.ebcCode}, &code, codes);
    if (why.empty()) why = CheckParty(h.agentCode, reference::kAgent, "agentCode", &code);
    if (why.empty()) why = CheckParty(h.ebcCode, reference::kEbc, "ebcCode", &code);
    if (why.empty()) why = CheckParty(h.ebpCode, reference::kEbp, "ebpCode", &code);
    if (why.empty())
      why = CheckParty(h.logisticsCode, reference::kLogistics, "logisticsCode", &code);
    if (why.empty() && !h.areaCode.empty()) {
      why = CheckParty(h.areaCode, reference::kWarehouse, "areaCode", &code);
    }
    if (!why.empty()) return Answer(iv, MessageType::kCEB622, code, why);

    const std::string key = Key(h.ebpCode, h.orderNo);
    const std::string waybill_key = Key(h.logisticsCode, h.logisticsNo);
    WarmOrder(key);
    WarmWaybill(waybill_key);
    auto it = inventories.find(key);
    InventoryRec* stored = it == inventories.end() ? nullptr : &it->second;
    if (stored != nullptr && stored->doc.head.appTime == h.appTime) {
      return out->resend_guids.push_back(stored->doc.head.guid);
    }
    // A list that was rejected or cancelled frees its order: it may be declared anew.
    const bool open = stored == nullptr || stored->phase == Phase::kRejected ||
                      stored->phase == Phase::kCancelled;
    const bool changeable =
        stored != nullptr && (stored->phase == Phase::kDraft || stored->phase == Phase::kWaiting ||
                              stored->phase == Phase::kRejected);
    if (h.appType == "1" && !open) {
      if (h.appTime < stored->doc.head.appTime) {
        return Answer(iv, MessageType::kCEB622, codes.stale,
                      "已存在较新清单，请修改app_time为最新时间: a newer list is stored (appTime " +
                          stored->doc.head.appTime + ")",
                      stored->pre_no);
      }
      return Answer(iv, MessageType::kCEB622, codes.duplicate,
                    "清单[" + h.orderNo + "]已经申报过，请勿重复申报 (guid " +
                        stored->doc.head.guid + "): send appType 2 to change it while it waits",
                    stored->pre_no);
    }
    if (h.appType != "1") {
      if (stored == nullptr) {
        return Answer(iv, MessageType::kCEB622, codes.not_found,
                      "不存在已申报的清单[" + h.orderNo + "]，无法进行改单操作");
      }
      if (h.appTime <= stored->doc.head.appTime) {
        return Answer(iv, MessageType::kCEB622, codes.stale,
                      "已存在较新清单，请修改app_time为最新时间: appTime " + h.appTime +
                          " is not newer than the stored " + stored->doc.head.appTime,
                      stored->pre_no);
      }
      if (!changeable) {
        return Answer(iv, MessageType::kCEB622, codes.state,
                      "清单[" + h.orderNo +
                          "]的申报状态不符合改单申报的条件: it is already decided (" +
                          PhaseName(stored->phase) + "); use CEB623 to cancel or CEB625 to return",
                      stored->pre_no, stored->invt_no);
      }
    }
    // One waybill carries one list.
    auto other = inventory_of_waybill.find(waybill_key);
    if (h.appType != "3" && other != inventory_of_waybill.end() && other->second != key) {
      auto o = inventories.find(other->second);
      if (o != inventories.end() && o->second.phase != Phase::kRejected &&
          o->second.phase != Phase::kCancelled) {
        return Answer(iv, MessageType::kCEB622, codes.duplicate,
                      "运单[" + h.logisticsNo + "]已被订单[" + o->second.doc.head.orderNo +
                          "]的清单使用: one waybill carries one list");
      }
    }
    Touch("inventory", key);
    if (h.appType == "3") {
      std::string pre_no = stored->pre_no;
      Unlink(*stored, key);
      Uncount(key, *stored);
      inventories.erase(key);
      return Answer(iv, MessageType::kCEB622, status::kConcluded, "删除成功: the list is deleted",
                    pre_no);
    }
    if (stored != nullptr) Unlink(*stored, key);
    InventoryRec& rec = inventories[key];
    // A change keeps the list's preNo; a new declaration (also after a rejection or a
    // cancellation) gets a new one, so no number is ever issued twice.
    std::string pre_no = h.appType == "2" && !stored->pre_no.empty() ? stored->pre_no : NextPreNo();
    Uncount(key, rec);  // the same list declared again: counted afresh at the flush
    const Phase phase = h.appStatus == "1" ? Phase::kDraft : Phase::kWaiting;
    rec = InventoryRec{.doc = std::forward<D>(iv)};  // `h` is not read after this
    rec.phase = phase;
    rec.pre_no = pre_no;
    rec.received_ms = now;
    inventory_of_waybill[waybill_key] = key;
    if (rec.phase == Phase::kDraft) {
      return Answer(rec.doc, MessageType::kCEB622, status::kDraft,
                    "电子口岸已暂存: stored as a draft (appStatus 1)", pre_no);
    }
    if (!TryMatch(key)) {
      Answer(rec.doc, MessageType::kCEB622, status::kDeclaring,
             "电子口岸申报中: accepted; waiting for " + Missing(rec), pre_no);
    }
  }

  void OnCancel(const InvtCancel& c, std::string_view sender) {
    const CodeSet& codes = CodesFor(MessageType::kCEB623);
    const char* code = nullptr;
    std::string why = CheckSender(sender, reference::kEbc | reference::kAgent,
                                  {c.agentCode, c.ebcCode}, &code, codes);
    if (!why.empty()) return Answer(c, MessageType::kCEB624, code, why);
    WarmInvtNo(c.invtNo);
    auto idx = inventory_of_invt_no.find(c.invtNo);
    if (idx == inventory_of_invt_no.end()) {
      return Answer(c, MessageType::kCEB624, codes.not_found,
                    "系统中不存在清单编号为[" + c.invtNo + "]的清单！");
    }
    InventoryRec& inv = inventories.at(idx->second);
    const auto& h = inv.doc.head;
    if (h.ebpCode != c.ebpCode || h.orderNo != c.orderNo || h.buyerIdNumber != c.buyerIdNumber ||
        (sender != h.agentCode && sender != h.ebcCode)) {
      return Answer(c, MessageType::kCEB624, codes.invalid,
                    "报文校验失败，[ebpCode/orderNo/buyerIdNumber or the sender differ from list " +
                        c.invtNo + "]",
                    inv.pre_no, inv.invt_no);
    }
    if (inv.phase == Phase::kCancelled) {
      return Answer(c, MessageType::kCEB624, codes.duplicate,
                    "撤单清单[" + c.invtNo + "]已经申报过", inv.pre_no, inv.invt_no);
    }
    // A list can be cancelled while held or released, not once closed (899), returned or rejected.
    if (!(inv.phase == Phase::kReview || inv.phase == Phase::kInspection ||
          inv.phase == Phase::kReleased)) {
      return Answer(
          c, MessageType::kCEB624, codes.state,
          "清单的状态不符合撤单申报要求(清单编号[" + c.invtNo + "])！ it is " +
              PhaseName(inv.phase) +
              (inv.phase == Phase::kClosed ? ": a delivered list is returned with CEB625" : ""),
          inv.pre_no, inv.invt_no);
    }
    const stats::Contribution before = NetOf(inv);
    // Cancellation gives back the buyer's annual amount and voids the tax bill (Ann. 2018 No. 194).
    CountQuota(h.buyerIdNumber, inv.year, Decimal{} - (inv.counted - inv.restored), inv.invt_no,
               "cancelled (CEB623 " + c.guid + ")");
    inv.restored = inv.counted;
    VoidTaxBill(inv);
    inv.phase = Phase::kCancelled;
    Touch("inventory", idx->second);
    ChargeEvent(&c, credit::Event::kCancelled, inv.invt_no);
    Count(before, inv);
    Answer(c, MessageType::kCEB624, status::kConcluded,
           "撤销申请审结通过: list " + c.invtNo + " cancelled; " + Money(inv.counted) +
               " CNY given back to the buyer's annual amount",
           inv.pre_no, inv.invt_no);
  }

  void OnRefund(const InvtRefund& r, std::string_view sender) {
    const auto& rh = r.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB625);
    const char* code = nullptr;
    std::string why = CheckSender(sender, reference::kEbc | reference::kAgent,
                                  {rh.agentCode, rh.ebcCode}, &code, codes);
    if (!why.empty()) return Answer(r, MessageType::kCEB626, code, why);
    WarmInvtNo(rh.invtNo);
    auto idx = inventory_of_invt_no.find(rh.invtNo);
    if (idx == inventory_of_invt_no.end()) {
      return Answer(r, MessageType::kCEB626, codes.not_found,
                    "退货申请单申报失败，[no released list " + rh.invtNo + " is known]");
    }
    InventoryRec& inv = inventories.at(idx->second);
    const auto& h = inv.doc.head;
    if (h.ebpCode != rh.ebpCode || h.orderNo != rh.orderNo || h.buyerIdNumber != rh.buyerIdNumber ||
        h.logisticsNo != rh.logisticsNo || (sender != h.agentCode && sender != h.ebcCode)) {
      return Answer(r, MessageType::kCEB626, codes.invalid,
                    "退货申请单报文校验失败，[ebpCode/orderNo/logisticsNo/buyerIdNumber or the "
                    "sender differ from list " +
                        rh.invtNo + "]",
                    inv.pre_no, inv.invt_no);
    }
    if (inv.phase != Phase::kReleased && inv.phase != Phase::kClosed) {
      return Answer(r, MessageType::kCEB626, codes.not_found,
                    "退货申请单申报失败，[list " + rh.invtNo + " is " + PhaseName(inv.phase) +
                        "; only released lists can be returned]",
                    inv.pre_no, inv.invt_no);
    }
    // 海关总署公告2020年第45号: the return is applied within 30 days of release.
    const int64_t window = int64_t{rules.return_window_days} * kMillisPerDay;
    if (now - inv.released_ms > window) {
      return Answer(r, MessageType::kCEB626, codes.not_found,
                    "退货申请单申报失败，[released " + FormatAppTime(inv.released_ms) +
                        ", more than " + std::to_string(rules.return_window_days) +
                        " days ago: the return window is closed]",
                    inv.pre_no, inv.invt_no);
    }
    const stats::Contribution before = NetOf(inv);
    // Every returned line must be a line of the list, with no more than was left (spec -625209).
    std::vector<Decimal> returning(inv.doc.lists.size());
    for (const InvtRefundList& l : r.lists) {
      auto line = std::find_if(
          inv.doc.lists.begin(), inv.doc.lists.end(),
          [&](const InventoryList& x) { return x.gnum == l.gnum && x.gcode == l.gcode; });
      if (line == inv.doc.lists.end()) {
        return Answer(r, MessageType::kCEB626, kRefundLineNotFound,
                      "退货申请单[" + rh.invtNo + "],在关联的清单中未找到表体序号为[" +
                          std::to_string(l.gnum) + "],商品编号为[" + l.gcode + "]的数据",
                      inv.pre_no, inv.invt_no);
      }
      size_t i = static_cast<size_t>(line - inv.doc.lists.begin());
      Decimal left = line->qty - inv.returned_qty[i];
      if (l.qty > left) {
        return Answer(r, MessageType::kCEB626, codes.invalid,
                      "退货申请单报文校验失败，[gnum " + std::to_string(l.gnum) + ": qty " +
                          l.qty.ToString() + " is more than the " + left.ToString() +
                          " not yet returned]",
                      inv.pre_no, inv.invt_no);
      }
      returning[i] += l.qty;
    }
    bool all = true;
    Decimal give_back;
    for (size_t i = 0; i < returning.size(); ++i) {
      inv.returned_qty[i] += returning[i];
      all = all && inv.returned_qty[i] == inv.doc.lists[i].qty;
      // The returned share of the line's taxable price (totalPrice + its freight share).
      give_back.e5 +=
          RoundHalfUpToFenE5(static_cast<__int128>(inv.tax.lines[i].tax_price.e5) * returning[i].e5,
                             inv.doc.lists[i].qty.e5);
    }
    if (all) give_back = inv.counted - inv.restored;  // exactly what was counted, no rounding drift
    give_back = std::min(give_back, inv.counted - inv.restored);
    // 财关税〔2016〕18号 §4: returns within 30 days of release get the tax back and the
    // annual amount adjusted.
    CountQuota(h.buyerIdNumber, inv.year, Decimal{} - give_back, inv.invt_no,
               "returned (CEB625 " + rh.guid + ")");
    inv.restored += give_back;
    VoidTaxBill(inv);
    if (all) {
      inv.phase = Phase::kReturned;
    } else {
      ReissueTaxBill(inv);
    }
    Touch("inventory", idx->second);
    ChargeEvent(&r, credit::Event::kReturned, inv.invt_no);
    Count(before, inv);
    Answer(r, MessageType::kCEB626, status::kConcluded,
           std::string(all ? "退货审结: the whole list is returned"
                           : "退货审结: part of the list is returned") +
               "; " + Money(give_back) + " CNY given back to the buyer's annual amount",
           inv.pre_no, inv.invt_no);
  }

  void OnDelivery(const Delivery& d, std::string_view sender) {
    const auto& h = d.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB711);
    const char* code = nullptr;
    std::string why = CheckSender(sender, reference::kWarehouse, {h.operatorCode}, &code, codes);
    if (why.empty()) why = CheckParty(h.operatorCode, reference::kWarehouse, "operatorCode", &code);
    if (!why.empty()) return Answer(d, MessageType::kCEB712, code, why);
    const std::string key = Key(h.operatorCode, h.copNo.empty() ? h.guid : h.copNo);
    auto it = deliveries.find(key);
    if (it != deliveries.end()) {
      if (it->second.app_time == h.appTime) return out->resend_guids.push_back(it->second.guid);
      return Answer(d, MessageType::kCEB712, codes.duplicate,
                    "入库明细单报已存在: copNo " + h.copNo);
    }
    deliveries[key] = DeliveryRec{h.guid, h.appTime};
    Touch("delivery", key);
    size_t known = 0;
    for (const DeliveryList& l : d.lists) {
      const std::string waybill_key = Key(h.logisticsCode, l.logisticsNo);
      WarmWaybill(waybill_key);
      auto w = waybills.find(waybill_key);
      if (w == waybills.end()) continue;
      ++known;
      if (!w->second.arrived) {
        w->second.arrived = true;
        Touch("waybill", w->first);
      }
    }
    Answer(d, MessageType::kCEB712, status::kStored,
           "[Code:1800;Desc:逻辑校验通过] " + std::to_string(d.lists.size()) +
               " parcels entered, " + std::to_string(known) + " of them with a known waybill");
  }

  // --- matching and decision
  // -----------------------------------------------------------------------

  static const char* PhaseName(Phase p) {
    switch (p) {
      case Phase::kDraft:
        return "a draft";
      case Phase::kWaiting:
        return "waiting for documents";
      case Phase::kReview:
        return "held for manual review (300)";
      case Phase::kInspection:
        return "held for inspection (500)";
      case Phase::kReleased:
        return "released (800)";
      case Phase::kClosed:
        return "closed (899)";
      case Phase::kCancelled:
        return "cancelled";
      case Phase::kReturned:
        return "returned";
      case Phase::kRejected:
        return "rejected";
    }
    return "?";
  }

  const Order* DeclaredOrder(const std::string& key) const {
    auto it = orders.find(key);
    return it != orders.end() && it->second.head.appStatus == "2" ? &it->second : nullptr;
  }
  const Payment* DeclaredPayment(const std::string& order_key) const {
    auto link = payment_of_order.find(order_key);
    if (link == payment_of_order.end()) return nullptr;
    auto it = payments.find(link->second);
    return it != payments.end() && it->second.head.appStatus == "2" ? &it->second : nullptr;
  }
  const WaybillRec* DeclaredWaybill(const InventoryHead& h) const {
    auto it = waybills.find(Key(h.logisticsCode, h.logisticsNo));
    return it != waybills.end() && it->second.doc.head.appStatus == "2" ? &it->second : nullptr;
  }

  std::string Missing(const InventoryRec& inv) const {
    const auto& h = inv.doc.head;
    const std::string key = Key(h.ebpCode, h.orderNo);
    std::string m;
    auto add = [&](const std::string& s) { m += (m.empty() ? "" : ", ") + s; };
    if (!DeclaredOrder(key)) add("the order (CEB311) " + h.orderNo + " of " + h.ebpCode);
    if (!DeclaredPayment(key)) add("the payment (CEB411) of order " + h.orderNo);
    if (!DeclaredWaybill(h))
      add("the waybill (CEB511) " + h.logisticsNo + " of " + h.logisticsCode);
    return m;
  }

  void Unlink(const InventoryRec& inv, const std::string& key) {
    const std::string wk = Key(inv.doc.head.logisticsCode, inv.doc.head.logisticsNo);
    auto w = inventory_of_waybill.find(wk);
    if (w != inventory_of_waybill.end() && w->second == key) inventory_of_waybill.erase(w);
    if (!inv.invt_no.empty()) inventory_of_invt_no.erase(inv.invt_no);
  }

  // Decides the inventory of `inv_key` if it waits and its three documents are all declared.
  // Returns true if a decision was made (receipts emitted).
  bool TryMatch(const std::string& inv_key) {
    auto it = inventories.find(inv_key);
    if (it == inventories.end() || it->second.phase != Phase::kWaiting) return false;
    InventoryRec& inv = it->second;  // stays valid: WarmWaybill may add lists
    // The handlers warmed these keys already; a waybill skipped at start-up by a fingerprint
    // collision comes back here too.
    WarmWaybill(Key(inv.doc.head.logisticsCode, inv.doc.head.logisticsNo));
    const Order* order = DeclaredOrder(inv_key);
    const Payment* payment = DeclaredPayment(inv_key);
    const WaybillRec* waybill = DeclaredWaybill(inv.doc.head);
    if (order == nullptr || payment == nullptr || waybill == nullptr) return false;
    Touch("inventory", inv_key);

    std::vector<std::string> problems = CompareDocuments(inv.doc, *order, *payment, waybill->doc);
    if (!problems.empty()) {
      std::string info = "清单申报失败，[";
      for (size_t i = 0; i < problems.size(); ++i) info += (i ? "; " : "") + problems[i];
      info += "]";
      return Reject(inv, kInventoryMatchFailed, info);
    }
    const auto& h = inv.doc.head;
    // Tax rates of each line come from the positive list (checked in CompareDocuments).
    std::vector<TaxLineInput> lines;
    Decimal goods;
    for (const InventoryList& l : inv.doc.lists) {
      const reference::GoodsLine* g = ref->FindGoods(l.gcode);
      lines.push_back(TaxLineInput{l.gnum, l.gcode, l.totalPrice, g->vat_rate,
                                   g->consumption_tax_rate, g->duty_rate});
      goods += l.totalPrice;
    }
    // 财关税〔2018〕49号: both limits apply to the dutiable price: goods + freight + insurance.
    const Decimal dutiable = goods + h.freight + h.insuredFee;
    const int year = CstYear(now);
    const Decimal used = quota.Find(h.buyerIdNumber, year);
    // 49号 §2: one indivisible item (the order holds exactly one piece) may exceed the single
    // limit.
    const bool single_item =
        inv.doc.lists.size() == 1 && inv.doc.lists[0].qty == Decimal::FromUnits(1);
    const bool over_single = dutiable > rules.single_limit;
    if (over_single && !single_item) {
      return Reject(
          inv, kOverSingleLimit,
          "清单[" + h.orderNo + "]的购买金额超过单笔限额[" + Money(rules.single_limit) +
              "]: dutiable price " + Money(dutiable) +
              " (goods + freight + insurance) is over the limit and the order holds more than one "
              "indivisible item; split the order or declare it as general trade "
              "(财关税〔2018〕49号)");
    }
    if (used + dutiable > rules.annual_limit) {
      return Reject(inv, kOverAnnualLimit,
                    "清单[" + h.orderNo + "]中购买人[" + h.buyerName + "]已用购买额度为[" +
                        Money(used) + "]，本次购买将超过年度限额[" + Money(rules.annual_limit) +
                        "]: this list adds " + Money(dutiable) + "; " +
                        Money(rules.annual_limit - used) + " is left for " + std::to_string(year) +
                        " (财关税〔2018〕49号)");
    }
    // A buyer on the discredited list (电商信用体系, docs/CREDIT.md): the zone's choice of review
    // or refusal.
    const credit::DiscreditedBuyer* discredited = credit != nullptr && credit->config().enabled
                                                      ? credit->FindBuyer(h.buyerIdNumber)
                                                      : nullptr;
    std::string discredit_note;
    if (discredited != nullptr) {
      discredit_note = "buyer " + h.buyerName + " is on the discredited list since " +
                       FormatDate8(discredited->since_ms) + " (" +
                       discredited->evidence.substr(0, 300) + ")";
      if (credit->config().discredited_buyer_action == "reject") {
        return Reject(inv, status::kRejected,
                      "海关退单: the buyer is on the zone's discredited list (个人失信名单); ask "
                      "customs to review the listing");
      }
    }
    // The risk rules (风险防控, docs/RISK.md) see every list that passed the rules above.
    risk::Verdict verdict;
    if (risk) {
      verdict =
          risk->Assess(risk::ListFacts{&inv.doc, order, payment, &waybill->doc, dutiable}, now);
      risk->Observe(h, dutiable, now);
      inv.risk_ms = now;
      inv.risk_amount = dutiable;
      inv.risk_version = verdict.rules_version;
      inv.risk_score = verdict.score;
      if (verdict.action == risk::Action::kReject) {
        ChargeEvent(&inv.doc, credit::Event::kRejectedRisk, verdict.Explain().substr(0, 200));
        DiscreditBuyer(inv, DiscreditEvidence(verdict));
        return Reject(inv, status::kRejected, "海关退单: " + verdict.Explain());
      }
    }
    inv.tax = AssessTax(lines, h.freight + h.insuredFee, over_single, rules.reduction);
    inv.returned_qty.assign(inv.doc.lists.size(), Decimal{});
    inv.year = year;
    inv.counted = dutiable;
    inv.invt_no = NewInvtNo(inv);
    inventory_of_invt_no[inv.invt_no] = inv_key;
    CountQuota(h.buyerIdNumber, year, dutiable, inv.invt_no, "accepted (CEB621 " + h.guid + ")");
    NoteBuyer(h);
    Answer(inv.doc, MessageType::kCEB622, status::kStored,
           "[Code:1800;Desc:逻辑校验通过] order, payment and waybill match; dutiable price " +
               Money(dutiable) + "; buyer's " + std::to_string(year) + " amount now " +
               Money(used + dutiable),
           inv.pre_no, inv.invt_no);
    if (over_single && rules.review_single_item_over_limit) {
      inv.phase = Phase::kReview;
      inv.hold_reason =
          "single item over " + Money(rules.single_limit) +
          " CNY: an officer confirms it is indivisible (财关税〔2018〕49号 §2); full tax " +
          Money(inv.tax.Total());
      Answer(inv.doc, MessageType::kCEB622, status::kReview, "人工审核: " + inv.hold_reason,
             inv.pre_no, inv.invt_no);
      return true;
    }
    if (discredited != nullptr) {
      inv.phase = Phase::kReview;
      inv.hold_reason = discredit_note;
      if (verdict.score > 0) inv.hold_reason += "; " + verdict.Explain();
      Answer(inv.doc, MessageType::kCEB622, status::kReview,
             "人工审核: " + (rules.risk_reasons_in_receipts
                                 ? inv.hold_reason
                                 : std::string("selected by risk analysis")),
             inv.pre_no, inv.invt_no);
      return true;
    }
    if (verdict.action == risk::Action::kInspect || verdict.action == risk::Action::kReview) {
      const bool inspect = verdict.action == risk::Action::kInspect;
      inv.phase = inspect ? Phase::kInspection : Phase::kReview;
      inv.hold_reason = verdict.Explain();
      inv.discredit_evidence = DiscreditEvidence(verdict);
      if (inspect) ChargeEvent(&inv.doc, credit::Event::kInspected, "risk");
      const std::string shown = rules.risk_reasons_in_receipts
                                    ? inv.hold_reason
                                    : std::string("selected by risk analysis");
      Answer(inv.doc, MessageType::kCEB622, inspect ? status::kInspection : status::kReview,
             (inspect ? "查验: " : "人工审核: ") + shown, inv.pre_no, inv.invt_no);
      return true;
    }
    std::string rate_note;
    if (InspectionDrawn(h, &rate_note)) {
      inv.phase = Phase::kInspection;
      inv.hold_reason = "random inspection (" + rate_note + ")";
      ChargeEvent(&inv.doc, credit::Event::kInspected, "random");
      Answer(inv.doc, MessageType::kCEB622, status::kInspection, "查验: " + inv.hold_reason,
             inv.pre_no, inv.invt_no);
      return true;
    }
    Release(inv);
    return true;
  }

  // A deterministic draw: the list's guid and the seed decide, so a replay decides the same.
  // Credit-differentiated supervision: the rate follows the worst grade of the list's declarants
  // (the agent and the e-commerce enterprise), docs/CREDIT.md.
  bool InspectionDrawn(const InventoryHead& h, std::string* note) {
    Decimal rate = rules.random_inspection_rate;
    *note = "rate " + rate.ToString();
    if (credit != nullptr && credit->config().enabled) {
      credit::Grade worst = credit->GradeOf(h.agentCode, now);
      std::string who = h.agentCode;
      if (const credit::Grade g = credit->GradeOf(h.ebcCode, now); g > worst) {
        worst = g;
        who = h.ebcCode;
      }
      rate = credit->InspectionRate(rate, worst);
      if (rate != rules.random_inspection_rate) {
        *note +=
            ", " + rate.ToString() + " for credit grade " + credit::GradeName(worst) + " of " + who;
      }
    }
    if (rate.e5 <= 0) return false;
    uint64_t x = Hash64(h.guid, rules.random_seed) % static_cast<uint64_t>(Decimal::kScale);
    return static_cast<int64_t>(x) < rate.e5;
  }

  // The reasons of the rules marked discredit_buyer (fake orders, rented IDs) that fired.
  static std::string DiscreditEvidence(const risk::Verdict& verdict) {
    std::string evidence;
    for (const risk::Finding& f : verdict.findings) {
      if (f.discredit_buyer)
        evidence += (evidence.empty() ? "" : "; ") + ("[" + f.rule_id + "] " + f.reason);
    }
    return evidence;
  }

  // A list refused by the risk rules, or by an officer after a hold, where rules marked
  // discredit_buyer fired puts its buyer on the discredited list, with the reasons and the list
  // as evidence.
  void DiscreditBuyer(const InventoryRec& inv, const std::string& evidence) {
    if (credit == nullptr || !credit->config().enabled || evidence.empty()) return;
    const auto& h = inv.doc.head;
    credit->AddBuyer(credit::DiscreditedBuyer{h.buyerIdNumber, h.buyerName, now,
                                              "list of order " + h.orderNo + " (" + h.ebpCode +
                                                  ") refused on " + FormatDate8(now) + ": " +
                                                  evidence.substr(0, 600),
                                              "kuajing"});
  }

  // Lists still waiting for their order, payment or waybill `missing_after_hours` after they
  // were declared charge their declarant once (credit::Event::kMissingDocuments). Runs at most
  // once an hour, on the first message of the hour, so a replay charges the same lists.
  void SweepMissing() {
    if (credit == nullptr || !credit->config().enabled) return;
    const int64_t hour = now / 3'600'000;
    if (hour <= swept_hour) return;
    swept_hour = hour;
    Touch("meta", "swept_hour");
    const int64_t limit = int64_t{credit->config().missing_after_hours} * 3'600'000;
    // The waiting lists as of the last flush (this message's own changes come after the sweep),
    // in key order: a fixed order for the book.
    std::vector<std::string> due;
    for (const std::string& key : waiting_keys) {
      const InventoryRec& inv = inventories.at(key);
      if (inv.phase == Phase::kWaiting && !inv.missing_charged && inv.received_ms != 0 &&
          now - inv.received_ms >= limit) {
        due.push_back(key);
      }
    }
    // Charged to the lists' own parties, never to whoever sent the message that ran the sweep.
    const std::string_view message_sender = sender;
    sender = {};
    for (const std::string& key : due) {
      InventoryRec& inv = inventories.at(key);
      inv.missing_charged = true;
      Touch("inventory", key);
      ChargeEvent(&inv.doc, credit::Event::kMissingDocuments, "still waiting for " + Missing(inv));
    }
    sender = message_sender;
  }

  // The official equalities between the documents (XSD annotations; domain-reference 3.3).
  std::vector<std::string> CompareDocuments(const Inventory& inv, const Order& o, const Payment& p,
                                            const Logistics& w) const {
    std::vector<std::string> bad;
    const auto& ih = inv.head;
    const auto& oh = o.head;
    const auto& ph = p.head;
    const auto& wh = w.head;
    auto differ = [&](const std::string& a, const std::string& b, const std::string& what) {
      if (a != b) bad.push_back(what + " differ ('" + a + "' / '" + b + "')");
    };
    // OrderHead.acturalPaid: "与支付凭证的支付金额一致".
    if (oh.acturalPaid != ph.amountPaid) {
      bad.push_back("order acturalPaid " + oh.acturalPaid.ToString() +
                    " differs from payment amountPaid " + ph.amountPaid.ToString());
    }
    if (!oh.payCode.empty()) differ(oh.payCode, ph.payCode, "order payCode / payment payCode");
    if (!oh.payTransactionId.empty()) {
      differ(oh.payTransactionId, ph.payTransactionId, "order / payment payTransactionId");
    }
    differ(oh.ebcCode, ih.ebcCode, "order / list ebcCode");
    differ(wh.orderNo, oh.orderNo, "waybill orderNo / order orderNo");
    // OrderHead.consignee*: "必须与电子运单的...一致".
    differ(oh.consignee, wh.consignee, "order / waybill consignee");
    differ(oh.consigneeTelephone, wh.consigneeTelephone, "order / waybill consigneeTelephone");
    differ(oh.consigneeAddress, wh.consigneeAddress, "order / waybill consigneeAddress");
    differ(oh.buyerIdNumber, ih.buyerIdNumber, "order / list buyerIdNumber");
    differ(oh.buyerName, ih.buyerName, "order / list buyerName");
    // 财关税〔2016〕18号 §5: an unauthenticated buyer must be the payer.
    const Enterprise* platform = ref->FindEnterprise(oh.ebpCode);
    if (platform == nullptr || !platform->buyer_identity_verified) {
      if (oh.buyerIdNumber != ph.payerIdNumber || oh.buyerName != ph.payerName) {
        bad.push_back(
            "订购人与支付人不一致: buyer " + oh.buyerName + " is not the payer " + ph.payerName +
            " and the platform's buyer identities are not authenticated (财关税〔2016〕18号)");
      }
    }
    // InventoryList.gnum: "与关联的电子订单表体序号一一对应"; gname "与电子订单一致".
    if (inv.lists.size() != o.lists.size()) {
      bad.push_back("the list has " + std::to_string(inv.lists.size()) + " lines, the order " +
                    std::to_string(o.lists.size()) + ": lines must correspond one to one");
    }
    for (const InventoryList& l : inv.lists) {
      auto ol = std::find_if(o.lists.begin(), o.lists.end(),
                             [&](const OrderList& x) { return x.gnum == l.gnum; });
      const std::string g = "line " + std::to_string(l.gnum);
      if (ol == o.lists.end()) {
        bad.push_back(g + " has no order line with the same gnum");
      } else {
        if (rules.require_gname_equals_item_name)
          differ(l.gname, ol->itemName, g + " gname / order itemName");
        if (l.qty != ol->qty)
          bad.push_back(g + " qty " + l.qty.ToString() + " differs from the order's " +
                        ol->qty.ToString());
      }
      // The positive list (跨境电子商务零售进口商品清单, MOF et al. 2019, adjusted by 2022 No. 7).
      if (ref->FindGoods(l.gcode) == nullptr) {
        bad.push_back(g + " gcode " + l.gcode + " is not on the retail-import positive list");
      }
    }
    return bad;
  }

  bool Reject(InventoryRec& inv, const char* code, const std::string& info) {
    inv.phase = Phase::kRejected;
    Answer(inv.doc, MessageType::kCEB622, code, info, inv.pre_no);
    return true;
  }

  // The clearance began with its first document (docs/METRICS.md, "Clearance time"): the earliest
  // of the list's arrival here and the appTime its declarants wrote on the order, payment, waybill
  // and list. A declared time is believed only within the 30 days before the list arrived, so a
  // wrong clock cannot stretch the histogram.
  int64_t FirstDocumentMs(const InventoryRec& inv) const {
    const auto& h = inv.doc.head;
    int64_t first = inv.received_ms != 0 ? inv.received_ms : now;
    const int64_t floor = first - 30 * kMillisPerDay;
    auto consider = [&](const std::string& app_time) {
      if (auto t = ParseAppTime(app_time); t && *t >= floor && *t < first) first = *t;
    };
    consider(h.appTime);
    const std::string key = Key(h.ebpCode, h.orderNo);
    if (auto o = orders.find(key); o != orders.end()) consider(o->second.head.appTime);
    if (auto pk = payment_of_order.find(key); pk != payment_of_order.end()) {
      if (auto p = payments.find(pk->second); p != payments.end()) consider(p->second.head.appTime);
    }
    if (auto w = waybills.find(Key(h.logisticsCode, h.logisticsNo)); w != waybills.end())
      consider(w->second.doc.head.appTime);
    return first;
  }

  void Release(InventoryRec& inv) {
    inv.phase = Phase::kReleased;
    inv.released_ms = now;
    inv.first_ms = FirstDocumentMs(inv);
    const TaxAssessment& t = inv.tax;
    Answer(inv.doc, MessageType::kCEB622, status::kConcluded,
           "海关审结: tax " + Money(t.Total()) + " (duty " + Money(t.customs_tax) + ", VAT " +
               Money(t.value_added_tax) + ", consumption tax " + Money(t.consumption_tax) + ")" +
               (t.full_tax ? ", general-trade full tax" : ", retail-import rate"),
           inv.pre_no, inv.invt_no);
    Answer(inv.doc, MessageType::kCEB622, status::kReleased, "放行", inv.pre_no, inv.invt_no);
    IssueTaxBill(inv);
    Count({}, inv);  // with its tax bill
    MaybeClose(Key(inv.doc.head.ebpCode, inv.doc.head.orderNo));
  }

  std::string TaxNo(const InventoryRec& inv) const {
    return inv.invt_no + "_" + std::to_string(inv.tax_seq);
  }

  void IssueTaxBill(InventoryRec& inv) {
    inv.tax_issued = true;
    EmitTaxBill(inv, inv.tax);
  }
  void EmitTaxBill(const InventoryRec& inv, const TaxAssessment& tax) {
    std::string packed;
    AppendPackedTaxBill(packed, inv.doc, tax, inv.invt_no, TaxNo(inv), now);
    Emit(MessageType::kCEB816, &inv.doc, "1", std::move(packed));
  }
  void VoidTaxBill(InventoryRec& inv) {
    if (!inv.tax_issued) return;
    inv.tax_issued = false;
    Emit(MessageType::kCEB818, &inv.doc, "3",
         codec::PackRecord(MakeTaxStatus(inv.doc, inv.invt_no, TaxNo(inv), "3", now)));
  }
  // After a partial return: a new bill for what is kept, each line's taxes in proportion to the
  // quantity kept, rounded to the fen.
  void ReissueTaxBill(InventoryRec& inv) {
    const TaxAssessment kept = KeptTax(inv);
    ++inv.tax_seq;
    inv.tax_issued = true;
    EmitTaxBill(inv, kept);
  }
  static TaxAssessment KeptTax(const InventoryRec& inv) {
    TaxAssessment kept = inv.tax;
    kept.customs_tax = kept.value_added_tax = kept.consumption_tax = Decimal{};
    for (size_t i = 0; i < kept.lines.size(); ++i) {
      const __int128 left = (inv.doc.lists[i].qty - inv.returned_qty[i]).e5,
                     all = inv.doc.lists[i].qty.e5;
      LineTax& l = kept.lines[i];
      const LineTax& orig = inv.tax.lines[i];
      l.tax_price.e5 = RoundHalfUpToFenE5(orig.tax_price.e5 * left, all);
      l.customs_tax.e5 = RoundHalfUpToFenE5(orig.customs_tax.e5 * left, all);
      l.value_added_tax.e5 = RoundHalfUpToFenE5(orig.value_added_tax.e5 * left, all);
      l.consumption_tax.e5 = RoundHalfUpToFenE5(orig.consumption_tax.e5 * left, all);
      kept.customs_tax += l.customs_tax;
      kept.value_added_tax += l.value_added_tax;
      kept.consumption_tax += l.consumption_tax;
    }
    return kept;
  }

  // What the list adds to the statistics now (docs/METRICS.md): a released or closed list, by the
  // day of its release, net of returns; nothing otherwise.
  static stats::Contribution NetOf(const InventoryRec& inv) {
    stats::Contribution c;
    c.counted = inv.phase == Phase::kReleased || inv.phase == Phase::kClosed;
    if (!c.counted) return c;
    const auto& h = inv.doc.head;
    c.direction = stats::Direction::kImport;
    c.day = stats::DayOf(inv.released_ms);
    c.trade_mode = h.tradeMode;
    c.ebc = h.ebcCode;
    c.main_currency = "142";
    if (inv.first_ms != 0) c.clearance_ms = std::max<int64_t>(0, inv.released_ms - inv.first_ms);
    c.value["142"] = inv.counted - inv.restored;
    c.tax = !inv.tax_issued                                   ? Decimal{}
            : inv.returned_qty.size() == inv.tax.lines.size() ? KeptTax(inv).Total()
                                                              : inv.tax.Total();
    for (size_t i = 0; i < inv.doc.lists.size(); ++i) {
      const InventoryList& l = inv.doc.lists[i];
      const Decimal returned = i < inv.returned_qty.size() ? inv.returned_qty[i] : Decimal{};
      const Decimal v = stats::NetLineValue(l.totalPrice, l.qty, returned);
      c.lines.push_back(stats::LineValue{l.country, l.gcode.substr(0, 2), "142", v});
    }
    return c;
  }
  void Count(const stats::Contribution& before, const InventoryRec& inv) {
    if (stats != nullptr) stats->Change(before, NetOf(inv));
  }

  // 899 (结关) once a released list's parcel is signed for (CEB513 S). [U] The standard lists 899
  // but does not say which event closes an import list; delivery is the event kuajing uses.
  void MaybeClose(const std::string& inv_key) {
    auto it = inventories.find(inv_key);
    if (it == inventories.end() || it->second.phase != Phase::kReleased) return;
    InventoryRec& inv = it->second;
    auto w = waybills.find(Key(inv.doc.head.logisticsCode, inv.doc.head.logisticsNo));
    if (w == waybills.end() || !w->second.signed_off) return;
    inv.phase = Phase::kClosed;
    Touch("inventory", inv_key);
    Answer(inv.doc, MessageType::kCEB622, status::kClosed, "结关: the parcel is delivered",
           inv.pre_no, inv.invt_no);
  }

  // --- stored form
  // -----------------------------------------------------------------------------------

  // The kinds of state row the import engine writes, told apart by their first byte (the link
  // kinds by their sixth) instead of a string comparison per kind: six or seven rows per
  // clearance are flushed (SerializeTo), and the comparisons were 1.7 K instructions
  // of a clearance's 169 K on the writer (bench/README.md).
  enum class RowKind {
    kOrder,
    kPayment,
    kWaybill,
    kInventory,
    kDelivery,
    kLinkWaybill,
    kLinkInvtNo,
    kMeta
  };
  static RowKind KindOf(std::string_view kind) {
    switch (kind.empty() ? '\0' : kind[0]) {
      case 'o':
        return RowKind::kOrder;
      case 'p':
        return RowKind::kPayment;
      case 'w':
        return RowKind::kWaybill;
      case 'i':
        return RowKind::kInventory;
      case 'd':
        return RowKind::kDelivery;
      case 'l':
        return kind.size() > 5 && kind[5] == 'w' ? RowKind::kLinkWaybill : RowKind::kLinkInvtNo;
      default:
        return RowKind::kMeta;
    }
  }

  // The row of (kind, key) written into `out` (empty), or false when memory no longer has it
  // (an erase). One lookup per row (rows::FlushDirty).
  bool SerializeTo(const std::string& kind, const std::string& key, std::string* out) const {
    std::string& text = *out;
    switch (KindOf(kind)) {
      case RowKind::kOrder: {
        auto it = orders.find(key);
        if (it == orders.end()) return false;
        text = EncodeRecord(it->second);
        return true;
      }
      case RowKind::kPayment: {
        auto it = payments.find(key);
        if (it == payments.end()) return false;
        text = EncodeRecord(it->second);
        return true;
      }
      case RowKind::kWaybill: {
        auto it = waybills.find(key);
        if (it == waybills.end()) return false;
        const WaybillRec& w = it->second;
        text.reserve(512);
        FieldWriter(text)
            .Flag("signed", w.signed_off)
            .Flag("arrived", w.arrived)
            .Text("status_guid", w.status_guid)
            .Text("status_app_time", w.status_app_time)
            .End();
        codec::AppendPackedOf(text, w.doc);
        return true;
      }
      case RowKind::kInventory: {
        auto it = inventories.find(key);
        if (it == inventories.end()) return false;
        // The fields, the list and its tax bill written into one string (rows::SplitRecords):
        // each part made apart and appended was a copy and an allocation more per part.
        const InventoryRec& v = it->second;
        text.reserve(2048);
        FieldWriter w(text);
        w.Int("phase", static_cast<int>(v.phase))
            .Text("pre_no", v.pre_no)
            .Text("invt_no", v.invt_no)
            .Text("hold_reason", v.hold_reason)
            .Int("released_ms", v.released_ms)
            .Int("year", v.year)
            .Int("counted", v.counted.e5)
            .Int("restored", v.restored.e5)
            .Flag("tax_issued", v.tax_issued)
            .Int("tax_seq", v.tax_seq)
            .Flag("full_tax", v.tax.full_tax)
            .Int("risk_ms", v.risk_ms)
            .Int("risk_amount", v.risk_amount.e5)
            .Text("risk_version", v.risk_version)
            .Int("risk_score", v.risk_score)
            .Int("received_ms", v.received_ms)
            .Flag("missing_charged", v.missing_charged)
            .Int("first_ms", v.first_ms)
            .Text("discredit_evidence", v.discredit_evidence)
            .Text("returned", JoinDecimals(v.returned_qty))
            .Text("payment_key", PaymentKeyOf(key))
            .Flag("linked", v.linked);
        if (!v.tax.lines.empty()) AppendTaxField(text, v.tax);
        w.End();
        codec::AppendPackedOf(text, v.doc);
        return true;
      }
      case RowKind::kDelivery: {
        auto it = deliveries.find(key);
        if (it == deliveries.end()) return false;
        FieldWriter(text).Text("guid", it->second.guid).Text("app_time", it->second.app_time).End();
        return true;
      }
      case RowKind::kLinkWaybill: {
        auto it = inventory_of_waybill.find(key);
        if (it == inventory_of_waybill.end()) return false;
        text = it->second;
        return true;
      }
      case RowKind::kLinkInvtNo: {
        auto it = inventory_of_invt_no.find(key);
        if (it == inventory_of_invt_no.end()) return false;
        text = it->second;
        return true;
      }
      case RowKind::kMeta:
        break;
    }
    text = key == "swept_hour" ? std::to_string(swept_hour) : std::to_string(seq);  // meta/seq
    return true;
  }

  std::string PaymentKeyOf(const std::string& order_key) const {
    auto it = payment_of_order.find(order_key);
    return it == payment_of_order.end() ? std::string() : it->second;
  }

  void Flush() {
    std::vector<const InventoryRec*> to_link;
    // The rows as touched, a list perhaps more than once (counting it again changes nothing);
    // FlushDirty sorts them once, with the links added below.
    for (const auto& [kind, key] : dirty.rows()) {
      if (kind != "inventory") continue;
      if (auto it = inventories.find(key); it != inventories.end()) {
        InventoryRec& v = it->second;
        Recount(key, v);
        if (reader && v.phase == Phase::kRejected) evictable.push_back(key);
        if (!Settled(v.phase)) continue;
        if (!v.linked) to_link.push_back(&v);
        v.linked = true;
        if (reader) evictable.push_back(key);
      }
    }
    // The links that find a settled clearance by its waybill or its invtNo once it is out of
    // memory, written with the list's row.
    for (const InventoryRec* v : to_link) {
      Touch(kLinkWaybill, Key(v->doc.head.logisticsCode, v->doc.head.logisticsNo));
      Touch(kLinkInvtNo, v->invt_no);
    }
    FlushDirty(dirty, *this, &out->changes);
    FlushCredit(credit, &out->changes);
  }
  // The lists waiting for documents and the held ones, by key, beside the counts: the hourly
  // sweep and the officer's queue read these instead of every list.
  std::set<std::string>* KeysOf(int8_t phase) {
    const auto p = static_cast<Phase>(phase);
    return p == Phase::kWaiting                             ? &waiting_keys
           : p == Phase::kReview || p == Phase::kInspection ? &held_keys
                                                            : nullptr;
  }
  void Recount(const std::string& key, InventoryRec& v) {
    Uncount(key, v);
    v.counted_phase = static_cast<int8_t>(v.phase);
    ++phase_counts[static_cast<size_t>(v.phase)];
    if (auto* keys = KeysOf(v.counted_phase)) keys->insert(key);
  }
  void Uncount(const std::string& key, InventoryRec& v) {
    if (v.counted_phase >= 0) {
      --phase_counts[static_cast<size_t>(v.counted_phase)];
      if (auto* keys = KeysOf(v.counted_phase)) keys->erase(key);
    }
    v.counted_phase = -1;
  }

  static StatusOr<WaybillRec> ParseWaybill(const std::string& value, std::string_view* rest) {
    const FieldsView f(value, rest);
    auto l = DecodeRecord<Logistics>(*rest);
    if (!l.ok()) return l.status();
    return WaybillRec{std::move(*l), f.Get("signed") == "1", f.Get("arrived") == "1",
                      ToStr(f, "status_guid"), ToStr(f, "status_app_time")};
  }

  // A list's tax assessment in its row (since 2026-12-08): "customs,vat,consumption" totals, then
  // for each goods line, in the list's order, ";gnum,tax_price,customs,vat,consumption", all in
  // 1e-5 yuan (Decimal::e5). Each line's gcode is the list's own (AssessTax copies it). Before,
  // the row held a CEB816 tax bill made from the assessment at every write of the row (a record
  // of some 30 fields, copied from the list) only for these numbers to be read back
  // (bench/README.md).
  static constexpr const char* kTaxField = "tax_e5";
  static void AppendTaxField(std::string& out, const TaxAssessment& t) {
    const size_t at = out.size();
    out.resize(at + std::strlen(kTaxField) + 1 + 3 * 21 + t.lines.size() * 5 * 21 + 1);
    char* p = std::copy_n(kTaxField, std::strlen(kTaxField), out.data() + at);
    *p++ = '\t';
    char* const end = out.data() + out.size();
    const auto put = [&](int64_t n, char sep) {
      if (sep != 0) *p++ = sep;
      p = std::to_chars(p, end, n).ptr;
    };
    put(t.customs_tax.e5, 0);
    put(t.value_added_tax.e5, ',');
    put(t.consumption_tax.e5, ',');
    for (const LineTax& l : t.lines) {
      put(l.gnum, ';');
      put(l.tax_price.e5, ',');
      put(l.customs_tax.e5, ',');
      put(l.value_added_tax.e5, ',');
      put(l.consumption_tax.e5, ',');
    }
    *p++ = '\n';
    out.resize(static_cast<size_t>(p - out.data()));
  }
  // The assessment AppendTaxField wrote for `list` into `t` (its lines appended); false if the
  // text is not that or its lines are not the list's goods lines, one for one.
  static bool ParseTaxField(std::string_view text, const Inventory& list, TaxAssessment* t) {
    const char* p = text.data();
    const char* const end = p + text.size();
    const auto get = [&](int64_t* n, char sep) {
      if (sep != 0) {
        if (p == end || *p != sep) return false;
        ++p;
      }
      const auto [q, ec] = std::from_chars(p, end, *n);
      if (ec != std::errc() || q == p) return false;
      p = q;
      return true;
    };
    if (!get(&t->customs_tax.e5, 0) || !get(&t->value_added_tax.e5, ',') ||
        !get(&t->consumption_tax.e5, ',')) {
      return false;
    }
    for (const InventoryList& item : list.lists) {
      LineTax l{};
      if (!get(&l.gnum, ';') || l.gnum != item.gnum || !get(&l.tax_price.e5, ',') ||
          !get(&l.customs_tax.e5, ',') || !get(&l.value_added_tax.e5, ',') ||
          !get(&l.consumption_tax.e5, ',')) {
        return false;
      }
      l.gcode = item.gcode;
      t->lines.push_back(std::move(l));
    }
    return p == end;
  }

  // A stored inventory row; `payment_key` gets the key of the payment it was matched with ("" in
  // rows written before the field, or before the match).
  static StatusOr<InventoryRec> ParseInventory(const std::string& value, std::string* payment_key) {
    InventoryRec v;
    KJ_RETURN_IF_ERROR(ParseInventoryInto(value, payment_key, v));
    return v;
  }
  // The same over `v`, every field assigned (the ones the row does not hold reset), its strings and
  // lines keeping their room: start-up without a snapshot reads millions of settled lists into one
  // InventoryRec only to count them, where a fresh one each made about 40 allocations and frees.
  static Status ParseInventoryInto(const std::string& value, std::string* payment_key,
                                   InventoryRec& v) {
    std::string_view rest;
    const FieldsView f(value, &rest);
    const auto [list_part, tax_part] = rows::SplitRecords(rest);
    if (!list_part.empty() && list_part[0] == codec::kPackedMagic) {
      Status st = codec::UnpackRecordOfInto(list_part, v.doc);
      if (!st.ok()) return Internal("stored record: " + st.message());
    } else {
      auto iv = DecodeRecord<Inventory>(list_part);
      if (!iv.ok()) return iv.status();
      v.doc = std::move(*iv);
    }
    v.phase = static_cast<Phase>(ToInt(f, "phase"));
    v.pre_no = ToStr(f, "pre_no");
    v.invt_no = ToStr(f, "invt_no");
    v.hold_reason = ToStr(f, "hold_reason");
    v.released_ms = ToInt(f, "released_ms");
    v.year = static_cast<int>(ToInt(f, "year"));
    v.counted.e5 = ToInt(f, "counted");
    v.restored.e5 = ToInt(f, "restored");
    v.tax_issued = ToStr(f, "tax_issued") == "1";
    v.tax_seq = static_cast<int>(ToInt(f, "tax_seq"));
    v.returned_qty = SplitDecimals(ToStr(f, "returned"));
    v.risk_ms = ToInt(f, "risk_ms");
    v.risk_amount.e5 = ToInt(f, "risk_amount");
    v.risk_version = ToStr(f, "risk_version");
    v.risk_score = static_cast<int>(ToInt(f, "risk_score"));
    v.received_ms = ToInt(f, "received_ms");
    v.missing_charged = ToStr(f, "missing_charged") == "1";
    v.first_ms = ToInt(f, "first_ms");
    v.discredit_evidence = ToStr(f, "discredit_evidence");
    *payment_key = ToStr(f, "payment_key");
    v.linked = ToStr(f, "linked") == "1";
    v.counted_phase = -1;
    v.tax = TaxAssessment{};
    if (const std::string_view tax = f.Get(kTaxField); !tax.empty()) {
      v.tax.full_tax = ToStr(f, "full_tax") == "1";
      if (!ParseTaxField(tax, v.doc, &v.tax)) {
        return Internal("the stored tax of list " + v.doc.head.copNo +
                        " does not match its goods: " + std::string(tax.substr(0, 80)));
      }
    } else if (!tax_part.empty()) {
      // Rows written before 2026-12-08 hold the assessment as a tax bill after the list.
      // The tax bill read the same way, over the thread's last one.
      static thread_local Tax scratch;
      Tax* t = &scratch;
      if (tax_part[0] == codec::kPackedMagic) {
        Status st = codec::UnpackRecordOfInto(tax_part, scratch);
        if (!st.ok()) return Internal("stored record: " + st.message());
      } else {
        auto decoded = DecodeRecord<Tax>(tax_part);
        if (!decoded.ok()) return decoded.status();
        scratch = std::move(*decoded);
      }
      v.tax.full_tax = ToStr(f, "full_tax") == "1";
      v.tax.customs_tax = t->head.customsTax;
      v.tax.value_added_tax = t->head.valueAddedTax;
      v.tax.consumption_tax = t->head.consumptionTax;
      for (const TaxListRd& l : t->lists) {
        v.tax.lines.push_back(
            LineTax{l.gnum, l.gcode, l.taxPrice, l.customsTax, l.valueAddedTax, l.consumptionTax});
      }
      if (v.tax.lines.size() != v.doc.lists.size()) {  // KeptTax pairs them one for one
        return Internal("the stored tax bill of list " + v.doc.head.copNo +
                        " does not match its goods");
      }
    }
    return Status::Ok();
  }

  // With a reader, an order of no list in memory whose fingerprint is there belongs to a settled
  // list out of memory (list rows come first): it stays in the store. A collision only means it is
  // read back when its key is next used (WarmOrder). The same for waybills (WarmWaybill).
  bool ColdOrder(const std::string& key) const {
    return reader && inventories.count(key) == 0 && cold.MayContain('o', key);
  }
  bool ColdWaybill(const std::string& key) const {
    return reader && inventory_of_waybill.count(key) == 0 && cold.MayContain('w', key);
  }

  bool RestoreWants(std::string_view kind, std::string_view key) const {
    if (kind == kLinkWaybill || kind == kLinkInvtNo) return false;
    if (kind == "order") return !ColdOrder(std::string(key));
    if (kind == "waybill") return !ColdWaybill(std::string(key));
    return true;
  }

  Status RestoreRow(const StateChange& row) {
    std::string_view rest;
    if (row.kind == "order") {
      if (ColdOrder(row.key)) return Status::Ok();
      auto o = DecodeRecord<Order>(row.value);
      if (!o.ok()) return o.status();
      orders[row.key] = std::move(*o);
    } else if (row.kind == "payment") {
      // Read over the last one (most are of settled clearances, read only for their order's key).
      Payment& p = restore_payment;
      if (!row.value.empty() && row.value[0] == codec::kPackedMagic) {
        Status st = codec::UnpackRecordOfInto(row.value, p);
        if (!st.ok()) return Internal("stored record: " + st.message());
      } else {
        auto decoded = DecodeRecord<Payment>(row.value);
        if (!decoded.ok()) return decoded.status();
        p = std::move(*decoded);
      }
      const std::string order_key = Key(p.head.ebpCode, p.head.orderNo);
      if (reader && inventories.count(order_key) == 0 && cold.MayContain('p', row.key) &&
          cold.MayContain('o', order_key)) {
        return Status::Ok();
      }
      payment_of_order[order_key] = row.key;
      payments[row.key] = p;
    } else if (row.kind == "waybill") {
      if (ColdWaybill(row.key)) return Status::Ok();
      auto w = ParseWaybill(row.value, &rest);
      if (!w.ok()) return w.status();
      waybills[row.key] = std::move(*w);
    } else if (row.kind == "inventory") {
      std::string payment_key;
      KJ_RETURN_IF_ERROR(ParseInventoryInto(row.value, &payment_key, restore_scratch));
      InventoryRec& v = restore_scratch;
      const auto& h = v.doc.head;
      if (!counted_in_snapshot) {
        // The risk engine's past is the lists it assessed, whatever became of them.
        if (risk && v.risk_ms != 0) risk->Observe(v.doc.head, v.risk_amount, v.risk_ms);
        if (v.counted.e5 != 0) {
          Decimal& used = quota.Used(h.buyerIdNumber, v.year);
          if (stats != nullptr) stats->MoveQuota(v.year, used, used + v.counted - v.restored);
          used += v.counted - v.restored;
          NoteBuyer(h);
        }
        if (stats != nullptr) stats->Apply(NetOf(v), +1);
      }
      if (reader && MayLeave(v.phase, v.linked) && !payment_key.empty() &&
          inventories.count(row.key) == 0) {
        // Counted, and left in the store: its documents' rows, which come after it, too.
        ++phase_counts[static_cast<size_t>(v.phase)];
        cold.Insert('o', row.key);
        cold.Insert('p', payment_key);
        cold.Insert('w', Key(h.logisticsCode, h.logisticsNo));
        ++cold_count;
        return Status::Ok();
      }
      if (v.phase != Phase::kRejected && v.phase != Phase::kCancelled) {
        inventory_of_waybill[Key(h.logisticsCode, h.logisticsNo)] = row.key;
      }
      // The same indexes the live engine keeps: a rejected list is unlinked (see Unlink).
      if (!v.invt_no.empty() && v.phase != Phase::kRejected)
        inventory_of_invt_no[v.invt_no] = row.key;
      InventoryRec& slot = inventories[row.key];
      Uncount(row.key, slot);  // a row read twice counts once
      slot = std::move(v);
      Recount(row.key, slot);
    } else if (row.kind == "delivery") {
      Fields f = DecodeFields(row.value, &rest);
      deliveries[row.key] = DeliveryRec{f["guid"], f["app_time"]};
    } else if (row.kind == "meta") {
      (row.key == "swept_hour" ? swept_hour : seq) = std::stoll(row.value);
    } else if (row.kind == kLinkWaybill || row.kind == kLinkInvtNo) {
      // Read only for clearances out of memory; the indexes in memory come from the lists.
    } else {
      return Internal("unknown state kind " + row.kind);
    }
    return Status::Ok();
  }
};

// --- public API
// ------------------------------------------------------------------------------------

Engine::Engine(const reference::ReferenceData* reference, RulesConfig rules, credit::Book* credit)
    : s_(std::make_unique<State>()) {
  s_->ref = reference;
  s_->credit = credit;
  s_->rules = std::move(rules);
  if (s_->rules.risk_rules) s_->risk = std::make_unique<risk::RiskEngine>(s_->rules.risk_rules);
}

void Engine::SetStats(stats::Aggregates* stats) { s_->stats = stats; }

void Engine::SetRiskRules(std::shared_ptr<const risk::Rules> rules) {
  // The observed past stays; without rules the engine keeps observing nothing new.
  if (!rules) {
    s_->risk.reset();
  } else if (s_->risk) {
    s_->risk->SetRules(rules);
  } else {
    // Turned on at run time: the past is rebuilt from the lists assessed before.
    s_->risk = std::make_unique<risk::RiskEngine>(rules);
    for (const auto& [k, v] : s_->inventories)
      if (v.risk_ms != 0) s_->risk->Observe(v.doc.head, v.risk_amount, v.risk_ms);
  }
  s_->rules.risk_rules = std::move(rules);
}

Engine::~Engine() = default;

std::optional<Emitted> FieldRejection(const codec::DecodedMessage& m, size_t i,
                                      const RulesConfig& rules, int64_t now_ms) {
  const Record& rec = m.message.records[i];
  std::string info;
  const char* code = CodesFor(m.message.type).invalid;
  for (const codec::FieldError& e : m.errors[i])
    info += (info.empty() ? "" : "; ") + e.path + ": " + e.reason;
  if (info.empty()) {
    for (const Finding& f : ValidateRecord(rec, rules)) {
      if (info.empty()) code = f.code;
      info += (info.empty() ? "" : "; ") + f.detail;
    }
  }
  if (info.empty()) return std::nullopt;
  Emitted e{ReceiptTypeOf(m.message.type), RecordGuid(rec), code, {}, PartiesOf(rec)};
  AppendPackedReceipt(e.receipt, RefOf(rec), code, "参数校验不通过，[" + info + "]", now_ms);
  return e;
}

StepResult Engine::Process(const codec::DecodedMessage& m, std::string_view sender,
                           int64_t now_ms) {
  return ProcessRecords(m, sender, now_ms);
}

StepResult Engine::Process(codec::DecodedMessage&& m, std::string_view sender, int64_t now_ms) {
  return ProcessRecords(m, sender, now_ms);
}

// `Message` is const (each document the engine keeps is copied) or not (moved from `m`).
template <typename Message>
StepResult Engine::ProcessRecords(Message& m, std::string_view sender, int64_t now_ms) {
  StepResult result;
  State& s = *s_;
  s.out = &result;
  s.now = now_ms;
  s.sender = sender;
  s.SweepMissing();
  // Every record's field check first, then the handlers in the records' order, as if each check
  // came just before its handler (a check reads its record alone): run back to back, the checks
  // keep their code in the instruction cache, where the writer otherwise misses it (bench/
  // README.md, "Where the time goes now").
  const size_t n = m.message.records.size();
  std::vector<std::optional<Emitted>> rejections(n);
  for (size_t i = 0; i < n; ++i) rejections[i] = FieldRejection(m, i, s.rules, now_ms);
  for (size_t i = 0; i < n; ++i) {
    auto& rec = m.message.records[i];
    s.ChargeEvent(RefOf(rec), credit::Event::kDeclared, {});
    if (auto& bad = rejections[i]) {
      s.ChargeEvent(RefOf(rec), credit::Event::kRejectedFormat, bad->status);
      result.receipts.push_back(std::move(*bad));
      continue;
    }
    // The record is not read after its handler: the engine may keep it.
    std::visit(
        [&](auto& d) {
          using T = std::remove_cvref_t<decltype(d)>;
          using Given = std::conditional_t<std::is_const_v<Message>, const T&, T&&>;
          if constexpr (std::is_same_v<T, Order>)
            s.OnOrder(static_cast<Given>(d), sender);
          else if constexpr (std::is_same_v<T, Payment>)
            s.OnPayment(static_cast<Given>(d), sender);
          else if constexpr (std::is_same_v<T, Logistics>)
            s.OnLogistics(static_cast<Given>(d), sender);
          else if constexpr (std::is_same_v<T, LogisticsStatus>)
            s.OnLogisticsStatus(d, sender);
          else if constexpr (std::is_same_v<T, Inventory>)
            s.OnInventory(static_cast<Given>(d), sender);
          else if constexpr (std::is_same_v<T, InvtCancel>)
            s.OnCancel(d, sender);
          else if constexpr (std::is_same_v<T, InvtRefund>)
            s.OnRefund(d, sender);
          else if constexpr (std::is_same_v<T, Delivery>)
            s.OnDelivery(d, sender);
        },
        rec);
  }
  s.Flush();
  s.out = nullptr;
  s.sender = {};
  result.status = std::exchange(s.read_error, Status::Ok());
  return result;
}

StatusOr<StepResult> Engine::Decide(const OfficerDecision& d, int64_t now_ms) {
  State& s = *s_;
  s.WarmInvtNo(d.invt_no);  // held lists are in memory; this only finds a settled one to refuse
  if (!s.read_error.ok()) return std::exchange(s.read_error, Status::Ok());
  auto idx = s.inventory_of_invt_no.find(d.invt_no);
  if (idx == s.inventory_of_invt_no.end())
    return FailedPrecondition("no inventory list " + d.invt_no);
  const std::string key = idx->second;  // a copy: the index entry is erased below
  State::InventoryRec& inv = s.inventories.at(key);
  if (inv.phase != Phase::kReview && inv.phase != Phase::kInspection) {
    return FailedPrecondition("list " + d.invt_no + " is " + State::PhaseName(inv.phase) +
                              ", not held");
  }
  StepResult result;
  s.out = &result;
  s.now = now_ms;
  s.Touch("inventory", key);
  const std::string who = d.officer.empty() ? "officer" : d.officer;
  if (d.action == OfficerDecision::Action::kRelease) {
    inv.hold_reason.clear();
    s.Release(inv);
  } else if (d.action == OfficerDecision::Action::kInspect) {
    if (inv.phase != Phase::kReview) {
      s.out = nullptr;
      return FailedPrecondition("list " + d.invt_no + " is already held for inspection");
    }
    inv.phase = Phase::kInspection;
    inv.hold_reason = d.reason.empty() ? "inspection ordered by " + who : d.reason;
    s.ChargeEvent(&inv.doc, credit::Event::kInspected, "officer");
    s.Answer(inv.doc, MessageType::kCEB622, status::kInspection,
             "查验: " + inv.hold_reason + " (" + who + ")", inv.pre_no, inv.invt_no);
  } else {
    // After inspection a refusal is a finding (查验发现问题); after manual review, a refusal.
    s.ChargeEvent(
        &inv.doc,
        inv.phase == Phase::kInspection ? credit::Event::kFinding : credit::Event::kRejectedRisk,
        d.reason.substr(0, 200));
    s.DiscreditBuyer(inv, inv.discredit_evidence.empty()
                              ? std::string()
                              : inv.discredit_evidence + "; refused by " + who + ": " + d.reason);
    // 100 海关退单: the buyer's amount comes back.
    s.CountQuota(inv.doc.head.buyerIdNumber, inv.year, Decimal{} - (inv.counted - inv.restored),
                 inv.invt_no, "rejected by " + who);
    inv.restored = inv.counted;
    s.Unlink(inv, key);
    inv.phase = Phase::kRejected;
    s.Answer(inv.doc, MessageType::kCEB622, status::kRejected,
             "海关退单: " + (d.reason.empty() ? std::string("rejected by customs") : d.reason) +
                 " (" + who + ")",
             inv.pre_no, inv.invt_no);
  }
  s.Flush();
  s.out = nullptr;
  s.sender = {};
  result.status = std::exchange(s.read_error, Status::Ok());
  return result;
}

Status Engine::Restore(const StateChange& row) { return s_->RestoreRow(row); }
bool Engine::RestoreWants(std::string_view kind, std::string_view key) const {
  return s_->RestoreWants(kind, key);
}

namespace {

constexpr uint64_t kSnapshotVersion = 1;
// The kinds of the rows the engine holds in memory, in the order the store keeps them.
constexpr std::array<std::string_view, 5> kResidentKinds = {"delivery", "inventory", "order",
                                                            "payment", "waybill"};

// A map's keys, sorted.
template <typename Map>
std::vector<const std::string*> SortedKeys(const Map& m) {
  std::vector<const std::string*> keys;
  keys.reserve(m.size());
  for (const auto& [k, v] : m) keys.push_back(&k);
  std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
  return keys;
}

}  // namespace

void Engine::SaveSnapshot(std::string& out, const std::function<void(std::string&)>& flush) const {
  const State& s = *s_;
  PutVarint(out, kSnapshotVersion);
  // The risk windows depend on the span the rules keep (risk.h): -1 without risk rules.
  PutSigned(out, s.risk ? s.risk->rules().keep_ms : -1);
  PutSigned(out, s.seq);
  PutSigned(out, s.swept_hour);
  PutSigned(out, s.cold_count);
  // The phase counts of the lists out of memory: Restore counts the others again.
  auto base = s.phase_counts;
  for (const auto& [k, v] : s.inventories) {
    if (v.counted_phase >= 0) --base[static_cast<size_t>(v.counted_phase)];
  }
  for (int64_t n : base) PutSigned(out, n);
  s.cold.SaveTo(out);
  flush(out);
  s.quota.SaveTo(out);
  flush(out);
  if (s.risk) s.risk->SaveTo(out);
  flush(out);
  // The keys of the rows in memory, kind by kind in kResidentKinds' order.
  auto put_keys = [&](const auto& map) {
    PutVarint(out, map.size());
    for (const std::string* k : SortedKeys(map)) PutText(out, *k);
  };
  put_keys(s.deliveries);
  put_keys(s.inventories);
  put_keys(s.orders);
  put_keys(s.payments);
  put_keys(s.waybills);
}

Status Engine::LoadSnapshot(VarintReader& in, RowKeys* resident) {
  State& s = *s_;
  if (in.Varint() != kSnapshotVersion || !in.ok())
    return Internal("not a snapshot of this version");
  const int64_t keep = in.Signed();
  const int64_t want = s.risk ? s.risk->rules().keep_ms : -1;
  if (keep != want) {
    return FailedPrecondition("the risk rules keep " + std::to_string(want) +
                              " ms of lists, the snapshot " + std::to_string(keep));
  }
  s.seq = in.Signed();
  s.swept_hour = in.Signed();
  s.cold_count = in.Signed();
  for (int64_t& n : s.phase_counts) n = in.Signed();
  s.cold.LoadFrom(in);
  s.quota.LoadFrom(in);
  if (s.risk) s.risk->LoadFrom(in);
  resident->clear();
  for (std::string_view kind : kResidentKinds) {
    for (size_t n = in.Count(); n > 0 && in.ok(); --n)
      resident->emplace_back(std::string(kind), in.Text());
  }
  if (!in.ok() || !std::is_sorted(resident->begin(), resident->end()))
    return Internal("the engine's part of the snapshot is damaged");
  s.counted_in_snapshot = true;
  return Status::Ok();
}

void Engine::SetStateReader(StateReader reader) { s_->reader = std::move(reader); }

void Engine::Evict() { s_->EvictSettled(); }

QuotaView Engine::Quota(std::string_view buyer_id, int year) const {
  const Decimal used = s_->quota.Find(buyer_id, year);
  Decimal left = s_->rules.annual_limit - used;
  return QuotaView{used, left.e5 < 0 ? Decimal{} : left};
}

namespace {

template <typename R>
std::string GuidOfRow(const std::optional<std::string>& row, bool with_fields) {
  if (!row) return "";
  std::string_view rest = *row;
  if (with_fields) DecodeFields(*row, &rest);
  auto r = DecodeRecord<R>(with_fields ? rows::SplitRecords(rest).first : rest);
  return r.ok() ? r->head.guid : "";
}

}  // namespace

// The reads below leave memory as it is: a clearance out of memory is read, not brought back.
std::optional<std::string> Engine::ReadStored(char tag, const char* kind,
                                              const std::string& key) const {
  if (!s_->reader || (tag != 0 && !s_->cold.MayContain(tag, key))) return std::nullopt;
  auto row = s_->reader(kind, key);
  return row.ok() ? std::move(*row) : std::nullopt;  // a failed read shows as absent (a query)
}

std::string Engine::GuidOf(std::string_view kind, std::string_view a, std::string_view b) const {
  const std::string key = Key(a, b);
  if (kind == "order") {
    auto it = s_->orders.find(key);
    if (it != s_->orders.end()) return it->second.head.guid;
    return GuidOfRow<Order>(ReadStored('o', "order", key), false);
  }
  if (kind == "payment") {
    auto it = s_->payments.find(key);
    if (it != s_->payments.end()) return it->second.head.guid;
    return GuidOfRow<Payment>(ReadStored('p', "payment", key), false);
  }
  if (kind == "waybill") {
    auto it = s_->waybills.find(key);
    if (it != s_->waybills.end()) return it->second.doc.head.guid;
    return GuidOfRow<Logistics>(ReadStored('w', "waybill", key), true);
  }
  if (kind == "inventory" || kind == "invtNo") {
    std::string inv_key = key;
    if (kind == "invtNo") {
      auto idx = s_->inventory_of_invt_no.find(std::string(a));
      if (idx != s_->inventory_of_invt_no.end()) {
        inv_key = idx->second;
      } else if (auto link = ReadStored(0, kLinkInvtNo, std::string(a))) {
        inv_key = *link;
      } else {
        return "";
      }
    }
    auto it = s_->inventories.find(inv_key);
    if (it != s_->inventories.end()) return it->second.doc.head.guid;
    return GuidOfRow<Inventory>(ReadStored('o', "inventory", inv_key), true);
  }
  return "";
}

bool Engine::BuyerKnownAs(std::string_view buyer_id, std::string_view name) const {
  return s_->quota.KnownAs(buyer_id, name);
}

Engine::ClearanceDocuments Engine::DocumentsOf(std::string_view invt_no) const {
  ClearanceDocuments out;
  auto idx = s_->inventory_of_invt_no.find(std::string(invt_no));
  if (idx == s_->inventory_of_invt_no.end()) {
    // Out of memory: read from the store, in the same shape.
    auto link = ReadStored(0, kLinkInvtNo, std::string(invt_no));
    if (!link) return out;
    auto row = ReadStored('o', "inventory", *link);
    if (!row) return out;
    std::string payment_key;
    auto v = State::ParseInventory(*row, &payment_key);
    if (!v.ok() || v->invt_no != invt_no) return out;
    const auto& h = v->doc.head;
    if (auto o = ReadStored('o', "order", *link)) {
      if (auto r = DecodeRecord<Order>(*o); r.ok()) out.order = std::move(*r);
    }
    if (auto p = ReadStored('p', "payment", payment_key)) {
      if (auto r = DecodeRecord<Payment>(*p); r.ok()) out.payment = std::move(*r);
    }
    if (auto w = ReadStored('w', "waybill", Key(h.logisticsCode, h.logisticsNo))) {
      std::string_view rest;
      if (auto r = State::ParseWaybill(*w, &rest); r.ok()) out.waybill = std::move(r->doc);
    }
    out.inventory = std::move(v->doc);
    return out;
  }
  auto inv = s_->inventories.find(idx->second);
  if (inv == s_->inventories.end()) return out;
  const auto& h = inv->second.doc.head;
  out.inventory = inv->second.doc;
  if (auto o = s_->orders.find(idx->second); o != s_->orders.end()) out.order = o->second;
  if (auto pk = s_->payment_of_order.find(idx->second); pk != s_->payment_of_order.end()) {
    if (auto p = s_->payments.find(pk->second); p != s_->payments.end()) out.payment = p->second;
  }
  if (auto w = s_->waybills.find(Key(h.logisticsCode, h.logisticsNo)); w != s_->waybills.end())
    out.waybill = w->second.doc;
  return out;
}

std::vector<Engine::HeldList> Engine::Held(size_t limit) const {
  std::vector<HeldList> out;
  for (const std::string& key : s_->held_keys) {  // the held lists only, not every list
    const State::InventoryRec& v = s_->inventories.at(key);
    if (v.phase != Phase::kReview && v.phase != Phase::kInspection) continue;
    const auto& h = v.doc.head;
    HeldList held{v.invt_no,    h.guid,
                  h.orderNo,    h.ebpCode,
                  h.ebcCode,    h.agentCode,
                  h.buyerName,  v.phase == Phase::kReview ? status::kReview : status::kInspection,
                  v.hold_reason};
    held.risk_version = v.risk_version;
    held.risk_score = v.risk_score;
    if (s_->credit != nullptr && s_->credit->config().enabled) {
      // Read only: the grade as computed now, not recorded.
      auto grade = [&](const std::string& code) {
        auto view = s_->credit->View(code, s_->now);
        return std::string(credit::GradeName(view ? view->grade : credit::Grade::kB));
      };
      held.agent_grade = grade(h.agentCode);
      held.ebc_grade = grade(h.ebcCode);
    }
    held.dutiable = v.counted;
    held.tax = v.tax.Total();
    held.line_count = static_cast<int>(v.doc.lists.size());
    out.push_back(std::move(held));
  }
  std::sort(out.begin(), out.end(),
            [](const HeldList& a, const HeldList& b) { return a.invt_no < b.invt_no; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Engine::Counts Engine::counts() const {
  Counts c;
  c.orders = s_->orders.size();
  c.payments = s_->payments.size();
  c.waybills = s_->waybills.size();
  c.inventories = s_->inventories.size();
  // Kept as lists change (State::Recount): no walk over every list under the platform's lock.
  const auto& n = s_->phase_counts;
  auto at = [&](Phase p) { return static_cast<size_t>(n[static_cast<size_t>(p)]); };
  c.waiting = at(Phase::kWaiting);
  c.held = at(Phase::kReview) + at(Phase::kInspection);
  c.released = at(Phase::kReleased) + at(Phase::kClosed);
  c.in_store_only = static_cast<size_t>(s_->cold_count);
  return c;
}

}  // namespace kuajing::clearance
