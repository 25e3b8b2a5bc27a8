#include "clearance/tax.h"

#include <cassert>

namespace kuajing::clearance {

namespace {
using i128 = __int128;
constexpr i128 kS = Decimal::kScale;

Decimal Round(i128 num, i128 den) { return Decimal::FromE5(RoundHalfUpToFenE5(num, den)); }
}  // namespace

TaxAssessment AssessTax(const std::vector<TaxLineInput>& lines, Decimal extra, bool full_tax,
                        Decimal reduction) {
  assert(!lines.empty() && extra.e5 >= 0);
  TaxAssessment out;
  out.full_tax = full_tax;

  // Share freight and insurance in proportion to totalPrice (floor), remainder to the largest line.
  i128 goods_total = 0;
  size_t largest = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    goods_total += lines[i].total_price.e5;
    if (lines[i].total_price > lines[largest].total_price) largest = i;
  }
  std::vector<int64_t> share(lines.size(), 0);
  int64_t shared = 0;
  if (goods_total > 0) {
    for (size_t i = 0; i < lines.size(); ++i) {
      share[i] = static_cast<int64_t>(i128{extra.e5} * lines[i].total_price.e5 / goods_total);
      shared += share[i];
    }
  }
  share[largest] += extra.e5 - shared;

  const i128 r = reduction.e5;
  for (size_t i = 0; i < lines.size(); ++i) {
    const TaxLineInput& in = lines[i];
    const i128 tp = in.total_price.e5 + share[i];
    const i128 c = in.consumption_tax_rate.e5, v = in.vat_rate.e5, d = in.duty_rate.e5;
    assert(c >= 0 && c < kS && v >= 0 && d >= 0);
    LineTax t;
    t.gnum = in.gnum;
    t.gcode = in.gcode;
    t.tax_price = Decimal::FromE5(static_cast<int64_t>(tp));
    if (full_tax) {
      t.customs_tax = Round(tp * d, kS);
      t.consumption_tax = Round(tp * (kS + d) * c, kS * (kS - c));
      t.value_added_tax = Round(tp * (kS + d) * v, kS * (kS - c));
    } else {
      t.customs_tax = Decimal{};
      t.consumption_tax = Round(tp * c * r, (kS - c) * kS);
      t.value_added_tax = Round(tp * v * r, (kS - c) * kS);
    }
    out.customs_tax += t.customs_tax;
    out.value_added_tax += t.value_added_tax;
    out.consumption_tax += t.consumption_tax;
    out.lines.push_back(std::move(t));
  }
  return out;
}

}  // namespace kuajing::clearance
