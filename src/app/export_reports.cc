#include "app/export_reports.h"

#include "common/civil_time.h"

namespace kuajing::app {

namespace {

void Field(std::string& out, std::string_view v, bool last = false) {
  if (v.find_first_of(",\"\r\n") != std::string_view::npos) {
    out += '"';
    for (char c : v) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  } else {
    out.append(v);
  }
  out += last ? '\n' : ',';
}

}  // namespace

StatusOr<std::pair<int64_t, int64_t>> MonthRange(std::string_view month) {
  std::string digits;
  for (char c : month)
    if (c != '-') digits += c;
  if (digits.size() != 6 || digits.find_first_not_of("0123456789") != std::string::npos)
    return InvalidArgument("a month is written 2024-06");
  const int y = std::stoi(digits.substr(0, 4)), m = std::stoi(digits.substr(4));
  auto from = ParseDate8(digits + "01");
  const int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
  auto to = ParseDate8(std::to_string(ny * 100 + nm) + "01");
  if (!from || !to || m < 1 || m > 12) return InvalidArgument("no such month: " + digits);
  return std::make_pair(*from, *to);
}

std::string LedgerCsv(const std::vector<clearance::LedgerRow>& rows) {
  std::string out =
      "date,invtNo,tradeMode,gnum,gcode,gname,qty,unit,price,amount,currency,country,kind\n";
  for (const auto& r : rows) {
    const std::string d = FormatDate8(r.at_ms);
    Field(out, d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2));
    Field(out, r.invt_no);
    Field(out, r.trade_mode);
    Field(out, std::to_string(r.gnum));
    Field(out, r.gcode);
    Field(out, r.gname);
    Field(out, r.qty.ToString());
    Field(out, r.unit);
    Field(out, r.price.ToString());
    Field(out, r.amount.ToMoneyString());
    Field(out, r.currency);
    Field(out, r.country);
    Field(out, r.is_return ? "return" : "sale", true);
  }
  return out;
}

}  // namespace kuajing::app
