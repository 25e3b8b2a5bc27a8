// An end-to-end month of exports (issue 4): a few thousand generated export lists go through
// order, receipt of payment, waybill, list, arrival and departure in mixed order; some are
// cancelled before departure; the platform's monthly run then makes the summary declarations
// (returns and their ledger rows are golden case 34). Checked:
//  * conservation: every line of every closed list with statisticsFlag B appears in exactly one
//    CEB792 line and in exactly one summary line, and nothing else does; each summary line's
//    quantities and amount are the exact sums of its list lines; per consignor and currency the
//    declarations add up to the lists to the fen, and the weights add up too;
//  * deadlines: after the 15th of July the month is late until the run, and not after;
//  * the export ledger holds exactly the released, not cancelled lines;
//  * everything survives a restart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "app/export_batch.h"
#include "app/platform.h"
#include "codec/codec.h"
#include "common/civil_time.h"
#include "common/hash.h"
#include "xsd_validator.h"

namespace kuajing {
namespace {

namespace fs = std::filesystem;
using model::exp::SummaryResult;

constexpr uint64_t kLists = 2400;

class ExportMonth : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kuajing-export-month-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    options_.data_dir = dir_.string();
    options_.reference_dir = KJ_SOURCE_DIR "/data/reference";
    Open();
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Open() {
    platform_.reset();
    auto p = app::Platform::Open(options_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    platform_ = std::move(*p);
  }

  // Submits messages in groups sharing one commit, as the server does; returns every receipt.
  std::vector<storage::StoredReceipt> SubmitAll(const std::vector<std::string>& xml, int64_t now) {
    std::vector<storage::StoredReceipt> out;
    std::vector<app::Platform::Prepared> group;
    auto flush = [&] {
      auto answers = platform_->CommitPrepared(group);
      EXPECT_TRUE(answers.ok());
      if (answers.ok())
        for (auto& a : *answers)
          for (auto& r : a.receipts) out.push_back(std::move(r));
      group.clear();
    };
    for (const std::string& m : xml) {
      auto p = platform_->Prepare(m, "", now);
      EXPECT_TRUE(p.ok());
      if (!p.ok()) continue;
      if (p->commit_first) {
        flush();
        p = platform_->Prepare(m, "", now);
      }
      if (!p->ready) group.push_back(std::move(*p));
      if (group.size() == 100) flush();
    }
    if (!group.empty()) flush();
    return out;
  }

  fs::path dir_;
  app::PlatformOptions options_;
  std::unique_ptr<app::Platform> platform_;
};

int64_t At(const char* t) { return *ParseAppTime(t); }

TEST_F(ExportMonth, SummariesConserveEveryClosedLine) {
  const std::vector<app::ExportSpec> specs = app::GeneratedExports(1, kLists, 2024, 6);
  // Day one: every document but the departure, in an order that varies per list.
  std::vector<std::string> day1;
  std::set<std::string> cancelled_orders;
  for (const auto& s : specs) {
    app::ExportMessages m = app::MakeExport(s);
    switch (Hash64(s.order_no) % 3) {
      case 0:
        for (auto* x : {&m.order, &m.receipts, &m.waybill, &m.inventory, &m.arrival})
          day1.push_back(*x);
        break;
      case 1:
        for (auto* x : {&m.arrival, &m.inventory, &m.waybill, &m.order, &m.receipts})
          day1.push_back(*x);
        break;
      default:
        for (auto* x : {&m.inventory, &m.order, &m.arrival, &m.receipts, &m.waybill})
          day1.push_back(*x);
    }
  }
  auto receipts = SubmitAll(day1, At("20240601000000"));
  std::map<std::string, std::string> invt_of_order;  // from the CEB604 800 receipts
  int released = 0;
  for (const auto& r : receipts) {
    ASSERT_FALSE(r.status.starts_with("-")) << r.type << " " << r.status << "\n" << r.xml;
    if (r.type == "CEB604" && r.status == "800") ++released;
  }
  ASSERT_EQ(released, static_cast<int>(kLists));

  // Every 50th list is cancelled before it leaves; the rest depart.
  std::vector<std::string> cancels, departures;
  for (uint64_t i = 0; i < specs.size(); ++i) {
    const auto& s = specs[i];
    const std::string invt =
        platform_->export_engine().GuidOf("x_inventory", s.ebc_code, s.order_no);
    ASSERT_FALSE(invt.empty());
    if (i % 50 == 7) {
      cancelled_orders.insert(s.order_no);
      continue;
    }
    departures.push_back(app::MakeExport(s).departure);
  }
  // The cancellations name the invtNo, which only the receipts told: read them from the feed.
  for (const auto& r : receipts) {
    if (r.type != "CEB604" || r.status != "800") continue;
    auto d = codec::Decode(r.xml);
    const auto& ret = std::get<model::exp::InventoryReturn>(
        std::get<codec::DecodedMessage>(d).message.records.at(0));
    invt_of_order[ret.orderNo] = ret.invtNo;
  }
  int n = 0;
  for (const std::string& order_no : cancelled_orders) {
    model::exp::InvtCancel c;
    c.guid = DeterministicGuid("cancel/" + order_no);
    c.appType = "1";
    c.appTime = "20240630100000";
    c.appStatus = "2";
    c.customsCode = "4900";
    c.copNo = "X" + std::to_string(++n);
    c.invtNo = invt_of_order.at(order_no);
    c.reason = "buyer cancelled";
    c.agentCode = "4304963001";
    c.agentName = "衡阳综保区报关服务有限公司";
    c.ebcCode = "4304962002";
    c.ebcName = "衡阳雁城母婴用品进出口有限公司";
    model::Message m;
    m.type = model::MessageType::kCEB605;
    m.guid = DeterministicGuid("cancel-msg/" + order_no);
    m.records.push_back(c);
    m.base_transfer = model::BaseTransfer{"4304963001", "agent", "DXP", "DXPENT0000000001", ""};
    cancels.push_back(codec::Encode(m));
  }
  for (const auto& r : SubmitAll(cancels, At("20240630100000")))
    ASSERT_EQ(r.status, "399") << r.xml;
  for (const auto& r : SubmitAll(departures, At("20240630120000"))) {
    ASSERT_TRUE(r.status == "399" || r.status == "899") << r.xml;
  }

  // July 16: June is late until summarised (domain-reference 5.2: by the 15th).
  const int64_t july16 = At("20240716100000");
  auto dues = platform_->export_engine().Dues(july16, 100);
  ASSERT_FALSE(dues.empty());
  for (const auto& d : dues) EXPECT_TRUE(d.late) << d.agent_code << " " << d.month;

  auto run = platform_->SummarizeMonth({2024, 6, "1", "1"}, july16);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  std::map<std::pair<std::string, int64_t>, int> in_792;  // (invtNo, gnum) -> times
  int results = 0;
  for (const auto& a : *run) {
    for (const auto& r : a.receipts) {
      ASSERT_EQ(testing::ValidateAgainstCebXsd(r.xml), "");
      if (r.type != "CEB792") continue;
      ++results;
      auto d = codec::Decode(r.xml);
      const auto& res =
          std::get<SummaryResult>(std::get<codec::DecodedMessage>(d).message.records.at(0));
      for (const auto& l : res.lists) ++in_792[{l.invtNo, l.gnum}];
    }
  }
  EXPECT_GT(results, 1);

  // The lines that must be summarised: closed (not cancelled) lists with statisticsFlag B.
  std::map<std::pair<std::string, int64_t>, const app::ExportItem*> must;
  std::map<std::string, Decimal> list_amount_by_currency;
  Decimal list_gross;
  for (const auto& s : specs) {
    if (cancelled_orders.count(s.order_no) || s.statistics_flag != "B") continue;
    const std::string& invt = invt_of_order.at(s.order_no);
    for (size_t i = 0; i < s.items.size(); ++i) {
      must[{invt, static_cast<int64_t>(i + 1)}] = &s.items[i];
      list_amount_by_currency[s.currency] += s.items[i].price.Times(s.items[i].qty);
      list_gross += s.items[i].qty1;
    }
  }
  ASSERT_GT(must.size(), kLists);
  EXPECT_EQ(in_792.size(), must.size());
  for (const auto& [k, times] : in_792) {
    EXPECT_EQ(times, 1) << k.first << " gnum " << k.second;
    EXPECT_TRUE(must.count(k)) << k.first << " gnum " << k.second << " should not be summarised";
  }

  // The declarations: each line the exact sum of its sources; totals equal the lists'.
  auto check_declarations = [&] {
    std::map<std::string, Decimal> decl_amount_by_currency;
    Decimal decl_gross;
    std::map<std::pair<std::string, int64_t>, int> in_lines;
    for (const auto& s : platform_->export_engine().Summaries("", 1000)) {
      for (const auto& d : s.declarations) {
        EXPECT_LE(d.lines.size(), 50u);
        decl_gross += d.gross_weight;
        for (const auto& line : d.lines) {
          Decimal amount, qty;
          for (const auto& src : line.sources) {
            ++in_lines[{src.invt_no, src.gnum}];
            const app::ExportItem* it = must.at({src.invt_no, src.gnum});
            EXPECT_EQ(it->gcode, line.gcode);
            amount += it->price.Times(it->qty);
            qty += it->qty;
          }
          EXPECT_EQ(amount, line.amount) << line.gcode;
          EXPECT_EQ(qty, line.qty) << line.gcode;
          decl_amount_by_currency[line.currency] += line.amount;
        }
      }
    }
    EXPECT_EQ(in_lines, in_792);
    EXPECT_EQ(decl_amount_by_currency, list_amount_by_currency);
    EXPECT_EQ(decl_gross, list_gross);
  };
  check_declarations();
  for (const auto& d : platform_->export_engine().Dues(july16, 100)) {
    EXPECT_FALSE(d.late);
    EXPECT_EQ(d.summarised, d.closed);
  }
  // A second run has nothing left to do.
  auto again = platform_->SummarizeMonth({2024, 6, "1", "1"}, july16 + 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());

  // The ledger: the released lines of the consignor, cancelled ones excluded.
  Decimal ledger_total;
  size_t rows = 0;
  for (const auto& r : platform_->export_engine().Ledger("4304962002", 0, INT64_MAX)) {
    ledger_total += r.amount;
    ++rows;
  }
  Decimal expected_total;
  size_t expected_rows = 0;
  for (const auto& s : specs) {
    if (cancelled_orders.count(s.order_no)) continue;
    for (const auto& it : s.items) {
      expected_total += it.price.Times(it.qty);
      ++expected_rows;
    }
  }
  EXPECT_EQ(rows, expected_rows);
  EXPECT_EQ(ledger_total, expected_total);
  // The statistics (docs/METRICS.md): the released, not cancelled lists, valued as the ledger
  // values them, per currency; and the same again when recounted from the store at a restart.
  std::map<std::string, Decimal> stats_value;
  int64_t stats_lists = 0;
  for (const auto& [k, cell] : platform_->stats().cells()) {
    if (std::get<1>(k) != 1) continue;
    stats_value[std::get<4>(k)] += cell.value;
    stats_lists += cell.lists;
  }
  Decimal stats_total;
  for (const auto& [currency, v] : stats_value) stats_total += v;
  EXPECT_EQ(stats_total, expected_total);
  EXPECT_EQ(stats_lists, static_cast<int64_t>(specs.size() - cancelled_orders.size()));
  const stats::Aggregates live = platform_->stats();

  // Everything survives a restart.
  Open();
  EXPECT_TRUE(live == platform_->stats()) << "the live statistics differ from a recount";
  check_declarations();
  EXPECT_EQ(platform_->export_engine().Summaries("", 1000).size(), run->size());
}

}  // namespace
}  // namespace kuajing
