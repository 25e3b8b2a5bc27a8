// Reference data: the enterprises registered with the zone (备案) and the retail-import positive
// list (跨境电子商务零售进口商品清单) with the tax rates of each 8-digit tariff line.
//
// Loaded from two CSV files in one folder, so that any zone can bring its own:
//   enterprises.csv  code,name,roles[,buyer_identity_verified]
//                    roles joined by '|' from ebp, ebc, agent, logistics, pay, warehouse;
//                    buyer_identity_verified = 1 marks a platform whose buyers' identities are
//                    authenticated (then buyer and payer may differ, 财关税〔2016〕18号 §5).
//   goods.csv        hs8,name,vat_rate,consumption_tax_rate,duty_rate   (rates as decimals, 0.13)
// Extra columns are ignored. Thread safety: not thread-safe; changed and read under the owner's
// lock (the platform's).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/decimal.h"
#include "common/status.h"
#include "common/table_hash.h"

namespace kuajing::reference {

enum Role : uint8_t {
  kEbp = 1 << 0,        // e-commerce platform (电商平台)
  kEbc = 1 << 1,        // e-commerce enterprise (电商企业)
  kAgent = 1 << 2,      // declaring enterprise (申报企业)
  kLogistics = 1 << 3,  // logistics enterprise (物流企业)
  kPay = 1 << 4,        // payment enterprise (支付企业)
  kWarehouse = 1 << 5,  // supervised-site operator / zone warehouse (监管场所经营人/区内仓储企业)
};
const char* RoleName(Role r);

struct Enterprise {
  std::string code;
  std::string name;
  uint8_t roles = 0;
  bool buyer_identity_verified = false;
  bool Has(Role r) const { return (roles & r) != 0; }
};

// One 8-digit tariff line of the positive list. Rates are exact decimals (0.13 = 13000 e5).
struct GoodsLine {
  std::string hs8;
  std::string name;
  Decimal vat_rate;
  Decimal consumption_tax_rate;
  Decimal duty_rate;  // MFN duty, used only when full general-trade tax applies
};

class ReferenceData {
 public:
  // Reads enterprises.csv and goods.csv from `dir`. Fails with InvalidArgument naming the file,
  // the line and the problem (missing header column, unknown role, rate not in [0,1), bad hs8).
  static StatusOr<ReferenceData> LoadDir(const std::string& dir);
  static StatusOr<ReferenceData> LoadText(std::string_view enterprises_csv,
                                          std::string_view goods_csv);

  const Enterprise* FindEnterprise(std::string_view code) const;
  // Registration changes made at run time (备案 over the API). Each validates like the loader.
  Status PutEnterprise(const Enterprise& e);
  Status PutGoods(const GoodsLine& g);
  bool RemoveEnterprise(std::string_view code);
  bool RemoveGoods(std::string_view hs8);
  // Every entry, sorted by key (for listings).
  std::vector<const Enterprise*> Enterprises() const;
  std::vector<const GoodsLine*> Goods() const;
  // Parses "ebp|ebc" into role bits; false on an unknown role.
  static bool ParseRoles(std::string_view roles, uint8_t* out);
  // Looks up the first 8 digits of a 10-digit gcode.
  const GoodsLine* FindGoods(std::string_view gcode) const;
  size_t enterprise_count() const { return enterprises_.size(); }
  size_t goods_count() const { return goods_.size(); }

 private:
  // Found by a view of the code (the writer looks up some 18 enterprises per clearance): no
  // string made for a lookup.
  struct ViewHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return TableHash(s); }
  };
  std::unordered_map<std::string, Enterprise, ViewHash, std::equal_to<>> enterprises_;
  std::unordered_map<std::string, GoodsLine, ViewHash, std::equal_to<>> goods_;
};

}  // namespace kuajing::reference
