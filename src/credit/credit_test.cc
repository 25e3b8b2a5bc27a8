#include "credit/credit.h"

#include <gtest/gtest.h>

#include "common/civil_time.h"

namespace kuajing::credit {
namespace {

int64_t At(const char* app_time) { return *ParseAppTime(app_time); }

// Declares `n` documents for `code` at `t`.
void Declare(Book& b, const std::string& code, int n, int64_t t) {
  for (int i = 0; i < n; ++i) b.Record(code, Event::kDeclared, t);
}

TEST(Credit, NewEnterpriseIsGeneralAndSmallVolumesAreNotRates) {
  Book b{Config{}};
  const int64_t t = At("20240610100000");
  EXPECT_EQ(b.GradeOf("E1", t), Grade::kB);  // no record at all
  Declare(b, "E1", 10, t);
  b.Record("E1", Event::kRejectedMismatch, t, "L1", "amounts differ");
  // One mismatch in 10 declarations is taken over min_declarations (1,000): 1 per 1,000, -1.
  EXPECT_EQ(b.GradeOf("E1", t), Grade::kB);
  EXPECT_EQ(b.View("E1", t)->score, Decimal::FromUnits(99));
  // Five risk refusals in the first 100 declarations: -10, still B (not 50 per 1,000: D).
  Declare(b, "E1", 90, t);
  for (int i = 0; i < 5; ++i) b.Record("E1", Event::kRejectedRisk, t);
  EXPECT_EQ(b.View("E1", t)->score, Decimal::FromUnits(89));
  EXPECT_EQ(b.GradeOf("E1", t), Grade::kB);
}

TEST(Credit, ScoreIsPointsPerThousandDeclarations) {
  Book b{Config{}};
  const int64_t t = At("20240610100000");
  Declare(b, "E1", 1000, t);
  for (int i = 0; i < 20; ++i) b.Record("E1", Event::kRejectedMismatch, t);  // 20 per 1000
  for (int i = 0; i < 4; ++i) b.Record("E1", Event::kRejectedFormat, t);     // 4 per 1000
  auto v = b.View("E1", t);
  ASSERT_TRUE(v);
  // 100 - 20 x 1.0 - 4 x 0.5 = 78: under B's 80, C.
  EXPECT_EQ(v->score, Decimal::FromUnits(78));
  EXPECT_EQ(v->grade, Grade::kC);
  ASSERT_FALSE(v->history.empty());
  EXPECT_EQ(v->history.back().to, Grade::kC);
  EXPECT_NE(v->history.back().cause.find("rejected_mismatch 20 (-20.00)"), std::string::npos)
      << v->history.back().cause;
}

TEST(Credit, GradesAFromVolumeWithoutFindingsAndDFromFindings) {
  Book b{Config{}};
  const int64_t t = At("20240610100000");
  Declare(b, "E1", 999, t);
  EXPECT_EQ(b.GradeOf("E1", t), Grade::kB);  // 999: one short of A's volume
  Declare(b, "E1", 1, t);
  b.Record("E1", Event::kReturned, t);  // a refresh; returns cost 0.02 per 1000
  EXPECT_EQ(b.GradeOf("E1", t), Grade::kA);
  b.Record("E1", Event::kFinding, t, "4900I1", "undeclared goods");
  EXPECT_EQ(b.GradeOf("E1", t), Grade::kC);  // 100 - 20 - 0.02 = 79.98
  b.Record("E1", Event::kFinding, t, "4900I2", "undeclared goods");
  EXPECT_EQ(b.GradeOf("E1", t), Grade::kD);  // two findings: discredited whatever the score
  auto v = b.View("E1", t);
  ASSERT_GE(v->history.size(), 3u);
  EXPECT_EQ(v->history[0].from, Grade::kB);
  EXPECT_EQ(v->history[0].to, Grade::kA);
  EXPECT_NE(v->history.back().cause.find("4900I2"), std::string::npos);
}

TEST(Credit, WindowMovesAndOldEventsStopCounting) {
  Config c;
  c.window_months = 2;
  Book b{c};
  Declare(b, "E1", 200, At("20240110100000"));
  b.Record("E1", Event::kFinding, At("20240110100000"));
  b.Record("E1", Event::kFinding, At("20240110100001"));
  EXPECT_EQ(b.GradeOf("E1", At("20240215000000")), Grade::kD);  // January still in the window
  Declare(b, "E1", 200, At("20240301100000"));
  // March: the window is February and March; January's findings are gone.
  EXPECT_EQ(b.GradeOf("E1", At("20240301100000")), Grade::kB);
  auto v = b.View("E1", At("20240301100000"));
  EXPECT_EQ(v->declarations, 200);
  EXPECT_NE(v->history.back().cause.find("window moved to 2024-03"), std::string::npos)
      << v->history.back().cause;
}

TEST(Credit, InspectionRateFollowsTheGrade) {
  Book b{Config{}};
  const Decimal base = Decimal::FromE5(5000);  // 5 %
  EXPECT_EQ(b.InspectionRate(base, Grade::kA), Decimal::FromE5(1000));
  EXPECT_EQ(b.InspectionRate(base, Grade::kB), base);
  EXPECT_EQ(b.InspectionRate(base, Grade::kC), Decimal::FromE5(10000));
  EXPECT_EQ(b.InspectionRate(base, Grade::kD), Decimal::FromE5(80000));
  EXPECT_EQ(b.InspectionRate(Decimal{}, Grade::kD), Decimal::FromE5(80000));
  Config off;
  off.enabled = false;
  EXPECT_EQ(Book{off}.InspectionRate(base, Grade::kD), base);
}

TEST(Credit, OverrideHoldsUntilClearedAndIsInTheHistory) {
  Book b{Config{}};
  const int64_t t = At("20240610100000");
  b.Override("E1", Grade::kD, "officer-li", "smuggling case 2024-17", t);
  EXPECT_EQ(b.GradeOf("E1", t), Grade::kD);
  Declare(b, "E1", 2000, t);
  EXPECT_EQ(b.GradeOf("E1", t), Grade::kD);  // computed A, pinned D
  EXPECT_EQ(b.View("E1", t)->computed, Grade::kA);
  b.Override("E1", std::nullopt, "officer-wang", "case closed", t + 1);
  EXPECT_EQ(b.GradeOf("E1", t + 1), Grade::kA);
  auto v = b.View("E1", t + 1);
  ASSERT_GE(v->history.size(), 2u);
  EXPECT_EQ(v->history.front().by, "officer-li");
  EXPECT_EQ(v->history.back().by, "officer-wang");
}

TEST(Credit, RowsRestoreTheSameBook) {
  Book a{Config{}};
  const int64_t t = At("20240610100000");
  Declare(a, "E1", 1500, t);
  for (int i = 0; i < 40; ++i) a.Record("E1", Event::kRejectedRisk, t + i);
  a.Override("E2", Grade::kC, "officer", "watch", t);
  a.AddBuyer({"110101199003077777", "张三", t, "[id-renting] 8 IDs behind one address", "kuajing"});
  a.AddBuyer({"110101199003078888", "李四", t, "officer's note", "officer"});
  ASSERT_TRUE(a.RemoveBuyer("110101199003078888"));
  std::vector<Row> rows;
  a.TakeDirty(&rows);
  Book b{Config{}};
  // The store returns rows in any order.
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    if (!it->erase) {
      ASSERT_TRUE(b.Restore(*it).ok());
    }
  }
  for (const char* code : {"E1", "E2"}) {
    auto va = a.View(code, t + 100), vb = b.View(code, t + 100);
    ASSERT_TRUE(va && vb);
    EXPECT_EQ(va->grade, vb->grade);
    EXPECT_EQ(va->score, vb->score);
    EXPECT_EQ(va->counts, vb->counts);
    ASSERT_EQ(va->history.size(), vb->history.size());
    for (size_t i = 0; i < va->history.size(); ++i) {
      EXPECT_EQ(va->history[i].seq, vb->history[i].seq);
      EXPECT_EQ(va->history[i].cause, vb->history[i].cause);
    }
  }
  ASSERT_NE(b.FindBuyer("110101199003077777"), nullptr);
  EXPECT_EQ(b.FindBuyer("110101199003078888"), nullptr);
  EXPECT_EQ(b.Buyers("", 10).size(), 1u);
}

}  // namespace
}  // namespace kuajing::credit
