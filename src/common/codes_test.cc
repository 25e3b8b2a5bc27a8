#include "common/codes.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>

#include "common/civil_time.h"
#include "common/csv.h"
#include "common/fields.h"
#include "common/hash.h"

namespace kuajing {
namespace {

TEST(ResidentId, AcceptsValidAndRejectsWrongCheckDigits) {
  EXPECT_TRUE(IsValidResidentId("430404199001011237"));
  EXPECT_TRUE(IsValidResidentId("11010519491231002X"));  // the GB 11643 example, check X
  EXPECT_TRUE(IsValidResidentId("11010519491231002x"));
  EXPECT_FALSE(IsValidResidentId("430404199001011238"));  // check digit off by one
  EXPECT_FALSE(IsValidResidentId("43040419900101123"));   // 17 characters
  EXPECT_FALSE(IsValidResidentId("430404199013011234"));  // month 13, valid check digit
  EXPECT_FALSE(IsValidResidentId("A30404199001011237"));
}

TEST(Uscc, ChecksTheCheckCharacter) {
  EXPECT_TRUE(IsValidUscc("9144030071526726XG"));  // example of domain-reference 6.2
  EXPECT_TRUE(IsValidUscc("91430400MA4T8K2Q1W"));
  EXPECT_FALSE(IsValidUscc("9144030071526726XH"));
  EXPECT_FALSE(IsValidUscc("9144030071526726IG"));  // I is not in the alphabet
  EXPECT_TRUE(IsValidEnterpriseCode("4304961001"));
  EXPECT_TRUE(IsValidEnterpriseCode("312226T001"));
  EXPECT_FALSE(IsValidEnterpriseCode("4304961"));
  EXPECT_FALSE(IsValidEnterpriseCode("43049610a1"));  // lower case
}

TEST(CivilTime, ParsesAndFormatsChinaStandardTime) {
  auto t = ParseAppTime("20240611093015");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, 1718069415000);  // 2024-06-11T01:30:15Z
  EXPECT_EQ(FormatAppTime(*t), "20240611093015");
  EXPECT_EQ(FormatReturnTime(*t + 7), "20240611093015007");
  // The digits written directly: checked against std::chrono's calendar (China Standard Time,
  // UTC+8) formatted as "%04d%02d..." over ±17,000 years, so the years beyond 0-9999 (written
  // through snprintf) are covered too.
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const int64_t bound = i % 2 ? int64_t{1} << 45 : int64_t{1} << 49;
    const int64_t ms = static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * bound)) - bound;
    const int64_t cst = ms + 8 * 3600 * 1000;
    const int64_t day = cst >= 0 ? cst / 86400000 : -((-cst + 86399999) / 86400000);
    const int64_t in_day = cst - day * 86400000;
    const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
    char want[48];
    std::snprintf(want, sizeof want, "%04d%02u%02u%02d%02d%02d%03d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(in_day / 3600000), static_cast<int>(in_day / 60000 % 60),
                  static_cast<int>(in_day / 1000 % 60), static_cast<int>(in_day % 1000));
    ASSERT_EQ(FormatReturnTime(ms), want) << ms;
    ASSERT_EQ(FormatReturnTime(ms), want) << ms << ", again (the time kept from the last call)";
    ASSERT_EQ(FormatAppTime(ms), std::string(want, std::strlen(want) - 3)) << ms;
  }
  EXPECT_EQ(FormatReturnTime(*t + 7), "20240611093015007");  // after others: not the last kept
  EXPECT_EQ(FormatReturnTime(*t + 8), "20240611093015008");
  EXPECT_EQ(FormatDate8(*ParseAppTime("20241231235959")), "20241231");
  EXPECT_EQ(CstYear(*ParseAppTime("20250101000000")), 2025);  // 16:00 UTC on 31 Dec is 2025 in CST
  EXPECT_TRUE(ParseAppTime("20240229120000"));
  EXPECT_FALSE(ParseAppTime("20230229120000"));
  EXPECT_FALSE(ParseAppTime("20240611246000"));
  EXPECT_FALSE(ParseAppTime("2024061109301"));
  EXPECT_FALSE(ParseAppTime("2024O611093015"));
}

TEST(Csv, ReadsQuotedFieldsAndRejectsRaggedRows) {
  auto t = ParseCsv(
      "\xEF\xBB\xBF"
      "a,b,c\n1,\"x, \"\"y\"\"\",3\r\n\n4,\"multi\nline\",6\n");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0][1], "x, \"y\"");
  EXPECT_EQ(t->rows[1][1], "multi\nline");
  EXPECT_EQ(t->Column("c"), 2);
  EXPECT_EQ(t->Column("d"), -1);
  auto bad = ParseCsv("a,b\n1,2,3\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("row 2 has 3 fields"), std::string::npos);
  EXPECT_FALSE(ParseCsv("a\n\"open").ok());
  EXPECT_FALSE(ParseCsv("").ok());
}

// The stored rows' "key\tvalue" header: read as a map and as views, the same fields and the same
// rest; a key written twice reads as the last.
TEST(Fields, ViewsReadWhatTheMapReads) {
  const std::string text =
      "phase\t4\npre_no\tB1\nempty\t\nnote\ttab here\ndup\t1\nno tab\ndup\t2\n\n"
      "the record\n\nwith blank lines";
  std::string_view rest_map, rest_view;
  const Fields map = DecodeFields(text, &rest_map);
  const FieldsView view(text, &rest_view);
  EXPECT_EQ(rest_view, rest_map);
  EXPECT_EQ(rest_view, "the record\n\nwith blank lines");
  for (const char* k : {"phase", "pre_no", "empty", "note", "dup", "missing"}) {
    EXPECT_EQ(ToStr(view, k), ToStr(map, k)) << k;
  }
  EXPECT_EQ(ToStr(view, "note"), "tab here");
  EXPECT_EQ(ToStr(view, "dup"), "2");
  EXPECT_EQ(ToInt(view, "phase"), 4);
  std::string_view r;
  for (const char* v : {"-17", "+5", " 12", "12abc", "9223372036854775807"}) {
    const std::string t = std::string("n\t") + v + "\n\n";
    EXPECT_EQ(ToInt(FieldsView(t, &r), "n"), ToInt(DecodeFields(t, &r), "n")) << v;
  }
  EXPECT_EQ(ToInt(view, "empty"), 0);
  EXPECT_EQ(ToInt(view, "missing"), 0);
  std::string_view rest;
  EXPECT_EQ(FieldsView("", &rest).Get("phase"), "");
  EXPECT_EQ(rest, "");
}

TEST(Hash, GuidsAreStableAndWellFormed) {
  // Stored receipts carry these guids and a replay must write the same bytes: the values are fixed.
  EXPECT_EQ(DeterministicGuid(""), "36178FF4-2BEE-28E5-D4A5-9CFE3D1B3A34");
  EXPECT_EQ(DeterministicGuid("CEB622a0b1c2d3-guid-120"), "331C2EE0-4988-B611-3ABC-71F80FD71FD5");
  EXPECT_EQ(DeterministicGuid("长一点的键 with UTF-8 and more than sixteen bytes"),
            "9E612ACD-4800-53C1-AC22-99F09EDA997F");
  std::string g = DeterministicGuid("x");
  EXPECT_EQ(g, "6B8958F5-E17E-6DB4-A252-2A71BA7C29FA");
  EXPECT_EQ(g, DeterministicGuid("x"));
  EXPECT_NE(g, DeterministicGuid("y"));
  ASSERT_EQ(g.size(), 36u);
  EXPECT_EQ(g[8], '-');
  EXPECT_EQ(g.find_first_not_of("0123456789ABCDEF-"), std::string::npos);
}

// A guid of pieces is the guid of their concatenation, however the key is cut (a receipt's guid
// is made from its pieces where they are; stored receipts are written out again with it).
TEST(Hash, AGuidOfPiecesIsTheGuidOfTheirConcatenation) {
  const std::string key = "CEB622a0b1c2d3-guid-120长一点的键20240611100000000";
  for (size_t cut1 = 0; cut1 <= key.size(); cut1 += 7) {
    for (size_t cut2 = cut1; cut2 <= key.size(); cut2 += 11) {
      const std::string_view k(key);
      EXPECT_EQ(DeterministicGuid({k.substr(0, cut1), k.substr(cut1, cut2 - cut1), k.substr(cut2)}),
                DeterministicGuid(key))
          << cut1 << " " << cut2;
    }
  }
  EXPECT_EQ(DeterministicGuid({}), DeterministicGuid(""));
  EXPECT_EQ(DeterministicGuid({"", "CEB622a0b1c2d3-guid-120", ""}),
            "331C2EE0-4988-B611-3ABC-71F80FD71FD5");
}

}  // namespace
}  // namespace kuajing
