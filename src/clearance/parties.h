// Who may send a declaration, whether the parties it names are registered (备案), and what its
// appType does: shared by the import and the export engine.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>

#include "clearance/rules.h"
#include "reference/reference_data.h"

namespace kuajing::clearance {

// Spec: BaseTransfer.copCode "需要与接入客户端的企业身份一致"; each declaration type comes from
// the roles named in the XSD annotations (domain-reference 1.3, 3.2). Returns an empty string or
// the reason.
// `on_commission`: an express or postal operator (logistics role) may send the document for the
// parties it names (Ann. 2018 No. 194, for orders and payments); facts only the named party can
// state (arrival at a site, departure, a return's tally) pass false.
inline std::string CheckSender(const reference::ReferenceData& ref, std::string_view sender,
                               uint8_t allowed_roles,
                               std::initializer_list<std::string_view> own_codes,
                               const CodeSet& codes, const char** code, bool on_commission = true) {
  const reference::Enterprise* e = ref.FindEnterprise(sender);
  if (e == nullptr) {
    *code = kUnknownEnterprise;
    return "无效企业代码: sender " + std::string(sender) + " is not registered with the zone";
  }
  if ((e->roles & allowed_roles) == 0) {
    *code = codes.unauthorized;
    return "[" + std::string(sender) +
           "]没有权限进行操作: not registered for a role that may send this document";
  }
  bool own = std::find(own_codes.begin(), own_codes.end(), sender) != own_codes.end();
  // Express and postal operators may send orders and payments on commission (Ann. 2018 No. 194).
  if (!own && !(on_commission && e->Has(reference::kLogistics))) {
    *code = codes.unauthorized;
    return "[" + std::string(sender) +
           "]没有权限进行操作: the sender is not a party named in the document";
  }
  return {};
}

// Each party named in a document must be registered in its role (备案).
inline std::string CheckParty(const reference::ReferenceData& ref, std::string_view code,
                              reference::Role role, const char* field, const char** out_code) {
  const reference::Enterprise* e = ref.FindEnterprise(code);
  if (e == nullptr) {
    *out_code = kUnknownEnterprise;
    return std::string(field) + " " + std::string(code) +
           ": 无效企业代码, not registered with the zone";
  }
  if (!e->Has(role)) {
    *out_code = kWrongRole;
    return std::string(field) + " " + std::string(code) + ": 无效企业类型, not registered as " +
           reference::RoleName(role);
  }
  return {};
}

// What a declaration with an appType does to the document stored under its business key.
enum class Admit { kNew, kReplace, kDelete, kResend, kRefused };

// appType 1 adds, 2 replaces, 3 deletes; a record whose appTime is not newer than the stored
// one is ignored ("接收报文为旧报文数据，不做处理", spec §7); the same key and appTime is a
// resend. `locked` means a decided list uses the document (spec -301011 and kin): then
// `locked_reason` says why it can no longer change. Shared by the import and export order,
// payment (receipt of payment) and waybill.
template <typename Head>
Admit AdmitChange(const Head& h, const Head* stored, bool locked, std::string_view locked_reason,
                  const CodeSet& codes, const char** code, std::string* why) {
  if (stored != nullptr && stored->appTime == h.appTime) return Admit::kResend;
  if (h.appType == "1") {
    if (stored == nullptr) return Admit::kNew;
    if (h.appTime < stored->appTime) {
      *code = codes.stale;
      *why = "接收报文为旧报文数据，不做处理: appTime " + h.appTime + " is older than the stored " +
             stored->appTime;
    } else {
      *code = codes.duplicate;
      *why = "已存在相同编号的单证 (guid " + stored->guid + "): send appType 2 to change it";
    }
    return Admit::kRefused;
  }
  if (stored == nullptr) {
    *code = codes.not_found;
    *why = "appType " + h.appType +
           " needs an earlier declaration with the same number; none is stored";
    return Admit::kRefused;
  }
  if (h.appTime <= stored->appTime) {
    *code = codes.stale;
    *why = "接收报文为旧报文数据，不做处理: appTime " + h.appTime +
           " is not newer than the stored " + stored->appTime;
    return Admit::kRefused;
  }
  if (locked) {
    *code = codes.state;
    *why = "状态不符: " + std::string(locked_reason);
    return Admit::kRefused;
  }
  return h.appType == "2" ? Admit::kReplace : Admit::kDelete;
}

}  // namespace kuajing::clearance
