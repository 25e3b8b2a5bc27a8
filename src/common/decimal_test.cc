#include "common/decimal.h"

#include <gtest/gtest.h>

namespace kuajing {
namespace {

TEST(Decimal, ParsesThePlainForms) {
  EXPECT_EQ(Decimal::Parse("1000")->e5, 100000000);
  EXPECT_EQ(Decimal::Parse("0.00001")->e5, 1);
  EXPECT_EQ(Decimal::Parse("-4.5")->e5, -450000);
  EXPECT_EQ(Decimal::Parse(" 12.30 \n")->e5, 1230000);  // xs:decimal collapses whitespace
  EXPECT_EQ(Decimal::Parse(".5")->e5, 50000);
  EXPECT_EQ(Decimal::Parse("00000000000000000001")->e5, 100000);  // leading zeros are not digits
}

TEST(Decimal, RejectsWhatTheSchemaRejects) {
  std::string why;
  EXPECT_FALSE(Decimal::Parse("1e3", &why));
  EXPECT_EQ(why, "not a plain decimal number");
  EXPECT_FALSE(Decimal::Parse("1.000001", &why));
  EXPECT_EQ(why, "more than 5 fraction digits");
  EXPECT_FALSE(Decimal::Parse("12345678901234567890", &why));  // 20 digits, just over
  EXPECT_EQ(why, "more than 19 digits");
  EXPECT_FALSE(Decimal::Parse("99999999999999.99999", &why));  // 19 digits but over int64
  EXPECT_EQ(why, "too large");
  EXPECT_TRUE(Decimal::Parse("92233720368547.75807"));  // exactly INT64_MAX units
  EXPECT_FALSE(Decimal::Parse("92233720368547.75808"));
  EXPECT_FALSE(Decimal::Parse(""));
  EXPECT_FALSE(Decimal::Parse("+1"));
  EXPECT_FALSE(Decimal::Parse("1.2.3"));
  EXPECT_FALSE(Decimal::Parse("-"));
  EXPECT_FALSE(Decimal::Parse("１２"));  // full-width digits
}

TEST(Decimal, WritesTheShortestExactText) {
  EXPECT_EQ(Decimal::FromE5(100000000).ToString(), "1000");
  EXPECT_EQ(Decimal::FromE5(10706000).ToString(), "107.06");
  EXPECT_EQ(Decimal::FromE5(1).ToString(), "0.00001");
  EXPECT_EQ(Decimal::FromE5(-450000).ToString(), "-4.5");
  EXPECT_EQ(Decimal::FromE5(INT64_MIN).ToString(), "-92233720368547.75808");
  EXPECT_EQ(Decimal::FromE5(10706000).ToMoneyString(), "107.06");
  EXPECT_EQ(Decimal::FromUnits(5000).ToMoneyString(), "5000.00");
}

TEST(Decimal, RoundsHalfUpToTheFen) {
  EXPECT_EQ(RoundHalfUpToFenE5(123529, 1), 124000);  // 1.23529 -> 1.24
  EXPECT_EQ(RoundHalfUpToFenE5(12500, 1), 13000);    // 0.125 -> 0.13 (half up)
  EXPECT_EQ(RoundHalfUpToFenE5(12499, 1), 12000);
  EXPECT_EQ(RoundHalfUpToFenE5(1, 3), 0);
  EXPECT_EQ(RoundHalfUpToFenE5(1000, 3), 0);     // 0.00333.. -> 0.00
  EXPECT_EQ(RoundHalfUpToFenE5(1500, 1), 2000);  // 0.015 -> 0.02
}

}  // namespace
}  // namespace kuajing
