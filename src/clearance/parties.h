// Who may send a declaration and whether the parties it names are registered (备案): shared by the
// import and the export engine.
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
inline std::string CheckSender(const reference::ReferenceData& ref, std::string_view sender,
                               uint8_t allowed_roles,
                               std::initializer_list<std::string_view> own_codes,
                               const CodeSet& codes, const char** code) {
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
  if (!own && !e->Has(reference::kLogistics)) {
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

}  // namespace kuajing::clearance
