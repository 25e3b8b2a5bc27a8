#include "clearance/export_engine.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

#include "clearance/credit_events.h"
#include "clearance/parties.h"
#include "clearance/receipts.h"
#include "clearance/state_rows.h"
#include "clearance/validation.h"
#include "common/civil_time.h"
#include "common/hash.h"
#include "common/string_map.h"

namespace kuajing::clearance {

using namespace kuajing::model;
using namespace kuajing::clearance::rows;
using reference::Role;

namespace {

enum class Phase : uint8_t {
  kDraft = 0,      // appStatus 1
  kWaiting = 1,    // declared (2), waiting for its order or waybill
  kConcluded = 2,  // matched (120, 399), waiting for the arrival at the supervised site
  kReleased = 3,   // 800
  kClosed = 4,     // 899: departed
  kCancelled = 5,  // CEB605 accepted
  kRejected = 6,   // 100 or a negative code; the key may be declared again
};

const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kDraft:
      return "a draft";
    case Phase::kWaiting:
      return "waiting for its documents";
    case Phase::kConcluded:
      return "concluded, waiting for arrival";
    case Phase::kReleased:
      return "released";
    case Phase::kClosed:
      return "closed (departed)";
    case Phase::kCancelled:
      return "cancelled";
    case Phase::kRejected:
      return "rejected";
  }
  return "?";
}

// "9610,9710" contains "9710".
bool InCsv(std::string_view csv, std::string_view item) {
  while (!csv.empty()) {
    size_t c = csv.find(',');
    if (csv.substr(0, c) == item) return true;
    if (c == std::string_view::npos) break;
    csv.remove_prefix(c + 1);
  }
  return false;
}

// The order type each trade mode needs (SPEC2022 CEB303 orderType, CEB603 tradeMode).
std::string_view OrderTypeFor(std::string_view trade_mode) {
  if (trade_mode == "9710") return "B";
  if (trade_mode == "9810") return "W";
  return "E";
}

std::string Serial(int64_t seq) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(seq % 1000000000));
  return buf;
}

// The first day of (year, month), 00:00 CST.
int64_t MonthStart(int year, int month) {
  const std::string m = std::to_string(month);
  return ParseDate8(std::to_string(year) + (month < 10 ? "0" : "") + m + "01").value_or(0);
}

}  // namespace

struct ExportEngine::State {
  struct WaybillRec {
    exp::Logistics doc;
  };
  struct ListRec {
    exp::Inventory doc;
    Phase phase = Phase::kWaiting;
    std::string pre_no, invt_no, sum_no, bill_no, voyage_no;
    int64_t released_ms = 0, closed_ms = 0;
    std::vector<Decimal> returned_qty;  // per line, by position
    int8_t counted_phase = -1;          // as the import engine's InventoryRec
    // Where the list counts in the summary dues (a closed B list), as counted.
    std::optional<std::tuple<int, int, std::string, std::string>> due_key;
    bool due_summarised = false;
  };
  struct RefundRec {
    exp::InvtRefund doc;
    bool tallied = false;
    std::string pre_no, tally_guid, tally_app_time;
    int64_t tally_ms = 0;
  };
  struct Seen {  // arrival, departure and bill link messages: only their resends matter
    std::string guid, app_time;
  };
  struct SummaryRec {
    exp::SummaryApply apply;  // with the lists it covers filled in
    std::string sum_no;
    int64_t at_ms = 0;
  };

  const reference::ReferenceData* ref;
  RulesConfig rules;

  StringMap<exp::Order> orders;           // ebcCode|orderNo
  StringMap<exp::Receipts> receipts;      // ebcCode|orderNo
  StringMap<WaybillRec> waybills;         // logisticsCode|logisticsNo
  StringMap<int64_t> arrived;             // logisticsCode|logisticsNo -> time
  StringMap<Seen> seen;                   // kind|sender code|copNo
  StringMap<ListRec> lists;               // ebcCode|orderNo
  std::array<int64_t, 7> phase_counts{};  // lists by Phase, for the status without a walk
  // Closed B lists by (year, month, agent, consignor): the summary dues, kept as lists change.
  std::map<std::tuple<int, int, std::string, std::string>, SummaryDue> dues;
  StringMap<std::string> list_of_waybill;       // waybill key -> list key
  StringMap<std::string> list_of_invt_no;       // invtNo -> list key
  StringMap<RefundRec> refunds;                 // invtNo|coElNo
  std::map<std::string, SummaryRec> summaries;  // sumNo
  int64_t seq = 0;

  StepResult* out = nullptr;
  int64_t now = 0;
  std::string_view sender;
  rows::Touched dirty;
  credit::Book* credit = nullptr;      // null when there is no credit system
  stats::Aggregates* stats = nullptr;  // null when no statistics are kept

  // What the list adds to the statistics now (docs/METRICS.md): a released or closed list, by the
  // day of its release, each line's value net of tallied returns in its currency.
  static stats::Contribution NetOf(const ListRec& l) {
    stats::Contribution c;
    if (l.phase != Phase::kReleased && l.phase != Phase::kClosed) return c;
    const auto& h = l.doc.head;
    c.direction = stats::Direction::kExport;
    c.day = stats::DayOf(l.released_ms);
    c.trade_mode = h.tradeMode;
    c.ebc = h.ebcCode;
    bool any_left = false;
    for (size_t i = 0; i < l.doc.lists.size(); ++i) {
      const exp::InventoryList& line = l.doc.lists[i];
      const Decimal returned = i < l.returned_qty.size() ? l.returned_qty[i] : Decimal{};
      const Decimal v = stats::NetLineValue(line.totalPrice, line.qty, returned);
      any_left = any_left || line.qty > returned;
      if (c.main_currency.empty()) c.main_currency = line.currency;
      c.value[line.currency] += v;
      c.lines.push_back(stats::LineValue{line.country, line.gcode.substr(0, 2), line.currency, v});
    }
    c.counted = any_left;  // a list returned in full no longer counts
    return c;
  }
  void Count(const stats::Contribution& before, const ListRec& l) {
    if (stats != nullptr) stats->Change(before, NetOf(l));
  }

  void ChargeEvent(RecordRef decl, credit::Event e, std::string_view detail) {
    Charge(credit, *ref, decl, sender, e, now, detail);
  }

  void Touch(const char* kind, const std::string& key) { dirty.Add(kind, key); }

  template <typename R>
  void Answer(const R& decl, std::string status, std::string_view info,
              std::string_view pre_no = {}, std::string_view invt_no = {}) {
    const RecordRef d = &decl;  // answering never copies the declaration
    std::string packed;
    AppendPackedReceipt(packed, d, status, info, now, pre_no, invt_no);
    const MessageType type = ReceiptTypeOf(DeclarationTypeOf(d));
    // Every refusal counts in the credit record of the enterprise answerable for the document.
    if (!status.empty() && status[0] == '-') {
      ChargeEvent(d, RejectionEvent(DeclarationTypeOf(d), status),
                  status + " " + std::string(info.substr(0, 160)));
    }
    out->receipts.push_back(
        Emitted{type, RecordGuid(d), std::move(status), std::move(packed), PartiesOf(d)});
  }
  void AnswerList(const ListRec& l, const char* status, const std::string& info) {
    Answer(l.doc, status, info, l.pre_no, l.invt_no);
  }

  std::string Next(char prefix) {
    ++seq;
    Touch("x_meta", "seq");
    return std::string(1, prefix) + FormatDate8(now) + Serial(seq);  // an18
  }
  // 4-digit customs code + year + E + 9-digit serial (the import lists use I).
  std::string NewInvtNo(const ListRec& l) {
    const std::string& c = l.doc.head.customsCode;
    return (c.size() == 4 ? c : rules.default_customs_code) + FormatDate8(now).substr(0, 4) + "E" +
           l.pre_no.substr(9);
  }

  static constexpr std::string_view kLocked =
      "the export list using this document is already concluded; it can no longer change";

  bool ListLocked(const std::string& list_key) const {
    auto it = lists.find(list_key);
    if (it == lists.end()) return false;
    Phase p = it->second.phase;
    return p == Phase::kConcluded || p == Phase::kReleased || p == Phase::kClosed;
  }

  // --- order, receipt of payment, waybill

  void OnOrder(const exp::Order& o, std::string_view sender) {
    const auto& h = o.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB303);
    const char* code = nullptr;
    // The e-commerce enterprise or platform transmits the transaction (Ann. 2018 No. 194).
    std::string why =
        CheckSender(*ref, sender, reference::kEbp | reference::kEbc | reference::kAgent,
                    {h.ebpCode, h.ebcCode}, codes, &code);
    if (why.empty()) why = CheckParty(*ref, h.ebcCode, reference::kEbc, "ebcCode", &code);
    if (why.empty() && h.ebpCode != "无")
      why = CheckParty(*ref, h.ebpCode, reference::kEbp, "ebpCode", &code);
    if (!why.empty()) return Answer(o, code, why);
    const std::string key = Key(h.ebcCode, h.orderNo);
    auto it = orders.find(key);
    const exp::OrderHead* stored = it == orders.end() ? nullptr : &it->second.head;
    Admit a = AdmitChange(h, stored, ListLocked(key), kLocked, codes, &code, &why);
    if (a == Admit::kResend) return out->resend_guids.push_back(stored->guid);
    if (a == Admit::kRefused) return Answer(o, code, why);
    Touch("x_order", key);
    if (a == Admit::kDelete) {
      orders.erase(it);
      return Answer(o, status::kConcluded, "删除成功: the order is deleted");
    }
    orders[key] = o;
    if (h.appStatus == "1") return Answer(o, status::kDeclaring, "已暂存: stored as a draft");
    Answer(o, status::kStored, "[Code:1800;Desc:逻辑校验通过] export order stored");
    TryMatch(key);
  }

  void OnReceipts(const exp::Receipts& r, std::string_view sender) {
    const CodeSet& codes = CodesFor(MessageType::kCEB403);
    const char* code = nullptr;
    // The payment enterprise or the e-commerce enterprise transmits the collection (收款).
    std::string why = CheckSender(*ref, sender, reference::kPay | reference::kEbc,
                                  {r.payCode, r.ebcCode}, codes, &code);
    if (why.empty()) why = CheckParty(*ref, r.ebcCode, reference::kEbc, "ebcCode", &code);
    if (!why.empty()) return Answer(r, code, why);
    const std::string key = Key(r.ebcCode, r.orderNo);
    auto it = receipts.find(key);
    const exp::Receipts* stored = it == receipts.end() ? nullptr : &it->second;
    // A receipt of payment never gates a release: the money of an export may come later.
    Admit a = AdmitChange(r, stored, false, kLocked, codes, &code, &why);
    if (a == Admit::kResend) return out->resend_guids.push_back(stored->guid);
    if (a == Admit::kRefused) return Answer(r, code, why);
    Touch("x_receipts", key);
    if (a == Admit::kDelete) {
      receipts.erase(it);
      return Answer(r, status::kConcluded, "删除成功: the receipt of payment is deleted");
    }
    receipts[key] = r;
    if (r.appStatus == "1") return Answer(r, status::kDeclaring, "已暂存: stored as a draft");
    std::string info = "[Code:1800;Desc:逻辑校验通过] receipt of payment stored";
    auto o = orders.find(key);
    if (o != orders.end() && o->second.head.currency == r.currency &&
        r.charge != o->second.head.goodsValue + o->second.head.freight) {
      // [U] Not a refusal: a collection may be partial or net of fees. Said, so it can be seen.
      info += "; note: charge " + r.charge.ToString() + " differs from the order's goodsValue + " +
              "freight " + (o->second.head.goodsValue + o->second.head.freight).ToString();
    }
    Answer(r, status::kStored, info);
  }

  void OnLogistics(const exp::Logistics& l, std::string_view sender) {
    const CodeSet& codes = CodesFor(MessageType::kCEB505);
    const char* code = nullptr;
    std::string why =
        CheckSender(*ref, sender, reference::kLogistics, {l.logisticsCode}, codes, &code);
    if (!why.empty()) return Answer(l, code, why);
    const std::string key = Key(l.logisticsCode, l.logisticsNo);
    auto it = waybills.find(key);
    const exp::Logistics* stored = it == waybills.end() ? nullptr : &it->second.doc;
    auto li = list_of_waybill.find(key);
    const bool locked = li != list_of_waybill.end() && ListLocked(li->second);
    Admit a = AdmitChange(l, stored, locked, kLocked, codes, &code, &why);
    if (a == Admit::kResend) return out->resend_guids.push_back(stored->guid);
    if (a == Admit::kRefused) return Answer(l, code, why);
    Touch("x_waybill", key);
    if (a == Admit::kDelete) {
      waybills.erase(it);
      return Answer(l, status::kConcluded, "删除成功: the waybill is deleted");
    }
    waybills[key].doc = l;
    if (l.appStatus == "1") return Answer(l, status::kDeclaring, "已暂存: stored as a draft");
    Answer(l, status::kStored, "[Code:1800;Desc:逻辑校验通过] export waybill stored");
    if (li != list_of_waybill.end()) TryMatch(li->second);
  }

  // --- arrival, departure, bill link

  // Messages that only record facts about waybills: a resend (same sender code, copNo and
  // appTime) is answered with the original receipts; a different appTime is a new fact.
  bool IsResend(const char* kind, const std::string& who, const std::string& cop_no,
                const std::string& app_time, const std::string& guid) {
    const std::string key = std::string(kind) + "|" + Key(who, cop_no);
    auto it = seen.find(key);
    if (it != seen.end() && it->second.app_time == app_time) {
      out->resend_guids.push_back(it->second.guid);
      return true;
    }
    seen[key] = Seen{guid, app_time};
    Touch("x_seen", key);
    return false;
  }

  void OnArrival(const exp::Arrival& a, std::string_view sender) {
    const auto& h = a.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB507);
    const char* code = nullptr;
    // The supervised-site operator (or, for postal goods, the postal logistics company).
    // Only the operator named in the arrival states it (no sending on commission).
    std::string why = CheckSender(*ref, sender, reference::kWarehouse | reference::kLogistics,
                                  {h.operatorCode}, codes, &code, /*on_commission=*/false);
    if (why.empty() && h.appType == "3") {
      code = codes.state;
      why = "运抵单不能删除: an arrival is a fact; declare the goods' departure or cancel the list";
    }
    if (!why.empty()) return Answer(a, code, why);
    if (IsResend("arrival", h.operatorCode, h.copNo, h.appTime, h.guid)) return;
    int known = 0;
    std::vector<std::string> released;
    for (const auto& line : a.lists) {
      const std::string wk = Key(h.logisticsCode, line.logisticsNo);
      if (arrived.emplace(wk, now).second) Touch("x_arrived", wk);
      known += waybills.count(wk) != 0;
      auto li = list_of_waybill.find(wk);
      if (li != list_of_waybill.end()) {
        ListRec& l = lists.at(li->second);
        if (l.phase == Phase::kConcluded) {
          Touch("x_list", li->second);
          Release(l);
        }
      }
    }
    Answer(a, status::kConcluded,
           "运抵成功: " + std::to_string(a.lists.size()) +
               " waybill(s) arrived at the supervised " + "site, " +
               std::to_string(a.lists.size() - static_cast<size_t>(known)) +
               " of them not yet declared by their logistics enterprise");
  }

  void OnDeparture(const exp::Departure& d, std::string_view sender) {
    const auto& h = d.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB509);
    const char* code = nullptr;
    std::string why = CheckSender(*ref, sender, reference::kLogistics, {h.logisticsCode}, codes,
                                  &code, /*on_commission=*/false);
    if (why.empty() && h.appType != "1") {
      code = codes.state;
      why = "离境单只能新增: a departure cannot be changed or deleted";
    }
    if (!why.empty()) return Answer(d, code, why);
    const std::string seen_key = "departure|" + Key(h.logisticsCode, h.copNo);
    if (auto it = seen.find(seen_key); it != seen.end()) {
      if (it->second.app_time == h.appTime) return out->resend_guids.push_back(it->second.guid);
      return Answer(d, codes.duplicate, "已存在相同编号的离境单: copNo " + h.copNo);
    }
    // Every listed parcel must have a released list; otherwise nothing departs (all or none).
    std::vector<std::string> keys, problems;
    for (const auto& line : d.lists) {
      const std::string wk = Key(h.logisticsCode, line.logisticsNo);
      auto li = list_of_waybill.find(wk);
      if (li == list_of_waybill.end()) {
        problems.push_back(line.logisticsNo + ": no export list");
      } else if (lists.at(li->second).phase != Phase::kReleased) {
        problems.push_back(line.logisticsNo + ": the list is " +
                           PhaseName(lists.at(li->second).phase) + ", not released");
      } else {
        keys.push_back(li->second);
      }
    }
    if (!problems.empty()) {
      std::string info = "离境单申报失败，[";
      for (size_t i = 0; i < problems.size() && i < 5; ++i) info += (i ? "; " : "") + problems[i];
      if (problems.size() > 5) info += "; and " + std::to_string(problems.size() - 5) + " more";
      return Answer(d, codes.state, info + "]: only released lists may depart");
    }
    seen[seen_key] = Seen{h.guid, h.appTime};
    Touch("x_seen", seen_key);
    const int64_t left = ParseAppTime(h.leaveTime).value_or(now);
    for (const std::string& k : keys) {
      ListRec& l = lists.at(k);
      l.phase = Phase::kClosed;
      l.closed_ms = left;
      Touch("x_list", k);
      AnswerList(l, status::kClosed,
                 "结关: departed " + h.leaveTime + " on " + h.trafName + " " + h.voyageNo);
    }
    Answer(d, status::kConcluded, "离境成功: " + std::to_string(keys.size()) + " list(s) closed");
  }

  void OnWayBill(const exp::WayBill& w, std::string_view sender) {
    const auto& h = w.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB607);
    const char* code = nullptr;
    std::string why = CheckSender(*ref, sender, reference::kAgent | reference::kLogistics,
                                  {h.agentCode, h.logisticsCode}, codes, &code);
    if (!why.empty()) return Answer(w, code, why);
    std::vector<std::string> keys, missing;
    for (const auto& line : w.lists) {
      auto li = list_of_waybill.find(Key(h.logisticsCode, line.logisticsNo));
      if (li == list_of_waybill.end()) {
        missing.push_back(line.logisticsNo);
      } else {
        keys.push_back(li->second);
      }
    }
    if (!missing.empty()) {
      std::string info = "清单总分单申报失败，未找到运单对应的出口清单[";
      for (size_t i = 0; i < missing.size() && i < 5; ++i) info += (i ? ", " : "") + missing[i];
      return Answer(w, codes.not_found, info + "]: declare the lists first");
    }
    if (IsResend("bill", h.agentCode, h.copNo, h.appTime, h.guid)) return;
    for (const std::string& k : keys) {
      ListRec& l = lists.at(k);
      l.bill_no = h.appType == "3" ? std::string() : h.billNo;
      l.voyage_no = h.appType == "3" ? std::string() : h.voyageNo;
      Touch("x_list", k);
    }
    Answer(w, status::kConcluded,
           (h.appType == "3" ? "删除成功: " : "总分单关联成功: ") + std::to_string(keys.size()) +
               " list(s) " + (h.appType == "3" ? "unlinked from" : "linked to") + " bill " +
               h.billNo);
  }

  // --- the export list

  void OnInventory(const exp::Inventory& iv, std::string_view sender) {
    const auto& h = iv.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB603);
    const char* code = nullptr;
    // CEB603 comes from the e-commerce enterprise or its declaring agent.
    std::string why = CheckSender(*ref, sender, reference::kEbc | reference::kAgent,
                                  {h.agentCode, h.ebcCode}, codes, &code);
    if (why.empty()) why = CheckParty(*ref, h.agentCode, reference::kAgent, "agentCode", &code);
    if (why.empty()) why = CheckParty(*ref, h.ebcCode, reference::kEbc, "ebcCode", &code);
    if (why.empty())
      why = CheckParty(*ref, h.logisticsCode, reference::kLogistics, "logisticsCode", &code);
    if (why.empty() && h.ebpCode != "无")
      why = CheckParty(*ref, h.ebpCode, reference::kEbp, "ebpCode", &code);
    if (why.empty() && !h.iacCode.empty())
      why = CheckParty(*ref, h.iacCode, reference::kWarehouse, "iacCode", &code);
    if (!why.empty()) return Answer(iv, code, why);

    const std::string key = Key(h.ebcCode, h.orderNo);
    const std::string wk = Key(h.logisticsCode, h.logisticsNo);
    auto it = lists.find(key);
    ListRec* stored = it == lists.end() ? nullptr : &it->second;
    if (stored != nullptr && stored->doc.head.appTime == h.appTime) {
      return out->resend_guids.push_back(stored->doc.head.guid);
    }
    const bool open = stored == nullptr || stored->phase == Phase::kRejected ||
                      stored->phase == Phase::kCancelled;
    const bool changeable =
        stored != nullptr && (stored->phase == Phase::kDraft || stored->phase == Phase::kWaiting ||
                              stored->phase == Phase::kRejected);
    if (h.appType == "1" && !open) {
      return Answer(iv, h.appTime < stored->doc.head.appTime ? codes.stale : codes.duplicate,
                    "清单[" + h.orderNo + "]已经申报过，请勿重复申报 (guid " +
                        stored->doc.head.guid + "): send appType 2 to change it while it waits",
                    stored->pre_no);
    }
    if (h.appType != "1") {
      if (stored == nullptr) {
        return Answer(iv, codes.not_found,
                      "不存在已申报的清单[" + h.orderNo + "]，无法进行改单操作");
      }
      if (h.appTime <= stored->doc.head.appTime) {
        return Answer(iv, codes.stale,
                      "接收报文为旧报文数据，不做处理: appTime " + h.appTime +
                          " is not newer than the stored " + stored->doc.head.appTime,
                      stored->pre_no);
      }
      if (!changeable) {
        return Answer(iv, codes.state,
                      "清单[" + h.orderNo + "]的状态不符合改单条件: it is " +
                          PhaseName(stored->phase) + "; cancel it with CEB605 before departure",
                      stored->pre_no, stored->invt_no);
      }
    }
    // One waybill carries one list.
    auto other = list_of_waybill.find(wk);
    if (h.appType != "3" && other != list_of_waybill.end() && other->second != key) {
      return Answer(iv, codes.duplicate,
                    "运单[" + h.logisticsNo + "]已被订单[" +
                        lists.at(other->second).doc.head.orderNo +
                        "]的清单使用: one waybill carries one list");
    }
    Touch("x_list", key);
    if (h.appType == "3") {
      std::string pre_no = stored->pre_no;
      Unlink(*stored);
      Uncount(*stored);
      lists.erase(key);
      return Answer(iv, status::kConcluded, "删除成功: the list is deleted", pre_no);
    }
    if (stored != nullptr) Unlink(*stored);
    std::string pre_no = h.appType == "2" && !stored->pre_no.empty() ? stored->pre_no : Next('E');
    ListRec& l = lists[key];
    Uncount(l);  // the same list declared again: counted afresh at the flush
    l = ListRec{};
    l.doc = iv;
    l.pre_no = pre_no;
    l.phase = h.appStatus == "1" ? Phase::kDraft : Phase::kWaiting;
    list_of_waybill[wk] = key;
    if (l.phase == Phase::kDraft) {
      return AnswerList(l, status::kDeclaring, "已暂存: stored as a draft (appStatus 1)");
    }
    if (!TryMatch(key)) {
      std::string missing;
      if (orders.count(key) == 0) missing += "order " + h.orderNo;
      if (waybills.count(wk) == 0)
        missing += std::string(missing.empty() ? "" : " and ") + "waybill " + h.logisticsNo;
      AnswerList(l, status::kDeclaring,
                 "电子口岸申报中: waiting for the " + (missing.empty() ? "documents" : missing));
    }
  }

  void Unlink(const ListRec& l) {
    auto w = list_of_waybill.find(Key(l.doc.head.logisticsCode, l.doc.head.logisticsNo));
    if (w != list_of_waybill.end() && w->second == Key(l.doc.head.ebcCode, l.doc.head.orderNo))
      list_of_waybill.erase(w);
    if (!l.invt_no.empty()) list_of_invt_no.erase(l.invt_no);
  }

  bool Reject(ListRec& l, const char* code, const std::string& info) {
    Unlink(l);
    l.phase = Phase::kRejected;
    AnswerList(l, code, info);
    return true;
  }

  // The list against its order and waybill (domain-reference 3.3/3.4: keys ebcCode + orderNo and
  // logisticsCode + logisticsNo; [U] the line comparisons, as the import rules do).
  std::vector<std::string> Compare(const exp::Inventory& iv, const exp::Order& o,
                                   const exp::Logistics& w) const {
    std::vector<std::string> p;
    const auto& h = iv.head;
    const std::string_view want = OrderTypeFor(h.tradeMode);
    if (o.head.orderType != want) {
      p.push_back("tradeMode " + h.tradeMode + " needs an order of type " + std::string(want) +
                  " (E retail, B B2B, W overseas-warehouse booking); the order is " +
                  o.head.orderType);
    }
    if (o.head.ebpCode != h.ebpCode)
      p.push_back("ebpCode " + h.ebpCode + " differs from the order's " + o.head.ebpCode);
    if (!w.ebcCode.empty() && w.ebcCode != h.ebcCode)
      p.push_back("the waybill's ebcCode " + w.ebcCode + " differs from the list's " + h.ebcCode);
    std::map<int64_t, const exp::OrderList*> by_gnum;
    for (const auto& ol : o.lists) by_gnum[ol.gnum] = &ol;
    for (const auto& il : iv.lists) {
      auto f = by_gnum.find(il.gnum);
      if (f == by_gnum.end()) {
        p.push_back("InventoryList gnum " + std::to_string(il.gnum) + " has no order line");
        continue;
      }
      const exp::OrderList& ol = *f->second;
      if (ol.itemNo != il.itemNo)
        p.push_back("gnum " + std::to_string(il.gnum) + ": itemNo " + il.itemNo +
                    " differs from the order's " + ol.itemNo);
      if (ol.qty != il.qty)
        p.push_back("gnum " + std::to_string(il.gnum) + ": qty " + il.qty.ToString() +
                    " differs from the order's " + ol.qty.ToString());
      if (ol.currency == il.currency && ol.totalPrice != il.totalPrice)
        p.push_back("gnum " + std::to_string(il.gnum) + ": totalPrice " + il.totalPrice.ToString() +
                    " differs from the order's " + ol.totalPrice.ToString());
      by_gnum.erase(f);
    }
    for (const auto& [g, ol] : by_gnum)
      p.push_back("order line gnum " + std::to_string(g) + " is not in the list");
    return p;
  }

  // Matches a waiting list once its order and waybill are declared; true if it was decided.
  bool TryMatch(const std::string& key) {
    auto it = lists.find(key);
    if (it == lists.end() || it->second.phase != Phase::kWaiting) return false;
    ListRec& l = it->second;
    const auto& h = l.doc.head;
    auto o = orders.find(key);
    auto w = waybills.find(Key(h.logisticsCode, h.logisticsNo));
    if (o == orders.end() || o->second.head.appStatus != "2" || w == waybills.end() ||
        w->second.doc.appStatus != "2") {
      return false;
    }
    Touch("x_list", key);
    std::vector<std::string> problems = Compare(l.doc, o->second, w->second.doc);
    if (!problems.empty()) {
      std::string info = "清单对碰失败，[";
      for (size_t i = 0; i < problems.size() && i < 8; ++i) info += (i ? "; " : "") + problems[i];
      return Reject(l, kExportMatchFailed, info + "]");
    }
    l.invt_no = NewInvtNo(l);
    list_of_invt_no[l.invt_no] = key;
    l.returned_qty.assign(l.doc.lists.size(), Decimal{});
    AnswerList(l, status::kStored,
               "[Code:1800;Desc:逻辑校验通过[" + h.ebcCode + "+" + h.orderNo +
                   "]] order and waybill match");
    l.phase = Phase::kConcluded;
    const bool needs_arrival = InCsv(rules.exports.arrival_required_modes, h.tradeMode);
    const bool has_arrived = arrived.count(Key(h.logisticsCode, h.logisticsNo)) != 0;
    if (needs_arrival && !has_arrived) {
      AnswerList(l, status::kConcluded,
                 "海关审结: released when the goods arrive at the supervised site (CEB507)");
    } else {
      AnswerList(l, status::kConcluded, "海关审结");
      Release(l);
    }
    return true;
  }

  void Release(ListRec& l) {
    l.phase = Phase::kReleased;
    l.released_ms = now;
    Count({}, l);
    AnswerList(l, status::kReleased, "放行: the goods may leave the country");
  }

  ListRec* ListByInvtNo(const std::string& invt_no) {
    auto idx = list_of_invt_no.find(invt_no);
    return idx == list_of_invt_no.end() ? nullptr : &lists.at(idx->second);
  }

  void OnCancel(const exp::InvtCancel& c, std::string_view sender) {
    const CodeSet& codes = CodesFor(MessageType::kCEB605);
    const char* code = nullptr;
    std::string why = CheckSender(*ref, sender, reference::kEbc | reference::kAgent,
                                  {c.agentCode, c.ebcCode}, codes, &code);
    if (!why.empty()) return Answer(c, code, why);
    ListRec* l = ListByInvtNo(c.invtNo);
    if (l == nullptr) {
      // (A resend of the same message is answered by the platform from its guid.)
      return Answer(c, codes.not_found,
                    "未找到清单[" + c.invtNo +
                        "]: no concluded or released export list has this number (a cancelled "
                        "one no longer does)");
    }
    if (l->doc.head.agentCode != c.agentCode || l->doc.head.ebcCode != c.ebcCode) {
      return Answer(c, codes.unauthorized,
                    "清单[" + c.invtNo + "]的申报企业或电商企业与撤销申请不一致");
    }
    if (l->phase == Phase::kClosed) {
      return Answer(c, codes.state,
                    "清单[" + c.invtNo + "]已离境结关，不能撤销: declare a return (CEB213)",
                    l->pre_no, l->invt_no);
    }
    const std::string key = Key(l->doc.head.ebcCode, l->doc.head.orderNo);
    Touch("x_list", key);
    Unlink(*l);
    const stats::Contribution before = NetOf(*l);
    l->phase = Phase::kCancelled;
    Count(before, *l);
    ChargeEvent(&c, credit::Event::kCancelled, l->invt_no);
    Answer(c, status::kConcluded, "撤销成功: the list is cancelled (" + c.reason + ")", l->pre_no,
           l->invt_no);
  }

  // --- returns

  void OnRefund(const exp::InvtRefund& r, std::string_view sender) {
    const auto& h = r.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB213);
    const char* code = nullptr;
    std::string why = CheckSender(*ref, sender, reference::kEbc | reference::kAgent,
                                  {h.agentCode, h.ebcCode}, codes, &code);
    if (!why.empty()) return Answer(r, code, why);
    const std::string key = Key(h.invtNo, h.coElNo);
    auto it = refunds.find(key);
    if (it != refunds.end()) {
      if (it->second.doc.head.appTime == h.appTime)
        return out->resend_guids.push_back(it->second.doc.head.guid);
      return Answer(r, codes.duplicate, "已存在相同编号的退货申请单: coElNo " + h.coElNo,
                    it->second.pre_no);
    }
    ListRec* l = ListByInvtNo(h.invtNo);
    if (l == nullptr) return Answer(r, codes.not_found, "未找到原出口清单[" + h.invtNo + "]");
    if (l->doc.head.ebcCode != h.ebcCode)
      return Answer(r, codes.unauthorized,
                    "the list " + h.invtNo + " is not of ebcCode " + h.ebcCode);
    if (l->phase != Phase::kReleased && l->phase != Phase::kClosed) {
      return Answer(r, codes.state,
                    "原出口清单[" + h.invtNo + "]是" + PhaseName(l->phase) +
                        ": only released or departed goods can come back");
    }
    const int64_t window = int64_t{rules.exports.return_window_days} * kMillisPerDay;
    if (now - l->released_ms > window) {
      return Answer(r, codes.state,
                    "退货申请超过期限: the list was released " + FormatAppTime(l->released_ms) +
                        ", more than " + std::to_string(rules.exports.return_window_days) +
                        " days ago");
    }
    std::vector<Decimal> adding(l->doc.lists.size());
    for (const auto& rl : r.lists) {
      size_t pos = 0;
      while (pos < l->doc.lists.size() && l->doc.lists[pos].gnum != rl.gnum) ++pos;
      if (pos == l->doc.lists.size() || l->doc.lists[pos].gcode != rl.gcode) {
        return Answer(r, codes.not_found,
                      "未找到表体序号为[" + std::to_string(rl.gnum) + "]、商品编码为[" + rl.gcode +
                          "]的清单商品");
      }
      adding[pos] += rl.qty;
      const Decimal left = l->doc.lists[pos].qty - l->returned_qty[pos] - PendingQty(h.invtNo, pos);
      if (adding[pos] > left) {
        return Answer(r, codes.state,
                      "gnum " + std::to_string(rl.gnum) + ": returning " + adding[pos].ToString() +
                          " but only " + left.ToString() + " of it can still come back");
      }
    }
    RefundRec& rec = refunds[key];
    rec.doc = r;
    rec.pre_no = Next('R');
    Touch("x_refund", key);
    ChargeEvent(&r, credit::Event::kReturned, h.invtNo);
    Answer(r, status::kStored, "退货申请已接受: waiting for the tally at arrival (CEB215)",
           rec.pre_no, h.invtNo);
  }

  // Quantity of line `pos` in accepted returns not yet tallied.
  Decimal PendingQty(const std::string& invt_no, size_t pos) const {
    Decimal q;
    const ListRec* l = nullptr;
    if (auto idx = list_of_invt_no.find(invt_no); idx != list_of_invt_no.end())
      l = &lists.at(idx->second);
    if (l == nullptr) return q;
    for (const auto& [k, rec] : refunds) {
      if (rec.tallied || rec.doc.head.invtNo != invt_no) continue;
      for (const auto& rl : rec.doc.lists)
        if (rl.gnum == l->doc.lists[pos].gnum) q += rl.qty;
    }
    return q;
  }

  void OnTally(const exp::InvtRefundDetail& d, std::string_view sender) {
    const CodeSet& codes = CodesFor(MessageType::kCEB215);
    const char* code = nullptr;
    std::string why = CheckSender(*ref, sender, reference::kWarehouse | reference::kLogistics,
                                  {d.operatorCode}, codes, &code, /*on_commission=*/false);
    if (!why.empty()) return Answer(d, code, why);
    const std::string key = Key(d.invtNo, d.coElNo);
    auto it = refunds.find(key);
    if (it == refunds.end()) {
      return Answer(d, codes.not_found, "未找到退货申请单[" + d.coElNo + "] of list " + d.invtNo);
    }
    RefundRec& rec = it->second;
    if (rec.tallied) {
      if (rec.tally_app_time == d.appTime) return out->resend_guids.push_back(rec.tally_guid);
      return Answer(d, codes.duplicate, "退货理货单已存在: the return is already tallied");
    }
    ListRec* l = ListByInvtNo(d.invtNo);
    if (l == nullptr) return Answer(d, codes.state, "the list " + d.invtNo + " is no longer open");
    rec.tallied = true;
    rec.tally_guid = d.guid;
    rec.tally_app_time = d.appTime;
    rec.tally_ms = now;
    Touch("x_refund", key);
    const stats::Contribution before = NetOf(*l);
    for (const auto& rl : rec.doc.lists) {
      for (size_t pos = 0; pos < l->doc.lists.size(); ++pos)
        if (l->doc.lists[pos].gnum == rl.gnum) l->returned_qty[pos] += rl.qty;
    }
    Count(before, *l);
    Touch("x_list", Key(l->doc.head.ebcCode, l->doc.head.orderNo));
    Answer(d, status::kConcluded, "理货成功: the returned goods are counted", rec.pre_no);
    Answer(rec.doc, status::kReleased, "退货放行: the return is cleared", rec.pre_no,
           rec.doc.head.invtNo);
  }

  // --- summary

  bool NeedsSummary(const ListRec& l) const {
    return l.phase == Phase::kClosed && l.doc.head.statisticsFlag == "B";
  }

  void OnSummary(const exp::SummaryApply& s, std::string_view sender, bool on_behalf) {
    const auto& h = s.head;
    const CodeSet& codes = CodesFor(MessageType::kCEB701);
    const char* code = nullptr;
    if (!on_behalf) {
      std::string why = CheckSender(*ref, sender, reference::kAgent | reference::kEbc,
                                    {h.agentCode, h.ebcCode}, codes, &code);
      if (!why.empty()) return Answer(s, code, why);
    }
    const std::string seen_key = "summary|" + Key(h.agentCode, h.copNo);
    if (auto it = seen.find(seen_key); it != seen.end()) {
      if (it->second.app_time == h.appTime) return out->resend_guids.push_back(it->second.guid);
      return Answer(s, codes.duplicate, "已存在相同编号的汇总申请单: copNo " + h.copNo);
    }
    std::vector<std::string> keys, problems;
    if (!h.startTime.empty()) {
      // "若填写了起止时间，则汇总该时间段内的所有清单，表体清单信息无效" (SummaryApplyHead).
      const int64_t from = ParseAppTime(h.startTime).value_or(0);
      const int64_t to = ParseAppTime(h.endTime).value_or(0);
      for (const auto& [k, l] : lists) {
        if (NeedsSummary(l) && l.sum_no.empty() && l.doc.head.agentCode == h.agentCode &&
            l.doc.head.ebcCode == h.ebcCode && l.closed_ms >= from && l.closed_ms <= to) {
          keys.push_back(k);
        }
      }
      if (keys.empty()) {
        return Answer(s, kSummaryListInvalid,
                      "汇总申请失败: no closed list with statisticsFlag B of agent " + h.agentCode +
                          " and consignor " + h.ebcCode + " waits for a summary between " +
                          h.startTime + " and " + h.endTime);
      }
    } else {
      std::set<std::string> named;
      for (const auto& line : s.lists) {
        if (!named.insert(line.invtNo).second) {
          problems.push_back(line.invtNo + ": named twice");
          continue;
        }
        ListRec* l = ListByInvtNo(line.invtNo);
        if (l == nullptr) {
          problems.push_back(line.invtNo + ": no such list");
        } else if (l->doc.head.agentCode != h.agentCode || l->doc.head.ebcCode != h.ebcCode) {
          problems.push_back(line.invtNo + ": of another agent or consignor");
        } else if (l->phase != Phase::kClosed) {
          problems.push_back(line.invtNo + ": " + PhaseName(l->phase) + ", not closed");
        } else if (l->doc.head.statisticsFlag != "B") {
          problems.push_back(line.invtNo + ": statisticsFlag A (simplified) needs no summary");
        } else if (!l->sum_no.empty()) {
          problems.push_back(line.invtNo + ": already in summary " + l->sum_no);
        } else {
          keys.push_back(Key(l->doc.head.ebcCode, l->doc.head.orderNo));
        }
      }
      if (!problems.empty()) {
        std::string info = "汇总申请单的清单不可汇总，[";
        for (size_t i = 0; i < problems.size() && i < 8; ++i) info += (i ? "; " : "") + problems[i];
        return Answer(s, kSummaryListInvalid, info + "]");
      }
    }
    seen[seen_key] = Seen{h.guid, h.appTime};
    Touch("x_seen", seen_key);
    std::sort(keys.begin(), keys.end());
    // Summarised after the 15th of the month after departure (domain-reference 5.2): late.
    size_t late = 0;
    for (const std::string& k : keys) late += now >= SummaryDeadline(lists.at(k).closed_ms);
    if (late != 0) {
      ChargeEvent(&s, credit::Event::kLateSummary,
                  std::to_string(late) + " list(s) summarised after their deadline");
    }
    SummaryRec rec;
    rec.apply = s;
    rec.apply.lists.clear();
    rec.sum_no = Next('S');
    rec.at_ms = now;
    for (const std::string& k : keys) {
      ListRec& l = lists.at(k);
      l.sum_no = rec.sum_no;
      Touch("x_list", k);
      rec.apply.lists.push_back(exp::SummaryApplyList{l.invt_no});
    }
    std::sort(rec.apply.lists.begin(), rec.apply.lists.end(),
              [](const auto& a, const auto& b) { return a.invtNo < b.invtNo; });
    std::vector<SummaryDeclaration> decls = Declarations(rec);
    const std::string pre_no = Next('P');
    Record decl(s);
    Record receipt = MakeReceipt(decl, status::kConcluded,
                                 "汇总申请成功: " + std::to_string(keys.size()) + " list(s) in " +
                                     std::to_string(decls.size()) + " declaration(s)",
                                 now, pre_no);
    std::get<exp::SummaryReturn>(receipt).sumNo = rec.sum_no;
    out->receipts.push_back(Emitted{MessageType::kCEB702, h.guid, status::kConcluded,
                                    codec::PackRecord(receipt), PartiesOf(decl)});
    EmitResults(s, rec, decls);
    summaries[rec.sum_no] = std::move(rec);
    Touch("x_summary", summaries.rbegin()->first);
  }

  std::vector<SummaryDeclaration> Declarations(const SummaryRec& rec) const {
    std::vector<SummarySource> sources;
    for (const auto& line : rec.apply.lists) {
      auto idx = list_of_invt_no.find(line.invtNo);
      if (idx != list_of_invt_no.end())
        sources.push_back(SummarySource{&lists.at(idx->second).doc, line.invtNo});
    }
    SummaryOptions o;
    o.per_owner = rec.apply.head.summaryFlag == "2";
    o.by_item_name = rec.apply.head.itemNameFlag == "1";
    o.max_lines = rules.exports.summary_max_lines;
    return Summarize(std::move(sources), o);
  }

  // One CEB792 per declaration; a declaration mapping more list lines than one message should
  // carry is split (msgCount / msgSeqNo, "未拆分的填1").
  void EmitResults(const exp::SummaryApply& s, const SummaryRec& rec,
                   const std::vector<SummaryDeclaration>& decls) {
    constexpr size_t kPerMessage = 5000;
    const std::string op_date = FormatReturnTime(now);
    for (size_t i = 0; i < decls.size(); ++i) {
      const SummaryDeclaration& d = decls[i];
      std::vector<exp::SummaryResultList> lines;
      for (const SummaryLine& l : d.lines)
        for (const SummaryLineSource& src : l.sources)
          lines.push_back(
              exp::SummaryResultList{src.invt_no, src.logistics_no, l.gseqno, src.gnum, src.gcode});
      const std::string decl_seq = "D" + rec.sum_no.substr(1, 8) + Serial(seq * 100 + int64_t(i));
      const size_t parts = std::max<size_t>(1, (lines.size() + kPerMessage - 1) / kPerMessage);
      for (size_t part = 0; part < parts; ++part) {
        exp::SummaryResult r;
        auto& h = r.head;
        h.guid =
            DeterministicGuid(rec.sum_no + "/" + std::to_string(i) + "/" + std::to_string(part));
        h.customsCode = s.head.customsCode;
        h.sumNo = rec.sum_no;
        h.opDate = op_date;
        h.declSeqNo = decl_seq;
        h.decState = rules.exports.summary_decl_state;
        h.agentCode = s.head.agentCode;
        h.agentName = s.head.agentName;
        h.ebcCode = s.head.ebcCode;
        h.ebcName = s.head.ebcName;
        h.declAgentCode = s.head.declAgentCode;
        h.declAgentName = s.head.declAgentName;
        h.grossWeight = d.gross_weight;
        h.netWeight = d.net_weight;
        h.msgCount = static_cast<int64_t>(parts);
        h.msgSeqNo = static_cast<int64_t>(part + 1);
        h.note = "declaration " + std::to_string(i + 1) + " of " + std::to_string(decls.size()) +
                 ": " + std::to_string(d.lines.size()) + " line(s), " +
                 std::to_string(d.invt_nos.size()) + " list(s)";
        const size_t from = part * kPerMessage;
        const size_t to = std::min(lines.size(), from + kPerMessage);
        r.lists.assign(lines.begin() + static_cast<std::ptrdiff_t>(from),
                       lines.begin() + static_cast<std::ptrdiff_t>(to));
        Record decl(s);
        out->receipts.push_back(Emitted{MessageType::kCEB792, s.head.guid, status::kConcluded,
                                        codec::PackRecordOf(r), PartiesOf(decl)});
      }
    }
  }

  // --- stored form

  std::string Serialize(const std::string& kind, const std::string& key) const {
    if (kind == "x_order") return EncodeRecord(orders.at(key));
    if (kind == "x_receipts") return EncodeRecord(receipts.at(key));
    if (kind == "x_waybill") return EncodeRecord(waybills.at(key).doc);
    if (kind == "x_arrived") return std::to_string(arrived.at(key));
    if (kind == "x_seen") {
      const Seen& v = seen.at(key);
      return EncodeFields({{"guid", v.guid}, {"app_time", v.app_time}});
    }
    if (kind == "x_list") {
      const ListRec& l = lists.at(key);
      const std::string returned = JoinDecimals(l.returned_qty);
      return EncodeFields({{"phase", std::to_string(static_cast<int>(l.phase))},
                           {"pre_no", l.pre_no},
                           {"invt_no", l.invt_no},
                           {"sum_no", l.sum_no},
                           {"bill_no", l.bill_no},
                           {"voyage_no", l.voyage_no},
                           {"released_ms", std::to_string(l.released_ms)},
                           {"closed_ms", std::to_string(l.closed_ms)},
                           {"returned", returned}}) +
             EncodeRecord(l.doc);
    }
    if (kind == "x_refund") {
      const RefundRec& r = refunds.at(key);
      return EncodeFields({{"tallied", r.tallied ? "1" : "0"},
                           {"pre_no", r.pre_no},
                           {"tally_guid", r.tally_guid},
                           {"tally_app_time", r.tally_app_time},
                           {"tally_ms", std::to_string(r.tally_ms)}}) +
             EncodeRecord(r.doc);
    }
    if (kind == "x_summary") {
      const SummaryRec& s = summaries.at(key);
      return EncodeFields({{"at_ms", std::to_string(s.at_ms)}}) + EncodeRecord(s.apply);
    }
    return std::to_string(seq);  // x_meta/seq
  }

  // The row of (kind, key) into `out`, or false when memory no longer has it (rows::FlushDirty).
  // Export rows are few beside import's: two lookups each.
  bool SerializeTo(const std::string& kind, const std::string& key, std::string* out) const {
    if (!Exists(kind, key)) return false;
    *out = Serialize(kind, key);
    return true;
  }

  bool Exists(const std::string& kind, const std::string& key) const {
    if (kind == "x_order") return orders.count(key) != 0;
    if (kind == "x_receipts") return receipts.count(key) != 0;
    if (kind == "x_waybill") return waybills.count(key) != 0;
    if (kind == "x_arrived") return arrived.count(key) != 0;
    if (kind == "x_seen") return seen.count(key) != 0;
    if (kind == "x_list") return lists.count(key) != 0;
    if (kind == "x_refund") return refunds.count(key) != 0;
    if (kind == "x_summary") return summaries.count(key) != 0;
    return true;
  }

  void Flush() {
    // The rows as touched, a list perhaps more than once (counting it again changes nothing).
    for (const auto& [kind, key] : dirty.rows()) {
      if (kind != "x_list") continue;
      if (auto it = lists.find(key); it != lists.end()) Recount(it->second);
    }
    FlushDirty(dirty, *this, &out->changes);
    FlushCredit(credit, &out->changes);
  }
  void Recount(ListRec& l) {
    Uncount(l);
    l.counted_phase = static_cast<int8_t>(l.phase);
    ++phase_counts[static_cast<size_t>(l.phase)];
    if (NeedsSummary(l)) {
      const CivilDate day = CivilFromDays(CstDay(l.closed_ms));
      l.due_key =
          std::make_tuple(static_cast<int>(day.y), day.m, l.doc.head.agentCode, l.doc.head.ebcCode);
      l.due_summarised = !l.sum_no.empty();
      SummaryDue& d = dues[*l.due_key];
      if (d.closed == 0) {
        d.year = std::get<0>(*l.due_key);
        d.month = std::get<1>(*l.due_key);
        d.agent_code = std::get<2>(*l.due_key);
        d.ebc_code = std::get<3>(*l.due_key);
        // By the 15th of the following month (domain-reference 5.2), to the end of that day.
        d.deadline_ms = SummaryDeadline(l.closed_ms);
      }
      ++d.closed;
      d.summarised += l.due_summarised;
    }
  }
  void Uncount(ListRec& l) {
    if (l.counted_phase >= 0) --phase_counts[static_cast<size_t>(l.counted_phase)];
    l.counted_phase = -1;
    if (l.due_key) {
      auto it = dues.find(*l.due_key);
      if (it != dues.end()) {
        --it->second.closed;
        it->second.summarised -= l.due_summarised;
        if (it->second.closed == 0) dues.erase(it);
      }
      l.due_key.reset();
    }
  }

  // The summary of the lists that departed in a month is due by the configured day of the next
  // month, to the end of that day (domain-reference 5.2).
  int64_t SummaryDeadline(int64_t closed_ms) const {
    const CivilDate day = CivilFromDays(CstDay(closed_ms));
    const int year = static_cast<int>(day.y), month = day.m;
    const int ny = month == 12 ? year + 1 : year;
    const int nm = month == 12 ? 1 : month + 1;
    return MonthStart(ny, nm) + int64_t{rules.exports.summary_deadline_day} * kMillisPerDay;
  }

  Status RestoreRow(const StateChange& row) {
    std::string_view rest;
    if (row.kind == "x_order") {
      auto o = DecodeRecord<exp::Order>(row.value);
      if (!o.ok()) return o.status();
      orders[row.key] = std::move(*o);
    } else if (row.kind == "x_receipts") {
      auto r = DecodeRecord<exp::Receipts>(row.value);
      if (!r.ok()) return r.status();
      receipts[row.key] = std::move(*r);
    } else if (row.kind == "x_waybill") {
      auto w = DecodeRecord<exp::Logistics>(row.value);
      if (!w.ok()) return w.status();
      waybills[row.key].doc = std::move(*w);
    } else if (row.kind == "x_arrived") {
      arrived[row.key] = std::stoll(row.value);
    } else if (row.kind == "x_seen") {
      Fields f = DecodeFields(row.value, &rest);
      seen[row.key] = Seen{ToStr(f, "guid"), ToStr(f, "app_time")};
    } else if (row.kind == "x_list") {
      Fields f = DecodeFields(row.value, &rest);
      auto iv = DecodeRecord<exp::Inventory>(rest);
      if (!iv.ok()) return iv.status();
      ListRec l;
      l.doc = std::move(*iv);
      l.phase = static_cast<Phase>(ToInt(f, "phase"));
      l.pre_no = ToStr(f, "pre_no");
      l.invt_no = ToStr(f, "invt_no");
      l.sum_no = ToStr(f, "sum_no");
      l.bill_no = ToStr(f, "bill_no");
      l.voyage_no = ToStr(f, "voyage_no");
      l.released_ms = ToInt(f, "released_ms");
      l.closed_ms = ToInt(f, "closed_ms");
      l.returned_qty = SplitDecimals(ToStr(f, "returned"));
      // The indexes the live engine keeps (see Unlink).
      if (l.phase != Phase::kRejected && l.phase != Phase::kCancelled) {
        list_of_waybill[Key(l.doc.head.logisticsCode, l.doc.head.logisticsNo)] = row.key;
        if (!l.invt_no.empty()) list_of_invt_no[l.invt_no] = row.key;
      }
      if (stats != nullptr) stats->Apply(NetOf(l), +1);
      ListRec& slot = lists[row.key];
      Uncount(slot);  // a row read twice counts once
      slot = std::move(l);
      Recount(slot);
    } else if (row.kind == "x_refund") {
      Fields f = DecodeFields(row.value, &rest);
      auto r = DecodeRecord<exp::InvtRefund>(rest);
      if (!r.ok()) return r.status();
      RefundRec& rec = refunds[row.key];
      rec.doc = std::move(*r);
      rec.tallied = ToStr(f, "tallied") == "1";
      rec.pre_no = ToStr(f, "pre_no");
      rec.tally_guid = ToStr(f, "tally_guid");
      rec.tally_app_time = ToStr(f, "tally_app_time");
      rec.tally_ms = ToInt(f, "tally_ms");
    } else if (row.kind == "x_summary") {
      Fields f = DecodeFields(row.value, &rest);
      auto a = DecodeRecord<exp::SummaryApply>(rest);
      if (!a.ok()) return a.status();
      SummaryRec& s = summaries[row.key];
      s.apply = std::move(*a);
      s.sum_no = row.key;
      s.at_ms = ToInt(f, "at_ms");
    } else if (row.kind == "x_meta") {
      seq = std::stoll(row.value);
    } else {
      return Internal("unknown export state kind " + row.kind);
    }
    return Status::Ok();
  }
};

// --- public API

ExportEngine::ExportEngine(const reference::ReferenceData* reference, RulesConfig rules,
                           credit::Book* credit)
    : s_(std::make_unique<State>()) {
  s_->ref = reference;
  s_->credit = credit;
  s_->rules = std::move(rules);
}

void ExportEngine::SetStats(stats::Aggregates* stats) { s_->stats = stats; }

ExportEngine::~ExportEngine() = default;

StepResult ExportEngine::Process(const codec::DecodedMessage& m, std::string_view sender,
                                 int64_t now_ms) {
  StepResult result;
  State& s = *s_;
  s.out = &result;
  s.now = now_ms;
  s.sender = sender;
  for (size_t i = 0; i < m.message.records.size(); ++i) {
    const Record& rec = m.message.records[i];
    s.ChargeEvent(RefOf(rec), credit::Event::kDeclared, {});
    if (auto bad = FieldRejection(m, i, s.rules, now_ms)) {
      s.ChargeEvent(RefOf(rec), credit::Event::kRejectedFormat, bad->status);
      result.receipts.push_back(std::move(*bad));
      continue;
    }
    std::visit(
        [&](const auto& d) {
          using T = std::decay_t<decltype(d)>;
          if constexpr (std::is_same_v<T, exp::Order>)
            s.OnOrder(d, sender);
          else if constexpr (std::is_same_v<T, exp::Receipts>)
            s.OnReceipts(d, sender);
          else if constexpr (std::is_same_v<T, exp::Logistics>)
            s.OnLogistics(d, sender);
          else if constexpr (std::is_same_v<T, exp::Arrival>)
            s.OnArrival(d, sender);
          else if constexpr (std::is_same_v<T, exp::Departure>)
            s.OnDeparture(d, sender);
          else if constexpr (std::is_same_v<T, exp::Inventory>)
            s.OnInventory(d, sender);
          else if constexpr (std::is_same_v<T, exp::InvtCancel>)
            s.OnCancel(d, sender);
          else if constexpr (std::is_same_v<T, exp::WayBill>)
            s.OnWayBill(d, sender);
          else if constexpr (std::is_same_v<T, exp::InvtRefund>)
            s.OnRefund(d, sender);
          else if constexpr (std::is_same_v<T, exp::InvtRefundDetail>)
            s.OnTally(d, sender);
          else if constexpr (std::is_same_v<T, exp::SummaryApply>)
            s.OnSummary(d, sender, false);
        },
        rec);
  }
  s.Flush();
  s.out = nullptr;
  s.sender = {};
  return result;
}

StepResult ExportEngine::SummarizeOnBehalf(const exp::SummaryApply& apply, int64_t now_ms) {
  StepResult result;
  State& s = *s_;
  s.out = &result;
  s.now = now_ms;
  std::vector<Finding> findings = ValidateRecord(Record(apply), s.rules);
  if (!findings.empty()) {
    Record r = MakeReceipt(Record(apply), findings[0].code,
                           "参数校验不通过，[" + findings[0].detail + "]", now_ms);
    result.receipts.push_back(Emitted{MessageType::kCEB702, apply.head.guid, findings[0].code,
                                      codec::PackRecord(r), PartiesOf(Record(apply))});
  } else {
    s.OnSummary(apply, apply.head.agentCode, true);
  }
  s.Flush();
  s.out = nullptr;
  s.sender = {};
  return result;
}

std::vector<ExportEngine::PendingSummary> ExportEngine::Pending(int64_t from_ms,
                                                                int64_t to_ms) const {
  std::map<std::string, PendingSummary> by;
  for (const auto& [k, l] : s_->lists) {
    if (!s_->NeedsSummary(l) || !l.sum_no.empty() || l.closed_ms < from_ms || l.closed_ms >= to_ms)
      continue;
    const auto& h = l.doc.head;
    PendingSummary& p = by[Key(h.agentCode, h.ebcCode)];
    if (p.lists == 0)
      p = PendingSummary{h.agentCode, h.agentName, h.ebcCode, h.ebcName, h.customsCode, 0};
    ++p.lists;
  }
  std::vector<PendingSummary> out;
  for (auto& [k, p] : by) out.push_back(std::move(p));
  return out;
}

Status ExportEngine::Restore(const StateChange& row) { return s_->RestoreRow(row); }

std::vector<SummaryDue> ExportEngine::Dues(int64_t now_ms, size_t limit) const {
  // Kept as lists close and are summarised (State::Recount): no walk over every list.
  std::vector<SummaryDue> out;
  for (const auto& [k, due] : s_->dues) {
    SummaryDue d = due;
    d.late = d.summarised < d.closed && now_ms >= d.deadline_ms;
    out.push_back(std::move(d));
    if (out.size() == limit) break;
  }
  return out;
}

std::vector<StoredSummary> ExportEngine::Summaries(std::string_view enterprise,
                                                   size_t limit) const {
  std::vector<StoredSummary> out;
  for (auto it = s_->summaries.rbegin(); it != s_->summaries.rend() && out.size() < limit; ++it) {
    const auto& h = it->second.apply.head;
    if (!enterprise.empty() && h.agentCode != enterprise && h.ebcCode != enterprise &&
        h.declAgentCode != enterprise)
      continue;
    out.push_back(StoredSummary{it->first, h.guid, h.agentCode, h.ebcCode, h.declAgentCode,
                                it->second.at_ms, s_->Declarations(it->second)});
  }
  return out;
}

std::vector<LedgerRow> ExportEngine::Ledger(std::string_view ebc_code, int64_t from_ms,
                                            int64_t to_ms) const {
  std::vector<LedgerRow> out;
  auto row = [&](const State::ListRec& l, const exp::InventoryList& line, int64_t at, Decimal qty,
                 bool is_return) {
    LedgerRow r;
    r.at_ms = at;
    r.ebc_code = l.doc.head.ebcCode;
    r.invt_no = l.invt_no;
    r.trade_mode = l.doc.head.tradeMode;
    r.gnum = line.gnum;
    r.gcode = line.gcode;
    r.gname = line.gname;
    r.unit = line.unit;
    r.currency = line.currency;
    r.country = line.country;
    r.price = line.price;
    r.is_return = is_return;
    if (is_return) {
      r.qty = Decimal{} - qty;
      // The amount of a partial return is its share of the line, to the fen (rounded once).
      r.amount = Decimal::FromE5(
          -RoundHalfUpToFenE5(static_cast<__int128>(line.totalPrice.e5) * qty.e5, line.qty.e5));
    } else {
      r.qty = qty;
      r.amount = line.totalPrice;
    }
    out.push_back(std::move(r));
  };
  for (const auto& [k, l] : s_->lists) {
    if (l.doc.head.ebcCode != ebc_code || l.released_ms == 0) continue;
    if (l.phase != Phase::kReleased && l.phase != Phase::kClosed) continue;
    if (l.released_ms >= from_ms && l.released_ms < to_ms)
      for (const auto& line : l.doc.lists) row(l, line, l.released_ms, line.qty, false);
  }
  for (const auto& [k, r] : s_->refunds) {
    if (!r.tallied || r.doc.head.ebcCode != ebc_code || r.tally_ms < from_ms || r.tally_ms >= to_ms)
      continue;
    auto idx = s_->list_of_invt_no.find(r.doc.head.invtNo);
    if (idx == s_->list_of_invt_no.end()) continue;
    const State::ListRec& l = s_->lists.at(idx->second);
    for (const auto& rl : r.doc.lists)
      for (const auto& line : l.doc.lists)
        if (line.gnum == rl.gnum) row(l, line, r.tally_ms, rl.qty, true);
  }
  std::sort(out.begin(), out.end(), [](const LedgerRow& a, const LedgerRow& b) {
    return std::tie(a.at_ms, a.invt_no, a.gnum, a.is_return) <
           std::tie(b.at_ms, b.invt_no, b.gnum, b.is_return);
  });
  return out;
}

std::string ExportEngine::GuidOf(std::string_view kind, std::string_view a,
                                 std::string_view b) const {
  std::string key = Key(a, b);
  if (kind == "x_invtNo") {
    auto idx = s_->list_of_invt_no.find(std::string(a));
    if (idx == s_->list_of_invt_no.end()) return "";
    key = idx->second;
  } else if (kind != "x_inventory") {
    return "";
  }
  auto it = s_->lists.find(key);
  return it == s_->lists.end() ? "" : it->second.doc.head.guid;
}

ExportEngine::Counts ExportEngine::counts(int64_t now_ms) const {
  Counts c;
  c.orders = s_->orders.size();
  c.waybills = s_->waybills.size();
  c.lists = s_->lists.size();
  c.summaries = s_->summaries.size();
  // Kept as lists change (State::Recount): no walk over every list.
  auto at = [&](Phase p) { return static_cast<size_t>(s_->phase_counts[static_cast<size_t>(p)]); };
  c.waiting = at(Phase::kWaiting);
  c.concluded = at(Phase::kConcluded);
  c.released = at(Phase::kReleased);
  c.closed = at(Phase::kClosed);
  for (const SummaryDue& d : Dues(now_ms, SIZE_MAX)) c.late_months += d.late;
  return c;
}

}  // namespace kuajing::clearance
