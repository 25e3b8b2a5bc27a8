#include "clearance/tax.h"

#include <gtest/gtest.h>

namespace kuajing::clearance {
namespace {

Decimal D(const char* s) { return *Decimal::Parse(s); }
const Decimal k70 = D("0.7");

TaxLineInput Line(int64_t gnum, const char* total, const char* vat, const char* ct,
                  const char* duty) {
  return TaxLineInput{gnum, "0000000000", D(total), D(vat), D(ct), D(duty)};
}

// The six worked examples of domain-reference 4.3, to the fen.
TEST(Tax, Example1CosmeticsWithinLimits) {
  TaxAssessment t = AssessTax({Line(1, "1000", "0.13", "0.15", "0.01")}, D("0"), false, k70);
  EXPECT_EQ(t.consumption_tax.ToString(), "123.53");
  EXPECT_EQ(t.value_added_tax.ToString(), "107.06");
  EXPECT_EQ(t.customs_tax.ToString(), "0");
  EXPECT_EQ(t.Total().ToString(), "230.59");
}

TEST(Tax, Example2ApparelWithFreight) {
  TaxAssessment t = AssessTax({Line(1, "300", "0.13", "0", "0.06")}, D("20"), false, k70);
  EXPECT_EQ(t.lines[0].tax_price.ToString(), "320");
  EXPECT_EQ(t.Total().ToString(), "29.12");
}

TEST(Tax, Example3Cosmetics4000) {
  TaxAssessment t = AssessTax({Line(1, "4000", "0.13", "0.15", "0.01")}, D("30"), false, k70);
  EXPECT_EQ(t.consumption_tax.ToString(), "497.82");
  EXPECT_EQ(t.value_added_tax.ToString(), "431.45");
  EXPECT_EQ(t.Total().ToString(), "929.27");
}

TEST(Tax, Example4SingleItemFullGeneralTradeTax) {
  TaxAssessment t = AssessTax({Line(1, "6000", "0.13", "0", "0.10")}, D("0"), true, k70);
  EXPECT_EQ(t.customs_tax.ToString(), "600");
  EXPECT_EQ(t.value_added_tax.ToString(), "858");
  EXPECT_EQ(t.Total().ToString(), "1458");
}

TEST(Tax, FullTaxWithConsumptionTaxUsesDutyInItsBase) {
  // CT = (1000 + 100)/0.85*0.15 = 194.1176 -> 194.12; VAT = (1100 + 194.1176)*0.13 = 168.2353 ->
  // 168.24
  TaxAssessment t = AssessTax({Line(1, "1000", "0.13", "0.15", "0.10")}, D("0"), true, k70);
  EXPECT_EQ(t.customs_tax.ToString(), "100");
  EXPECT_EQ(t.consumption_tax.ToString(), "194.12");
  EXPECT_EQ(t.value_added_tax.ToString(), "168.24");
}

TEST(Tax, FreightIsSharedInProportionAndAddsUpExactly) {
  // 10 freight over 1 : 1 : 1 -> 3.33333 each, the 0.00001 remainder to the first largest line.
  TaxAssessment t = AssessTax({Line(1, "100", "0.13", "0", "0"), Line(2, "100", "0.13", "0", "0"),
                               Line(3, "100", "0.13", "0", "0")},
                              D("10"), false, k70);
  EXPECT_EQ(t.lines[0].tax_price.ToString(), "103.33334");
  EXPECT_EQ(t.lines[1].tax_price.ToString(), "103.33333");
  EXPECT_EQ(t.lines[2].tax_price.ToString(), "103.33333");
  Decimal sum = t.lines[0].tax_price + t.lines[1].tax_price + t.lines[2].tax_price;
  EXPECT_EQ(sum.ToString(), "310");
  // Each line rounds on its own: 103.33333 * 0.091 = 9.40333 -> 9.40; the total is their sum.
  EXPECT_EQ(t.value_added_tax.ToString(), "28.2");
}

TEST(Tax, GiftLinesAtZeroTakeNoFreight) {
  TaxAssessment t = AssessTax({Line(1, "0", "0.13", "0", "0"), Line(2, "50", "0.13", "0", "0")},
                              D("5"), false, k70);
  EXPECT_EQ(t.lines[0].tax_price.ToString(), "0");
  EXPECT_EQ(t.lines[1].tax_price.ToString(), "55");
}

}  // namespace
}  // namespace kuajing::clearance
