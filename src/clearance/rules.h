// The codes kuajing answers with, and the configurable parameters of the retail-import rules.
//
// Negative returnStatus codes come from the 202205 standard, section 7 (table 7-2), unless marked
// otherwise. Where the standard has no code for a situation, the nearest code of the same message
// type is used and the returnInfo says exactly what is wrong.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/decimal.h"
#include "model/documents.h"
#include "risk/risk.h"

namespace kuajing::clearance {

// The codes for one declaration type.
struct CodeSet {
  const char* invalid;  // field check failed (参数校验不通过 / 报文校验失败)
  const char* duplicate;  // the business key is already declared (已存在相同编号 / 重复申报)
  const char* stale;      // appTime not newer than the stored one (旧报文数据，不做处理)
  const char* not_found;  // appType 2/3 or a reference to something that does not exist
  const char* state;      // the stored document's state does not allow the operation
  const char* unauthorized;  // the sender may not send this (没有权限进行操作 / 无效企业类型)
  const char* duplicate_gnum;  // two lines with one gnum
};

// Spec §7: order -301001..-301015, payment -401001..-401013, waybill -504000..-504016,
// waybill status -505000..-505017, inventory -621000..-621999, cancellation -623000..-623999,
// return -625001..-625209, warehouse entry -800000..-800006; enterprise -10101/-10102.
// "-621055" (inventory: a newer list exists) is seen in enterprise code only [V-code].
const CodeSet& CodesFor(model::MessageType declaration);

inline constexpr const char* kUnknownEnterprise = "-10102";      // 无效企业代码
inline constexpr const char* kWrongRole = "-10101";              // 无效企业类型
inline constexpr const char* kInventoryMatchFailed = "-621003";  // 清单申报失败，[*]
inline constexpr const char* kOverSingleLimit = "-621005";       // 购买金额超过单笔限额
inline constexpr const char* kOverAnnualLimit = "-621018";     // 本次购买将超过年度限额
inline constexpr const char* kRefundLineNotFound = "-625209";  // 未找到表体序号为[*]的数据
inline constexpr const char* kRefundFailed = "-625004";        // 退货申请单申报失败，[*]

// Export codes (docs/EXPORT.md). The 202205 standard's table 7-2 has codes for orders (-301xxx),
// payments (-401xxx) and waybills (-504xxx), used for the export order, receipt of payment and
// waybill as they are. For the export inventory, cancellation, arrival and departure the 2018
// trial edition gave ranges (-601001..-605000, -605001..-609000, -801001..-805000,
// -505001..-507000) in blocks of 1000 (signature, format, business, processing) but no single
// codes; the numbers inside the ranges are kuajing's. The bill link (607), export returns
// (213/215) and the summary (701) have no published range: kuajing uses -607xxx, -213xxx,
// -215xxx and -701xxx [U].
inline constexpr const char* kExportMatchFailed = "-603001";  // 清单对碰失败: order/waybill differ
inline constexpr const char* kSummaryListInvalid = "-703002";  // 汇总申请单的清单不可汇总

// Which parameters apply to exports; [U] marks the ones the sources do not settle.
struct ExportRulesConfig {
  // [U] Release (800) waits for the arrival at the supervised site (CEB507) in these modes
  // (domain-reference 3.4: arrival comes before release; offices differ in the order).
  std::string arrival_required_modes = "9610,9710,9810,1210";
  // [U] An export return (CEB213) is accepted within this many days of release; the return tax
  // exemption applies to goods returned within 6 months (domain-reference 5.3).
  int return_window_days = 180;
  // [V-page] Summary declarations of a month's closed lists are due by this day of the next month
  // (domain-reference 5.2); [U] holidays do not move it here.
  int summary_deadline_day = 15;
  // [U] Lines per customs declaration made from a summary; more lines start another declaration.
  int summary_max_lines = 50;
  // [U] decState written into CEB792 ("具体返回值由海关确定"); the official sample writes A.
  std::string summary_decl_state = "A";
};

// Receipt statuses (XSD InventoryReturn/returnStatus annotation; domain-reference 2).
namespace status {
inline constexpr const char* kDraft = "1";         // 电子口岸已暂存
inline constexpr const char* kDeclaring = "2";     // 电子口岸申报中
inline constexpr const char* kRejected = "100";    // 海关退单
inline constexpr const char* kStored = "120";      // 海关入库 (logic check passed)
inline constexpr const char* kReview = "300";      // 人工审核
inline constexpr const char* kConcluded = "399";   // 海关审结
inline constexpr const char* kInspection = "500";  // 查验
inline constexpr const char* kReleased = "800";    // 放行
inline constexpr const char* kClosed = "899";      // 结关
// A refusal: a negative status (the type's error codes, domain-reference 2) or 100 海关退单.
inline bool IsRefusal(std::string_view s) { return (!s.empty() && s[0] == '-') || s == kRejected; }
}  // namespace status

// Parameters of the rules. Defaults are the regulations in force; [U] marks values that the
// domain reference could not verify, which a zone can change in its config file.
struct RulesConfig {
  // 财关税〔2018〕49号 §1: 5,000 CNY per transaction, 26,000 CNY per person per year, applied to
  // the dutiable price (goods + freight + insurance).
  Decimal single_limit = Decimal::FromUnits(5000);
  Decimal annual_limit = Decimal::FromUnits(26000);
  // 财关税〔2016〕18号 §3: VAT and consumption tax at 70 % of the statutory amount.
  Decimal reduction = Decimal::FromE5(70000);
  // 海关总署公告2020年第45号: returns applied within 30 days of release.
  int return_window_days = 30;
  // [U] Tolerance of totalPrice against price x qty and of goodsValue against the sum of lines.
  Decimal line_total_tolerance = Decimal::FromFen(1);
  // [U] InventoryList.gname must equal the order line's itemName ("与电子订单一致").
  bool require_gname_equals_item_name = true;
  // 49号 §2: a single indivisible item over the single limit is cleared at full tax. Customs must
  // confirm that the item is indivisible, so by default such a list waits for an officer (300).
  bool review_single_item_over_limit = true;
  // Random inspection (查验) share, 0..1, drawn deterministically from the list's guid and the
  // seed.
  Decimal random_inspection_rate = Decimal::FromE5(0);
  uint64_t random_seed = 1;
  // Customs code written into the invtNo of accepted lists when the list's own is not 4 digits.
  std::string default_customs_code = "4900";  // [U] Changsha customs; Hengyang's own code unknown
  ExportRulesConfig exports;
  // The risk rules (docs/RISK.md); null: no risk rules, every matched list goes on.
  std::shared_ptr<const risk::Rules> risk_rules;
  // [U] Whether a risk hold's receipt (300/500) names the rules that fired. Customs does not
  // publish its targeting, so by default the receipt says only that the list was selected; the
  // officer always sees the reasons. A risk rejection always says why (the declarant must be able
  // to act on it).
  bool risk_reasons_in_receipts = false;
};

}  // namespace kuajing::clearance
