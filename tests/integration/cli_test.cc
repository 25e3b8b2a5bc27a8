// The command line as a user runs it: the real binary, real files, exit codes and output.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/demo_batch.h"
#include "xsd_validator.h"

namespace kuajing {
namespace {

namespace fs = std::filesystem;

struct CmdResult {
  int code;
  std::string out;
};

CmdResult Exec(const std::string& args) {
  std::string cmd = std::string(KJ_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kj-cli-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& xml) {
    fs::path p = dir_ / "in" / name;
    std::ofstream(p) << xml;
    return p.string();
  }
  fs::path dir_;
};

TEST_F(Cli, UsageAndBadArgumentsExitTwo) {
  EXPECT_EQ(Exec("").code, 2);
  EXPECT_EQ(Exec("help").code, 0);
  CmdResult r = Exec("ingest --data /tmp/x --frobnicate a.xml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown option --frobnicate"), std::string::npos);
  EXPECT_EQ(Exec("ingest --data").code, 2);
  EXPECT_EQ(Exec("quota --data /tmp/x").code, 2);
  EXPECT_EQ(Exec("launch").code, 2);
}

TEST_F(Cli, IngestWritesSchemaValidReceiptsAndQuotaReadsTheYear) {
  app::ClearanceSpec s = app::DemoClearances()[0];
  app::ClearanceMessages m = app::MakeClearance(s);
  std::string files = Write("1.xml", m.inventory) + " " + Write("2.xml", m.order) + " " +
                      Write("3.xml", m.payment) + " " + Write("4.xml", m.waybill) + " " +
                      Write("5.xml", "<not xml");
  const std::string data = (dir_ / "data").string();
  CmdResult r = Exec("ingest --data " + data + " --now 20240611100000 " + files);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("CEB622 800 released"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CEB900 -1 error"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find(
          "released 1, rejected 0, held 0, waiting 0, format errors 1; tax assessed 230.59 CNY"),
      std::string::npos)
      << r.out;
  int receipts = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "data" / "receipts")) {
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(testing::ValidateAgainstCebXsd(ss.str()), "") << e.path();
    ++receipts;
  }
  // 622 x4 (2, 120, 399, 800), 816, 312, 412, 512, 900
  EXPECT_EQ(receipts, 9);
  r = Exec("quota --data " + data + " --id " + s.buyer_id + " --year 2024");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("used 1000.00 CNY, remaining 25000.00 CNY of 26000.00"), std::string::npos)
      << r.out;
  // Ingesting the same files again changes nothing.
  r = Exec("ingest --data " + data + " --now 20240611100000 " + files);
  EXPECT_NE(r.out.find("already processed"), std::string::npos) << r.out;
  r = Exec("quota --data " + data + " --id " + s.buyer_id + " --year 2024");
  EXPECT_NE(r.out.find("used 1000.00 CNY"), std::string::npos) << r.out;
}

TEST_F(Cli, AnOfficerReleasesAHeldList) {
  app::ClearanceSpec s = app::DemoClearances()[3];  // the 6,000 CNY handbag: held for review
  app::ClearanceMessages m = app::MakeClearance(s);
  const std::string data = (dir_ / "data").string();
  CmdResult r = Exec("ingest --data " + data + " --now 20240611100000 " + Write("o.xml", m.order) +
                     " " + Write("p.xml", m.payment) + " " + Write("w.xml", m.waybill) + " " +
                     Write("i.xml", m.inventory));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("CEB622 300 manual review"), std::string::npos) << r.out;
  r = Exec("decide --data " + data + " --invt 49002024I000000001 --release --officer 王科长");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("CEB622 800 released"), std::string::npos) << r.out;
  r = Exec("decide --data " + data + " --invt 49002024I000000001 --release");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("not held"), std::string::npos) << r.out;
}

// The credit command: records after a demo, an officer's pin (kept, in the history, replayed).
TEST_F(Cli, CreditRecordsAndAPin) {
  const std::string data = (dir_ / "credit").string();
  ASSERT_EQ(Exec("demo --data " + data).code, 0);
  CmdResult r = Exec("credit --data " + data + " --now 20240611120000");
  ASSERT_EQ(r.code, 0) << r.out;
  // The demo's refusals (a mismatch, limits, the positive list) are charged to the agent.
  EXPECT_NE(r.out.find("4304963001  B  score"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rejected_limit"), std::string::npos) << r.out;
  r = Exec("credit --data " + data + " --now 20240611120000 --pin 4304963001 --grade X --reason x");
  EXPECT_EQ(r.code, 2) << r.out;
  r = Exec("credit --data " + data + " --now 20240611120000 --pin 4304963001 --grade D --reason " +
           "\"case 2024-17\" --officer 王科长");
  ASSERT_EQ(r.code, 0) << r.out;
  r = Exec("credit --data " + data + " --now 20240611130000 --enterprise 4304963001");
  EXPECT_NE(r.out.find("grade D"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pinned D by 王科长"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("B -> D by 王科长: set by an officer: case 2024-17"), std::string::npos)
      << r.out;
  r = Exec("replay --data " + data);
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST_F(Cli, DemoClearsTheShippedBatch) {
  CmdResult r = Exec("demo --data " + (dir_ / "demo").string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(
      r.out.find(
          "released 5, rejected 4, held 1, waiting 0, format errors 0; tax assessed 758.42 CNY"),
      std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace kuajing

namespace kuajing {
namespace {

// The export commands end to end on the real binary: generated files, ingest, deadlines (exit 1
// while a month is late), the monthly summary, the ledger CSV.
TEST_F(Cli, ExportMonthFromFilesToSummaryAndLedger) {
  const std::string in = (dir_ / "export").string(), data = (dir_ / "xdata").string();
  CmdResult g = Exec("generate --export --out " + in + " --lists 40 --month 2024-06");
  ASSERT_EQ(g.code, 0) << g.out;
  EXPECT_NE(g.out.find("wrote 40 export lists in 240 files"), std::string::npos) << g.out;
  CmdResult r = Exec("ingest --data " + data + " --receipts none --quiet --now 20240628100000 " +
                     in + "/*.xml");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("export lists: released 0, closed 40"), std::string::npos) << r.out;
  CmdResult late = Exec("dues --data " + data + " --now 20240716000000");
  EXPECT_EQ(late.code, 1) << late.out;
  EXPECT_NE(late.out.find("LATE"), std::string::npos) << late.out;
  CmdResult on_time = Exec("dues --data " + data + " --now 20240715235959");
  EXPECT_EQ(on_time.code, 0) << on_time.out;  // the 15th is still in time
  CmdResult s = Exec("summarize --data " + data + " --month 2024-06 --now 20240716000000");
  ASSERT_EQ(s.code, 0) << s.out;
  EXPECT_NE(s.out.find("1 summary application(s)"), std::string::npos) << s.out;
  EXPECT_EQ(Exec("dues --data " + data + " --now 20240716000000").code, 0);
  EXPECT_EQ(Exec("summarize --data " + data + " --month June").code, 2);
  CmdResult l = Exec("ledger --data " + data + " --ebc 4304962002 --month 2024-06");
  ASSERT_EQ(l.code, 0);
  EXPECT_EQ(l.out.rfind("date,invtNo,", 0), 0u) << l.out;
  EXPECT_GT(std::count(l.out.begin(), l.out.end(), '\n'), 40);
  CmdResult none = Exec("ledger --data " + data + " --ebc 4304962002 --month 2024-05");
  EXPECT_EQ(std::count(none.out.begin(), none.out.end(), '\n'), 1) << none.out;
}

}  // namespace
}  // namespace kuajing
