#include "reference/reference_data.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/csv.h"

namespace kuajing::reference {

namespace {

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status RowError(const char* file, size_t row, const std::string& what) {
  return InvalidArgument(std::string(file) + " line " + std::to_string(row + 2) + ": " + what);
}

StatusOr<Decimal> ParseRate(const char* file, size_t row, const char* column,
                            const std::string& text) {
  auto d = Decimal::Parse(text);
  if (!d || d->e5 < 0 || d->e5 >= Decimal::kScale) {
    return RowError(
        file, row,
        std::string(column) + " '" + text + "' must be a decimal rate in [0, 1), such as 0.13");
  }
  return *d;
}

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case kEbp:
      return "ebp";
    case kEbc:
      return "ebc";
    case kAgent:
      return "agent";
    case kLogistics:
      return "logistics";
    case kPay:
      return "pay";
    case kWarehouse:
      return "warehouse";
  }
  return "?";
}

StatusOr<ReferenceData> ReferenceData::LoadDir(const std::string& dir) {
  auto e = ReadFile(dir + "/enterprises.csv");
  if (!e.ok()) return e.status();
  auto g = ReadFile(dir + "/goods.csv");
  if (!g.ok()) return g.status();
  return LoadText(*e, *g);
}

StatusOr<ReferenceData> ReferenceData::LoadText(std::string_view enterprises_csv,
                                                std::string_view goods_csv) {
  ReferenceData data;
  {
    constexpr const char* kFile = "enterprises.csv";
    auto t = ParseCsv(enterprises_csv);
    if (!t.ok()) return InvalidArgument(std::string(kFile) + ": " + t.status().message());
    int c_code = t->Column("code"), c_name = t->Column("name"), c_roles = t->Column("roles");
    int c_verified = t->Column("buyer_identity_verified");
    if (c_code < 0 || c_name < 0 || c_roles < 0) {
      return InvalidArgument(std::string(kFile) + ": the header must be code,name,roles");
    }
    for (size_t i = 0; i < t->rows.size(); ++i) {
      const auto& row = t->rows[i];
      Enterprise ent{row[c_code], row[c_name], 0, c_verified >= 0 && row[c_verified] == "1"};
      if (ent.code.empty() || ent.code.size() > 18) {
        return RowError(kFile, i, "code must be 1 to 18 characters");
      }
      if (!ParseRoles(row[c_roles], &ent.roles)) {
        return RowError(kFile, i,
                        "unknown role in '" + row[c_roles] +
                            "' (use ebp, ebc, agent, logistics, pay, warehouse joined by |)");
      }
      if (!data.enterprises_.emplace(ent.code, ent).second) {
        return RowError(kFile, i, "duplicate code " + ent.code);
      }
    }
  }
  {
    constexpr const char* kFile = "goods.csv";
    auto t = ParseCsv(goods_csv);
    if (!t.ok()) return InvalidArgument(std::string(kFile) + ": " + t.status().message());
    int c_hs = t->Column("hs8"), c_name = t->Column("name"), c_vat = t->Column("vat_rate"),
        c_ct = t->Column("consumption_tax_rate"), c_duty = t->Column("duty_rate");
    if (c_hs < 0 || c_name < 0 || c_vat < 0 || c_ct < 0 || c_duty < 0) {
      return InvalidArgument(
          std::string(kFile) +
          ": the header must be hs8,name,vat_rate,consumption_tax_rate,duty_rate");
    }
    for (size_t i = 0; i < t->rows.size(); ++i) {
      const auto& row = t->rows[i];
      GoodsLine line;
      line.hs8 = row[c_hs];
      line.name = row[c_name];
      if (line.hs8.size() != 8 || line.hs8.find_first_not_of("0123456789") != std::string::npos) {
        return RowError(kFile, i, "hs8 '" + line.hs8 + "' must be 8 digits");
      }
      auto vat = ParseRate(kFile, i, "vat_rate", row[c_vat]);
      if (!vat.ok()) return vat.status();
      auto ct = ParseRate(kFile, i, "consumption_tax_rate", row[c_ct]);
      if (!ct.ok()) return ct.status();
      auto duty = ParseRate(kFile, i, "duty_rate", row[c_duty]);
      if (!duty.ok()) return duty.status();
      line.vat_rate = *vat;
      line.consumption_tax_rate = *ct;
      line.duty_rate = *duty;
      if (!data.goods_.emplace(line.hs8, line).second) {
        return RowError(kFile, i, "duplicate hs8 " + line.hs8);
      }
    }
  }
  return data;
}

bool ReferenceData::ParseRoles(std::string_view roles, uint8_t* out) {
  *out = 0;
  while (!roles.empty()) {
    size_t bar = roles.find('|');
    std::string_view r = roles.substr(0, bar);
    bool known = false;
    for (Role role : {kEbp, kEbc, kAgent, kLogistics, kPay, kWarehouse}) {
      if (r == RoleName(role)) {
        *out |= role;
        known = true;
      }
    }
    if (!known) return false;
    roles = bar == std::string_view::npos ? std::string_view() : roles.substr(bar + 1);
  }
  return true;
}

Status ReferenceData::PutEnterprise(const Enterprise& e) {
  if (e.code.empty() || e.code.size() > 18)
    return InvalidArgument("code must be 1 to 18 characters");
  if (e.name.empty() || e.name.size() > 300)
    return InvalidArgument("name must be 1 to 100 characters");
  if (e.roles == 0) return InvalidArgument("an enterprise needs at least one role");
  enterprises_[e.code] = e;
  return Status::Ok();
}

Status ReferenceData::PutGoods(const GoodsLine& g) {
  if (g.hs8.size() != 8 || g.hs8.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("hs8 must be 8 digits");
  }
  for (Decimal r : {g.vat_rate, g.consumption_tax_rate, g.duty_rate}) {
    if (r.e5 < 0 || r.e5 >= Decimal::kScale)
      return InvalidArgument("rates must be decimals in [0, 1)");
  }
  goods_[g.hs8] = g;
  return Status::Ok();
}

bool ReferenceData::RemoveEnterprise(std::string_view code) {
  const auto it = enterprises_.find(code);
  if (it == enterprises_.end()) return false;
  enterprises_.erase(it);
  return true;
}
bool ReferenceData::RemoveGoods(std::string_view hs8) {
  const auto it = goods_.find(hs8);
  if (it == goods_.end()) return false;
  goods_.erase(it);
  return true;
}

std::vector<const Enterprise*> ReferenceData::Enterprises() const {
  std::vector<const Enterprise*> out;
  for (const auto& [k, v] : enterprises_) out.push_back(&v);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->code < b->code; });
  return out;
}

std::vector<const GoodsLine*> ReferenceData::Goods() const {
  std::vector<const GoodsLine*> out;
  for (const auto& [k, v] : goods_) out.push_back(&v);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->hs8 < b->hs8; });
  return out;
}

const Enterprise* ReferenceData::FindEnterprise(std::string_view code) const {
  auto it = enterprises_.find(code);
  return it == enterprises_.end() ? nullptr : &it->second;
}

const GoodsLine* ReferenceData::FindGoods(std::string_view gcode) const {
  if (gcode.size() < 8) return nullptr;
  auto it = goods_.find(gcode.substr(0, 8));
  return it == goods_.end() ? nullptr : &it->second;
}

}  // namespace kuajing::reference
