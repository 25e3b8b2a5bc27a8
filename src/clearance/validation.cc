#include "clearance/validation.h"

#include <set>

#include "common/civil_time.h"
#include "common/codes.h"

namespace kuajing::clearance {

using namespace kuajing::model;

namespace {

// A field's path ("InventoryHead.ebpCode", "InventoryList[2].qty"), joined only when a finding
// needs it: the checks run on every declaration and nearly all pass (building every path and
// reason as a string cost 2 % of a clearance's instructions, and the paths of the lines and of the
// helpers below as much again; bench/README.md).
struct Joined {
  Joined(std::string_view b, std::string_view t = {}, size_t i = 0, bool d = false)
      : base(b), tail(t), index(i), dot(d) {}
  Joined(const std::string& s) : base(s) {}  // NOLINT: implicit, a path given whole
  Joined(const char* s) : base(s) {}         // NOLINT: implicit, a path given whole
  std::string_view base;
  std::string_view tail;
  size_t index = 0;               // > 0: "[index]" after base, a line of a list
  bool dot = false;               // a "." before tail
  operator std::string() const {  // NOLINT: implicit, a path where a string is due
    std::string out(base);
    if (index > 0) out += "[" + std::to_string(index) + "]";
    if (dot) out += '.';
    out += tail;
    return out;
  }
};
struct Prefix {
  std::string_view base;
  Joined operator+(std::string_view tail) const { return {base, tail}; }
  Joined Dot(std::string_view field) const { return {base, field, 0, true}; }
  operator std::string() const { return std::string(base); }
};
// Line `n` (from 1) of the list `name`: `line + ".qty"`.
struct LinePath {
  std::string_view name;
  size_t n;
  Joined operator+(std::string_view tail) const { return {name, tail, n}; }
};
inline std::string operator+(const Joined& j, std::string_view more) {
  std::string out = j;
  out += more;
  return out;
}

class Checker {
 public:
  Checker(MessageType type, std::vector<Finding>* out) : codes_(CodesFor(type)), out_(out) {}

  // A finding with the type's field-check code (through KJ_EXPECT, below).
  void Fail(const Joined& path, std::string_view reason) {
    Add(codes_.invalid, std::string(path) + ": " + std::string(reason));
  }
  void Add(const char* code, std::string detail) { out_->push_back({code, std::move(detail)}); }
  const CodeSet& codes() const { return codes_; }

 private:
  const CodeSet& codes_;
  std::vector<Finding>* out_;
};

// A finding when `ok` is false. The path and the reason are built only then: most reasons quote
// the value found ("found '" + code + "'"), and building them (with the paths, Joined above) for
// every check that passes was four fifths of the field checks' instructions (bench/README.md).
#define KJ_EXPECT(checker, ok, path, reason) \
  do {                                       \
    if (!(ok)) (checker).Fail(path, reason); \
  } while (false)

bool IsUpperGuid(const std::string& g) {
  if (g.size() != 36) return false;
  for (size_t i = 0; i < g.size(); ++i) {
    char c = g[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) {
      return false;
    }
  }
  return true;
}

bool AllDigits(const std::string& s, size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789") == std::string::npos;
}

// Head fields shared by every declaration (spec tables 3-x rows 1-4; domain-reference 1.4).
template <typename H>
void CheckCommonHead(Checker& c, const H& h, const Prefix& p, bool new_only = false) {
  KJ_EXPECT(c, IsUpperGuid(h.guid), p + ".guid",
            "must be a 36-character upper-case id such as 4CDE1CFD-EDED-46B1-946C-B8022E42FC94");
  if (new_only) {
    KJ_EXPECT(c, h.appType == "1", p + ".appType",
              "must be 1 (新增): a cancellation cannot be changed");
  } else {
    KJ_EXPECT(c, h.appType == "1" || h.appType == "2" || h.appType == "3", p + ".appType",
              "must be 1 (新增), 2 (变更) or 3 (删除), found '" + h.appType + "'");
  }
  KJ_EXPECT(c, ParseAppTime(h.appTime).has_value(), p + ".appTime",
            "must be a real time as yyyyMMddHHmmss, found '" + h.appTime + "'");
  KJ_EXPECT(c, h.appStatus == "1" || h.appStatus == "2", p + ".appStatus",
            "must be 1 (暂存) or 2 (申报), found '" + h.appStatus + "'");
}

void CheckCny(Checker& c, const std::string& currency, const Joined& path) {
  // Every import amount is in CNY: "限定为人民币，填写142" (XSD currency annotations).
  KJ_EXPECT(c, currency == "142", path, "must be 142 (CNY), found '" + currency + "'");
}

void CheckIdentity(Checker& c, const std::string& type, const std::string& number, const Prefix& p,
                   const char* type_field, const char* number_field) {
  // "限定为身份证，填写1" (XSD buyerIdType/payerIdType); GB 11643-1999 check digit.
  KJ_EXPECT(c, type == "1", p + "." + type_field,
            "must be 1 (resident identity card), found '" + type + "'");
  if (type == "1") {
    KJ_EXPECT(c, IsValidResidentId(number), p + "." + number_field,
              "not a valid 18-digit resident ID (GB 11643 check digit or birth date wrong)");
  }
}

void CheckEnterprise(Checker& c, const std::string& code, const Joined& path) {
  if (code.empty()) return;
  KJ_EXPECT(c, IsValidEnterpriseCode(code), path,
            "must be a 10-character customs code or an 18-character unified social credit code "
            "with a valid check character, found '" +
                code + "'");
}

void CheckNonNegative(Checker& c, Decimal d, const Joined& path) {
  KJ_EXPECT(c, d.e5 >= 0, path, "must not be negative");
}

// gnum runs 1, 2, 3 ... (XSD: "从1开始连续序号").
template <typename L>
void CheckGnums(Checker& c, const std::vector<L>& lines, const std::string& p) {
  std::set<int64_t> seen;
  for (size_t i = 0; i < lines.size(); ++i) {
    int64_t g = lines[i].gnum;
    if (!seen.insert(g).second) {
      c.Add(c.codes().duplicate_gnum, p + ": gnum " + std::to_string(g) + " appears twice");
    } else if (g != static_cast<int64_t>(i) + 1) {
      KJ_EXPECT(c, false, p + "[" + std::to_string(i + 1) + "].gnum",
                "must run 1, 2, 3 ... in order, found " + std::to_string(g));
    }
  }
}

bool WithinTolerance(__int128 a, __int128 b, Decimal tol) {
  __int128 d = a - b;
  return (d < 0 ? -d : d) <= tol.e5;
}

// price x qty in e5 (the product of two e5 numbers has 10 fraction digits).
__int128 TimesE5(Decimal price, Decimal qty) {
  return static_cast<__int128>(price.e5) * qty.e5 / Decimal::kScale;
}

void CheckOrder(Checker& c, const Order& o, const RulesConfig& rules) {
  const auto& h = o.head;
  const Prefix p{"OrderHead"};
  CheckCommonHead(c, h, p);
  KJ_EXPECT(c, h.orderType == "I", p + ".orderType", "must be I (import order)");
  CheckEnterprise(c, h.ebpCode, p + ".ebpCode");
  CheckEnterprise(c, h.ebcCode, p + ".ebcCode");
  CheckEnterprise(c, h.payCode, p + ".payCode");
  CheckCny(c, h.currency, p + ".currency");
  CheckIdentity(c, h.buyerIdType, h.buyerIdNumber, p, "buyerIdType", "buyerIdNumber");
  for (auto [d, n] : {std::pair{h.goodsValue, "goodsValue"},
                      {h.freight, "freight"},
                      {h.discount, "discount"},
                      {h.taxTotal, "taxTotal"}}) {
    CheckNonNegative(c, d, p.Dot(n));
  }
  KJ_EXPECT(c, h.consigneeDistrict.empty() || AllDigits(h.consigneeDistrict, 6),
            p + ".consigneeDistrict", "must be a 6-digit GB/T 2260 division code");
  // XSD OrderHead.acturalPaid: 商品价格+运杂费+代扣税款-非现金抵扣金额.
  Decimal expected = h.goodsValue + h.freight + h.taxTotal - h.discount;
  KJ_EXPECT(c, h.acturalPaid == expected, p + ".acturalPaid",
            "must equal goodsValue + freight + taxTotal - discount = " + expected.ToString() +
                ", found " + h.acturalPaid.ToString());
  CheckGnums(c, o.lists, "OrderList");
  __int128 sum = 0;
  for (size_t i = 0; i < o.lists.size(); ++i) {
    const auto& l = o.lists[i];
    const LinePath lp{"OrderList", i + 1};
    CheckCny(c, l.currency, lp + ".currency");
    KJ_EXPECT(c, l.qty.e5 > 0, lp + ".qty", "must be greater than 0");
    CheckNonNegative(c, l.price, lp + ".price");
    // XSD OrderList.totalPrice: 等于单价乘以数量.
    KJ_EXPECT(c,
              WithinTolerance(TimesE5(l.price, l.qty), l.totalPrice.e5, rules.line_total_tolerance),
              lp + ".totalPrice",
              "must equal price x qty (" + l.price.ToString() + " x " + l.qty.ToString() +
                  "), found " + l.totalPrice.ToString());
    sum += l.totalPrice.e5;
  }
  // XSD goodsValue "商品实际成交价" = the sum of the lines (the official sample: 14000 = 2000 +
  // 12000).
  KJ_EXPECT(c, WithinTolerance(sum, h.goodsValue.e5, rules.line_total_tolerance), p + ".goodsValue",
            "must equal the sum of OrderList.totalPrice = " +
                Decimal::FromE5(static_cast<int64_t>(sum)).ToString());
}

void CheckPayment(Checker& c, const Payment& pay) {
  const auto& h = pay.head;
  const Prefix p{"PaymentHead"};
  CheckCommonHead(c, h, p);
  CheckEnterprise(c, h.payCode, p + ".payCode");
  CheckEnterprise(c, h.ebpCode, p + ".ebpCode");
  CheckIdentity(c, h.payerIdType, h.payerIdNumber, p, "payerIdType", "payerIdNumber");
  KJ_EXPECT(c, h.amountPaid.e5 > 0, p + ".amountPaid", "must be greater than 0");
  CheckCny(c, h.currency, p + ".currency");
  KJ_EXPECT(c, ParseAppTime(h.payTime).has_value(), p + ".payTime",
            "must be a real time as yyyyMMddHHmmss");
}

void CheckLogistics(Checker& c, const Logistics& l) {
  const auto& h = l.head;
  const Prefix p{"LogisticsHead"};
  CheckCommonHead(c, h, p);
  CheckEnterprise(c, h.logisticsCode, p + ".logisticsCode");
  CheckCny(c, h.currency, p + ".currency");
  KJ_EXPECT(c, h.packNo == 1, p + ".packNo", "must be 1 (单个运单下包裹数，限定为1)");
  KJ_EXPECT(c, h.weight.e5 > 0, p + ".weight", "must be greater than 0 (kg)");
  if (h.freight) CheckNonNegative(c, *h.freight, p + ".freight");
  if (h.insuredFee) CheckNonNegative(c, *h.insuredFee, p + ".insuredFee");
}

void CheckLogisticsStatus(Checker& c, const LogisticsStatus& s) {
  const Prefix p{"LogisticsStatus"};
  CheckCommonHead(c, s, p);
  CheckEnterprise(c, s.logisticsCode, p + ".logisticsCode");
  KJ_EXPECT(c, s.logisticsStatus == "S", p + ".logisticsStatus",
            "must be S (签收), the only value");
  KJ_EXPECT(c, ParseAppTime(s.logisticsTime).has_value(), p + ".logisticsTime",
            "must be a real time as yyyyMMddHHmmss");
}

bool IsBonded(const std::string& trade_mode) {
  return trade_mode == "1210" || trade_mode == "1239";
}

void CheckInventory(Checker& c, const Inventory& inv, const RulesConfig& rules) {
  const auto& h = inv.head;
  const Prefix p{"InventoryHead"};
  CheckCommonHead(c, h, p);
  for (auto [code, n] : {std::pair{&h.ebpCode, "ebpCode"},
                         {&h.ebcCode, "ebcCode"},
                         {&h.logisticsCode, "logisticsCode"},
                         {&h.agentCode, "agentCode"},
                         {&h.areaCode, "areaCode"}}) {
    CheckEnterprise(c, *code, p.Dot(n));
  }
  // XSD assureCode: 只限清单的申报企业、电商企业、物流企业.
  KJ_EXPECT(
      c,
      h.assureCode == h.agentCode || h.assureCode == h.ebcCode || h.assureCode == h.logisticsCode,
      p + ".assureCode", "must be the list's agentCode, ebcCode or logisticsCode");
  KJ_EXPECT(c, h.ieFlag == "I", p + ".ieFlag", "must be I (import)");
  KJ_EXPECT(c, ParseDate8(h.declTime).has_value(), p + ".declTime",
            "must be a real date as yyyyMMdd");
  KJ_EXPECT(c, h.ieDate.empty() || ParseDate8(h.ieDate).has_value(), p + ".ieDate",
            "must be a real date as yyyyMMdd");
  KJ_EXPECT(c, AllDigits(h.customsCode, 4), p + ".customsCode",
            "must be a 4-digit customs code (JGS/T 18)");
  KJ_EXPECT(c, AllDigits(h.portCode, 4), p + ".portCode",
            "must be a 4-digit customs code (JGS/T 18)");
  CheckIdentity(c, h.buyerIdType, h.buyerIdNumber, p, "buyerIdType", "buyerIdNumber");
  // XSD tradeMode: 直购进口 9610, 保税进口 1210 (1239 in practice, domain-reference 5.1).
  const bool bonded = IsBonded(h.tradeMode);
  KJ_EXPECT(c, h.tradeMode == "9610" || bonded, p + ".tradeMode",
            "must be 9610, 1210 or 1239 for a retail import");
  if (h.tradeMode == "9610") {
    // XSD trafNo/voyageNo/billNo: 直购进口必填.
    KJ_EXPECT(c, !h.trafNo.empty(), p + ".trafNo", "is required for direct import (9610)");
    KJ_EXPECT(c, !h.voyageNo.empty(), p + ".voyageNo", "is required for direct import (9610)");
    KJ_EXPECT(c, !h.billNo.empty(), p + ".billNo", "is required for direct import (9610)");
  } else if (bonded) {
    // XSD emsNo/areaCode/areaName/itemRecordNo: 保税模式必填; country: 保税进口填写142.
    KJ_EXPECT(c, !h.emsNo.empty(), p + ".emsNo", "is required for bonded import (1210/1239)");
    KJ_EXPECT(c, !h.areaCode.empty(), p + ".areaCode", "is required for bonded import (1210/1239)");
    KJ_EXPECT(c, !h.areaName.empty(), p + ".areaName", "is required for bonded import (1210/1239)");
    KJ_EXPECT(c, h.country == "142", p + ".country", "must be 142 for bonded import");
  }
  CheckCny(c, h.currency, p + ".currency");
  KJ_EXPECT(c, h.packNo == 1, p + ".packNo", "must be 1 (件数为包裹数量，限定为1)");
  CheckNonNegative(c, h.freight, p + ".freight");
  CheckNonNegative(c, h.insuredFee, p + ".insuredFee");
  KJ_EXPECT(c, h.netWeight.e5 > 0 && h.netWeight <= h.grossWeight, p + ".netWeight",
            "must be greater than 0 and not more than grossWeight");
  CheckGnums(c, inv.lists, "InventoryList");
  for (size_t i = 0; i < inv.lists.size(); ++i) {
    const auto& l = inv.lists[i];
    const LinePath lp{"InventoryList", i + 1};
    KJ_EXPECT(c, AllDigits(l.gcode, 10), lp + ".gcode", "must be the 10-digit commodity code");
    CheckCny(c, l.currency, lp + ".currency");
    KJ_EXPECT(c, l.qty.e5 > 0, lp + ".qty", "must be greater than 0");
    KJ_EXPECT(c, l.qty1.e5 > 0, lp + ".qty1", "must be greater than 0");
    KJ_EXPECT(c, l.unit2.empty() == !l.qty2.has_value(), lp + ".qty2",
              "qty2 and unit2 go together: give both or neither");
    if (bonded)
      KJ_EXPECT(c, !l.itemRecordNo.empty(), lp + ".itemRecordNo", "is required for bonded import");
    CheckNonNegative(c, l.price, lp + ".price");
    KJ_EXPECT(c,
              WithinTolerance(TimesE5(l.price, l.qty), l.totalPrice.e5, rules.line_total_tolerance),
              lp + ".totalPrice",
              "must equal price x qty (" + l.price.ToString() + " x " + l.qty.ToString() +
                  "), found " + l.totalPrice.ToString());
  }
}

void CheckCancel(Checker& c, const InvtCancel& x) {
  const Prefix p{"InvtCancel"};
  CheckCommonHead(c, x, p, /*new_only=*/true);
  CheckIdentity(c, x.buyerIdType, x.buyerIdNumber, p, "buyerIdType", "buyerIdNumber");
  KJ_EXPECT(c, AllDigits(x.customsCode, 4), p + ".customsCode", "must be a 4-digit customs code");
}

void CheckRefund(Checker& c, const InvtRefund& r) {
  const Prefix p{"InvtRefundHead"};
  CheckCommonHead(c, r.head, p);
  CheckIdentity(c, r.head.buyerIdType, r.head.buyerIdNumber, p, "buyerIdType", "buyerIdNumber");
  KJ_EXPECT(c, AllDigits(r.head.customsCode, 4), p + ".customsCode",
            "must be a 4-digit customs code");
  std::set<int64_t> seen;
  for (size_t i = 0; i < r.lists.size(); ++i) {
    const auto& l = r.lists[i];
    const LinePath lp{"InvtRefundList", i + 1};
    if (!seen.insert(l.gnum).second) {
      c.Add(c.codes().duplicate_gnum,
            "InvtRefundList: gnum " + std::to_string(l.gnum) + " appears twice");
    }
    KJ_EXPECT(c, l.qty.e5 > 0, lp + ".qty", "must be greater than 0");
  }
}

void CheckDelivery(Checker& c, const Delivery& d) {
  const Prefix p{"DeliveryHead"};
  CheckCommonHead(c, d.head, p);
  KJ_EXPECT(c, d.head.ieFlag == "I", p + ".ieFlag", "must be I (import)");
  CheckEnterprise(c, d.head.operatorCode, p + ".operatorCode");
  CheckGnums(c, d.lists, "DeliveryList");
}

// --- export (spec chapter 2; domain-reference 1.6, 5.1) -----------------------------------------

void CheckCurrencyCode(Checker& c, const std::string& currency, const Joined& path) {
  // Export amounts may be in any currency: the customs 3-digit currency code (142 = CNY).
  KJ_EXPECT(
      c, AllDigits(currency, 3), path,
      "must be a 3-digit customs currency code (142 CNY, 502 USD ...), found '" + currency + "'");
}

void CheckCustoms(Checker& c, const std::string& code, const Joined& path) {
  KJ_EXPECT(c, AllDigits(code, 4), path, "must be a 4-digit customs code (JGS/T 18)");
}

// "无" stands for a foreign platform without a customs code (spec CEB303 ebpCode).
void CheckEnterpriseOrNone(Checker& c, const std::string& code, const Joined& path) {
  if (code != "无") CheckEnterprise(c, code, path);
}

// The trade modes of a CBEC export list and the order type each needs (SPEC2022 tradeMode and
// orderType: 9610 retail and 1210 zone export with E, 9710 B2B direct export with B, 9810 export
// to an overseas warehouse with the booking W).
const char* OrderTypeForMode(const std::string& trade_mode) {
  if (trade_mode == "9610" || trade_mode == "1210") return "E";
  if (trade_mode == "9710") return "B";
  if (trade_mode == "9810") return "W";
  return nullptr;
}

template <typename L>
void CheckPricedLines(Checker& c, const std::vector<L>& lines, const char* name,
                      const RulesConfig& rules) {
  CheckGnums(c, lines, name);
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& l = lines[i];
    const LinePath lp{name, i + 1};
    CheckCurrencyCode(c, l.currency, lp + ".currency");
    KJ_EXPECT(c, l.qty.e5 > 0, lp + ".qty", "must be greater than 0");
    KJ_EXPECT(c, l.price.e5 > 0, lp + ".price", "must be greater than 0");
    KJ_EXPECT(c,
              WithinTolerance(TimesE5(l.price, l.qty), l.totalPrice.e5, rules.line_total_tolerance),
              lp + ".totalPrice",
              "must equal price x qty (" + l.price.ToString() + " x " + l.qty.ToString() +
                  "), found " + l.totalPrice.ToString());
  }
}

void CheckXOrder(Checker& c, const exp::Order& o, const RulesConfig& rules) {
  const auto& h = o.head;
  const Prefix p{"OrderHead"};
  CheckCommonHead(c, h, p);
  // SPEC2022 CEB303 orderType: E B2C export order, B B2B export order, W overseas-warehouse
  // booking (the PDF is authoritative over the XSD annotation, domain-reference 1.6).
  KJ_EXPECT(c, h.orderType == "E" || h.orderType == "B" || h.orderType == "W", p + ".orderType",
            "must be E (B2C export), B (B2B export) or W (overseas-warehouse booking), found '" +
                h.orderType + "'");
  CheckEnterpriseOrNone(c, h.ebpCode, p + ".ebpCode");
  CheckEnterprise(c, h.ebcCode, p + ".ebcCode");
  CheckCurrencyCode(c, h.currency, p + ".currency");
  CheckNonNegative(c, h.goodsValue, p + ".goodsValue");
  CheckNonNegative(c, h.freight, p + ".freight");
  CheckPricedLines(c, o.lists, "OrderList", rules);
  __int128 sum = 0;
  for (const auto& l : o.lists) sum += l.totalPrice.e5;
  // [U] goodsValue (FOB, "含非现金抵扣金额") is the sum of the lines, as for imports.
  KJ_EXPECT(c, WithinTolerance(sum, h.goodsValue.e5, rules.line_total_tolerance), p + ".goodsValue",
            "must equal the sum of OrderList.totalPrice = " +
                Decimal::FromE5(static_cast<int64_t>(sum)).ToString());
}

void CheckXReceipts(Checker& c, const exp::Receipts& r) {
  const Prefix p{"Receipts"};
  CheckCommonHead(c, r, p);
  CheckEnterpriseOrNone(c, r.ebpCode, p + ".ebpCode");
  CheckEnterprise(c, r.ebcCode, p + ".ebcCode");
  CheckEnterprise(c, r.payCode, p + ".payCode");
  CheckCurrencyCode(c, r.currency, p + ".currency");
  KJ_EXPECT(c, r.charge.e5 > 0, p + ".charge", "must be greater than 0");
  KJ_EXPECT(c, ParseAppTime(r.accountingDate).has_value(), p + ".accountingDate",
            "must be a real time as yyyyMMddHHmmss");
}

void CheckXLogistics(Checker& c, const exp::Logistics& l) {
  const Prefix p{"Logistics"};
  CheckCommonHead(c, l, p);
  CheckEnterprise(c, l.logisticsCode, p + ".logisticsCode");
  CheckEnterprise(c, l.ebcCode, p + ".ebcCode");
  CheckCurrencyCode(c, l.currency, p + ".currency");
  CheckNonNegative(c, l.freight, p + ".freight");
  CheckNonNegative(c, l.insuredFee, p + ".insuredFee");
  KJ_EXPECT(c, l.grossWeight.e5 > 0, p + ".grossWeight", "must be greater than 0");
  KJ_EXPECT(c, l.packNo >= 1, p + ".packNo", "must be at least 1");
}

void CheckXArrival(Checker& c, const exp::Arrival& a) {
  const Prefix p{"ArrivalHead"};
  CheckCommonHead(c, a.head, p);
  CheckCustoms(c, a.head.customsCode, p + ".customsCode");
  CheckEnterprise(c, a.head.operatorCode, p + ".operatorCode");
  CheckEnterprise(c, a.head.logisticsCode, p + ".logisticsCode");
  KJ_EXPECT(c, a.head.ieFlag == "E", p + ".ieFlag", "must be E (export)");
  KJ_EXPECT(c, !a.lists.empty(), "ArrivalList", "name at least one waybill that arrived");
  CheckGnums(c, a.lists, "ArrivalList");
}

void CheckXDeparture(Checker& c, const exp::Departure& d) {
  const Prefix p{"DepartureHead"};
  CheckCommonHead(c, d.head, p);
  CheckCustoms(c, d.head.customsCode, p + ".customsCode");
  CheckEnterprise(c, d.head.logisticsCode, p + ".logisticsCode");
  // SPEC2022 DepartureHead.leaveTime an14 M.
  KJ_EXPECT(c, ParseAppTime(d.head.leaveTime).has_value(), p + ".leaveTime",
            "must be a real time as yyyyMMddHHmmss");
  CheckGnums(c, d.lists, "DepartureList");
}

void CheckXInventory(Checker& c, const exp::Inventory& inv, const RulesConfig& rules) {
  const auto& h = inv.head;
  const Prefix p{"InventoryHead"};
  CheckCommonHead(c, h, p);
  CheckCustoms(c, h.customsCode, p + ".customsCode");
  CheckCustoms(c, h.portCode, p + ".portCode");
  CheckEnterpriseOrNone(c, h.ebpCode, p + ".ebpCode");
  for (auto [code, n] : {std::pair{&h.ebcCode, "ebcCode"},
                         {&h.logisticsCode, "logisticsCode"},
                         {&h.agentCode, "agentCode"},
                         {&h.iacCode, "iacCode"}}) {
    CheckEnterprise(c, *code, p.Dot(n));
  }
  // ownerCode: the producer or seller; "NO" when it is not registered (domain-reference 1.6).
  if (h.ownerCode != "NO") CheckEnterprise(c, h.ownerCode, p + ".ownerCode");
  KJ_EXPECT(c, h.ieFlag == "E", p + ".ieFlag", "must be E (export)");
  KJ_EXPECT(c, ParseDate8(h.ieDate).has_value(), p + ".ieDate", "must be a real date as yyyyMMdd");
  // SPEC2022 statisticsFlag: A 简化申报, B 汇总申报.
  KJ_EXPECT(c, h.statisticsFlag == "A" || h.statisticsFlag == "B", p + ".statisticsFlag",
            "must be A (simplified declaration) or B (summary declaration)");
  KJ_EXPECT(c, OrderTypeForMode(h.tradeMode) != nullptr, p + ".tradeMode",
            "must be 9610 (retail export), 9710 (B2B direct export), 9810 (export to an overseas "
            "warehouse) or 1210 (special-zone export), found '" +
                h.tradeMode + "'");
  if (h.tradeMode == "1210") {
    // SPEC2022 iacCode/emsNo: 区内仓储企业 and 账册编号 are required for a zone export.
    KJ_EXPECT(c, !h.iacCode.empty(), p + ".iacCode",
              "is required for a special-zone export (1210)");
    KJ_EXPECT(c, !h.emsNo.empty(), p + ".emsNo", "is required for a special-zone export (1210)");
  }
  KJ_EXPECT(c, h.country != "142", p + ".country",
            "must be the country of arrival abroad, not 142");
  CheckCurrencyCode(c, h.fCurrency, p + ".fCurrency");
  CheckCurrencyCode(c, h.iCurrency, p + ".iCurrency");
  for (auto [flag, n] : {std::pair{&h.fFlag, "fFlag"}, {&h.iFlag, "iFlag"}}) {
    KJ_EXPECT(c, *flag == "1" || *flag == "2" || *flag == "3", p + "." + n,
              "must be 1 (rate), 2 (unit price) or 3 (total)");
  }
  CheckNonNegative(c, h.freight, p + ".freight");
  CheckNonNegative(c, h.insuredFee, p + ".insuredFee");
  KJ_EXPECT(c, h.packNo >= 1, p + ".packNo", "must be at least 1");
  KJ_EXPECT(c, h.grossWeight.e5 > 0, p + ".grossWeight", "must be greater than 0");
  KJ_EXPECT(c, h.netWeight.e5 > 0 && h.netWeight <= h.grossWeight, p + ".netWeight",
            "must be greater than 0 and not more than grossWeight");
  CheckPricedLines(c, inv.lists, "InventoryList", rules);
  for (size_t i = 0; i < inv.lists.size(); ++i) {
    const auto& l = inv.lists[i];
    const LinePath lp{"InventoryList", i + 1};
    KJ_EXPECT(c, AllDigits(l.gcode, 10), lp + ".gcode", "must be the 10-digit commodity code");
    KJ_EXPECT(c, l.qty1.e5 > 0, lp + ".qty1",
              "must be greater than 0 (quantity in the legal unit)");
    KJ_EXPECT(c, l.unit != l.unit1 || l.qty == l.qty1, lp + ".qty1",
              "must equal qty when unit and unit1 are the same");
    KJ_EXPECT(c, l.unit2.empty() == !l.qty2.has_value(), lp + ".qty2",
              "qty2 and unit2 go together: give both or neither");
    KJ_EXPECT(c, !l.qty2 || l.qty2->e5 > 0, lp + ".qty2", "must be greater than 0");
  }
}

void CheckXCancel(Checker& c, const exp::InvtCancel& x) {
  const Prefix p{"InvtCancel"};
  CheckCommonHead(c, x, p, /*new_only=*/true);
  CheckCustoms(c, x.customsCode, p + ".customsCode");
  KJ_EXPECT(c, !x.invtNo.empty(), p + ".invtNo", "name the released list to cancel");
  KJ_EXPECT(c, !x.reason.empty(), p + ".reason", "give the reason for the cancellation");
}

void CheckXWayBill(Checker& c, const exp::WayBill& w) {
  const Prefix p{"WayBillHead"};
  CheckCommonHead(c, w.head, p);
  CheckCustoms(c, w.head.customsCode, p + ".customsCode");
  CheckEnterprise(c, w.head.agentCode, p + ".agentCode");
  CheckEnterprise(c, w.head.logisticsCode, p + ".logisticsCode");
  CheckGnums(c, w.lists, "WayBillList");
}

void CheckXRefund(Checker& c, const exp::InvtRefund& r) {
  const auto& h = r.head;
  const Prefix p{"InvtRefundHead"};
  CheckCommonHead(c, h, p);
  CheckCustoms(c, h.customsCode, p + ".customsCode");
  CheckCustoms(c, h.portCode, p + ".portCode");
  // SPEC2022 CEB213 ieFlag: export returns come in, I.
  KJ_EXPECT(c, h.ieFlag == "I", p + ".ieFlag", "must be I (goods coming back)");
  KJ_EXPECT(c, h.country != "142", p + ".country", "must be the country the goods come from");
  KJ_EXPECT(c, !h.reason.empty(), p + ".reason", "give the reason for the return");
  std::set<int64_t> seen;
  for (size_t i = 0; i < r.lists.size(); ++i) {
    const auto& l = r.lists[i];
    const LinePath lp{"InvtRefundList", i + 1};
    if (!seen.insert(l.gnum).second) {
      c.Add(c.codes().duplicate_gnum,
            "InvtRefundList: gnum " + std::to_string(l.gnum) + " appears twice");
    }
    KJ_EXPECT(c, l.qty.e5 > 0, lp + ".qty", "must be greater than 0");
  }
}

void CheckXTally(Checker& c, const exp::InvtRefundDetail& d) {
  const Prefix p{"InvtRefundDetail"};
  CheckCommonHead(c, d, p);
  CheckCustoms(c, d.customsCode, p + ".customsCode");
  CheckEnterprise(c, d.operatorCode, p + ".operatorCode");
  KJ_EXPECT(c, d.ieFlag == "I", p + ".ieFlag", "must be I (goods coming back)");
}

void CheckXSummary(Checker& c, const exp::SummaryApply& s) {
  const auto& h = s.head;
  const Prefix p{"SummaryApplyHead"};
  CheckCommonHead(c, h, p, /*new_only=*/true);
  CheckCustoms(c, h.customsCode, p + ".customsCode");
  for (auto [code, n] : {std::pair{&h.agentCode, "agentCode"},
                         {&h.ebcCode, "ebcCode"},
                         {&h.declAgentCode, "declAgentCode"}}) {
    CheckEnterprise(c, *code, p.Dot(n));
  }
  // SPEC2022 summaryFlag: 1 per consignor, 2 per consignor and producer; itemNameFlag 1 or blank.
  KJ_EXPECT(c, h.summaryFlag == "1" || h.summaryFlag == "2", p + ".summaryFlag",
            "must be 1 (per consignor) or 2 (per consignor and producer)");
  KJ_EXPECT(c, h.itemNameFlag.empty() || h.itemNameFlag == "1", p + ".itemNameFlag",
            "must be 1 (group by the lists' itemName) or empty (by the classification name)");
  // startTime/endTime: given in pairs, end not before start; then the list part is ignored.
  const bool window = !h.startTime.empty() || !h.endTime.empty();
  if (window) {
    auto a = ParseAppTime(h.startTime), b = ParseAppTime(h.endTime);
    KJ_EXPECT(c, a.has_value() && b.has_value(), p + ".startTime",
              "startTime and endTime go together, each as yyyyMMddHHmmss");
    if (a && b) KJ_EXPECT(c, *a <= *b, p + ".endTime", "must not be before startTime");
  } else {
    KJ_EXPECT(c, !s.lists.empty(), "SummaryApplyList",
              "name the lists (invtNo) to summarise, or give startTime and endTime");
  }
}

}  // namespace

std::vector<Finding> ValidateRecord(const Record& record, const RulesConfig& rules) {
  std::vector<Finding> out;
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, Order>) {
          Checker c(MessageType::kCEB311, &out);
          CheckOrder(c, r, rules);
        } else if constexpr (std::is_same_v<T, Payment>) {
          Checker c(MessageType::kCEB411, &out);
          CheckPayment(c, r);
        } else if constexpr (std::is_same_v<T, Logistics>) {
          Checker c(MessageType::kCEB511, &out);
          CheckLogistics(c, r);
        } else if constexpr (std::is_same_v<T, LogisticsStatus>) {
          Checker c(MessageType::kCEB513, &out);
          CheckLogisticsStatus(c, r);
        } else if constexpr (std::is_same_v<T, Inventory>) {
          Checker c(MessageType::kCEB621, &out);
          CheckInventory(c, r, rules);
        } else if constexpr (std::is_same_v<T, InvtCancel>) {
          Checker c(MessageType::kCEB623, &out);
          CheckCancel(c, r);
        } else if constexpr (std::is_same_v<T, InvtRefund>) {
          Checker c(MessageType::kCEB625, &out);
          CheckRefund(c, r);
        } else if constexpr (std::is_same_v<T, Delivery>) {
          Checker c(MessageType::kCEB711, &out);
          CheckDelivery(c, r);
        } else if constexpr (std::is_same_v<T, exp::Order>) {
          Checker c(MessageType::kCEB303, &out);
          CheckXOrder(c, r, rules);
        } else if constexpr (std::is_same_v<T, exp::Receipts>) {
          Checker c(MessageType::kCEB403, &out);
          CheckXReceipts(c, r);
        } else if constexpr (std::is_same_v<T, exp::Logistics>) {
          Checker c(MessageType::kCEB505, &out);
          CheckXLogistics(c, r);
        } else if constexpr (std::is_same_v<T, exp::Arrival>) {
          Checker c(MessageType::kCEB507, &out);
          CheckXArrival(c, r);
        } else if constexpr (std::is_same_v<T, exp::Departure>) {
          Checker c(MessageType::kCEB509, &out);
          CheckXDeparture(c, r);
        } else if constexpr (std::is_same_v<T, exp::Inventory>) {
          Checker c(MessageType::kCEB603, &out);
          CheckXInventory(c, r, rules);
        } else if constexpr (std::is_same_v<T, exp::InvtCancel>) {
          Checker c(MessageType::kCEB605, &out);
          CheckXCancel(c, r);
        } else if constexpr (std::is_same_v<T, exp::WayBill>) {
          Checker c(MessageType::kCEB607, &out);
          CheckXWayBill(c, r);
        } else if constexpr (std::is_same_v<T, exp::InvtRefund>) {
          Checker c(MessageType::kCEB213, &out);
          CheckXRefund(c, r);
        } else if constexpr (std::is_same_v<T, exp::InvtRefundDetail>) {
          Checker c(MessageType::kCEB215, &out);
          CheckXTally(c, r);
        } else if constexpr (std::is_same_v<T, exp::SummaryApply>) {
          Checker c(MessageType::kCEB701, &out);
          CheckXSummary(c, r);
        }
      },
      record);
  return out;
}

const CodeSet& CodesFor(MessageType t) {
  //                         invalid    duplicate  stale      not_found  state      unauth     dup
  //                         gnum
  static const CodeSet kOrder{"-301008", "-301010",  "-301014", "-301009",
                              "-301011", kWrongRole, "-301002"};
  static const CodeSet kPay{"-401009", "-401007",  "-401012", "-401006",
                            "-401008", kWrongRole, "-401009"};
  static const CodeSet kWaybill{"-504011", "-504015",  "-504011", "-504014",
                                "-504016", kWrongRole, "-504011"};
  static const CodeSet kStatus{"-505011", "-505012",  "-505016", "-505014",
                               "-505014", kWrongRole, "-505011"};
  static const CodeSet kInvt{"-621001", "-621004", "-621055", "-621011",
                             "-621012", "-621016", "-621027"};
  static const CodeSet kCancel{"-623001", "-623009", "-623001", "-623003",
                               "-623005", "-623026", "-623001"};
  static const CodeSet kRefund{"-625001", "-625022", "-625001", "-625004",
                               "-625022", "-625021", "-625001"};
  static const CodeSet kDelivery{"-800001", "-800003",  "-800005", "-800001",
                                 "-800001", kWrongRole, "-800001"};
  switch (t) {
    case MessageType::kCEB311:
      return kOrder;
    case MessageType::kCEB411:
      return kPay;
    case MessageType::kCEB511:
      return kWaybill;
    case MessageType::kCEB513:
      return kStatus;
    case MessageType::kCEB621:
      return kInvt;
    case MessageType::kCEB623:
      return kCancel;
    case MessageType::kCEB625:
      return kRefund;
    default:
      break;
  }
  // Export (rules.h says where each number comes from).
  static const CodeSet kXOrder{"-301008", "-301010",  "-301014", "-301009",
                               "-301011", kWrongRole, "-301002"};
  static const CodeSet kXReceipts{"-401009", "-401007",  "-401012", "-401006",
                                  "-401008", kWrongRole, "-401009"};
  static const CodeSet kXWaybill{"-504011", "-504015",  "-504011", "-504014",
                                 "-504016", kWrongRole, "-504011"};
  static const CodeSet kXArrival{"-802001", "-803001",  "-803002", "-803003",
                                 "-803004", kWrongRole, "-802002"};
  static const CodeSet kXDeparture{"-506001", "-506101",  "-506102", "-506103",
                                   "-506104", kWrongRole, "-506002"};
  static const CodeSet kXInvt{"-602001", "-603002",  "-603003", "-603004",
                              "-603005", kWrongRole, "-602002"};
  static const CodeSet kXCancel{"-606001", "-607001",  "-607002", "-607003",
                                "-607004", kWrongRole, "-606002"};
  static const CodeSet kXBill{"-607501", "-607502",  "-607503", "-607504",
                              "-607505", kWrongRole, "-607506"};
  static const CodeSet kXRefund{"-213001", "-213002",  "-213003", "-213004",
                                "-213005", kWrongRole, "-213006"};
  static const CodeSet kXTally{"-215001", "-215002",  "-215003", "-215004",
                               "-215005", kWrongRole, "-215006"};
  static const CodeSet kXSummary{"-702001", "-703001",  "-703003", "-703004",
                                 "-703005", kWrongRole, "-702002"};
  switch (t) {
    case MessageType::kCEB303:
      return kXOrder;
    case MessageType::kCEB403:
      return kXReceipts;
    case MessageType::kCEB505:
      return kXWaybill;
    case MessageType::kCEB507:
      return kXArrival;
    case MessageType::kCEB509:
      return kXDeparture;
    case MessageType::kCEB603:
      return kXInvt;
    case MessageType::kCEB605:
      return kXCancel;
    case MessageType::kCEB607:
      return kXBill;
    case MessageType::kCEB213:
      return kXRefund;
    case MessageType::kCEB215:
      return kXTally;
    case MessageType::kCEB701:
      return kXSummary;
    default:
      return kDelivery;
  }
}

#undef KJ_EXPECT

}  // namespace kuajing::clearance
