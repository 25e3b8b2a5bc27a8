// Tax on a cross-border retail import (跨境电商综合税), computed exactly.
//
// Rules (domain-reference 4.1 and 4.2):
//  * The taxable (dutiable) price of an inventory is the actual transaction price including the
//    goods' retail price, freight and insurance (财关税〔2016〕18号 §1).
//  * Within the limits: customs duty 0; import VAT and consumption tax at 70 % of the statutory
//    amount (18号 §3, rate configurable as `reduction`):
//      CT  = TP / (1 - c) * c * 70 %
//      VAT = (TP + TP / (1 - c) * c) * v * 70 % = TP / (1 - c) * v * 70 %
//    (the VAT base uses the statutory, unreduced consumption tax; domain-reference 4.2).
//  * Full general-trade tax (a single indivisible item over the single limit, 财关税〔2018〕49号
//  §2):
//      duty = TP * d;  CT = (TP + duty) / (1 - c) * c;  VAT = (TP + duty + CT) * v.
//  * Freight and insurance are shared among the lines in proportion to the lines' totalPrice; the
//    indivisible remainder of 0.00001 units goes to the line with the largest totalPrice (the first
//    such line), so the lines' taxPrice add up to the inventory's taxable price exactly.
//  * Each tax of each line is computed as an exact rational number and rounded once, half up, to
//    the fen ("计算至分，分以下四舍五入" [U: the rounding rule is recalled, not verified]); the
//    inventory's totals are the sums of the rounded line amounts.
#pragma once

#include <string>
#include <vector>

#include "common/decimal.h"

namespace kuajing::clearance {

struct TaxLineInput {
  int64_t gnum = 0;
  std::string gcode;
  Decimal total_price;  // InventoryList.totalPrice
  Decimal vat_rate;
  Decimal consumption_tax_rate;
  Decimal duty_rate;
};

struct LineTax {
  int64_t gnum = 0;
  std::string gcode;
  Decimal tax_price;  // 完税总价格: totalPrice + share of freight and insurance
  Decimal customs_tax;
  Decimal value_added_tax;
  Decimal consumption_tax;
};

struct TaxAssessment {
  bool full_tax = false;  // true: general-trade rates, no reduction
  std::vector<LineTax> lines;
  Decimal customs_tax;
  Decimal value_added_tax;
  Decimal consumption_tax;
  Decimal Total() const { return customs_tax + value_added_tax + consumption_tax; }
};

// `reduction` is the share of statutory VAT and consumption tax levied within the limits (0.7).
// Preconditions: amounts >= 0, rates in [0, 1), at least one line.
TaxAssessment AssessTax(const std::vector<TaxLineInput>& lines, Decimal freight_and_insurance,
                        bool full_tax, Decimal reduction);

}  // namespace kuajing::clearance
