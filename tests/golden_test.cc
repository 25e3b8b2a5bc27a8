// Golden cases: readable files of messages in and receipts out (tests/golden/cases/*.case).
//
// Each case drives a real Platform (engine + SQLite store in a temporary folder) with messages
// rendered from the templates in tests/golden/templates, checks the receipts it answers with,
// validates every receipt against the official XSD, and can restart the platform from disk in the
// middle (DuckDB's `restart`). The directives are documented in tests/golden/README.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "app/config.h"
#include "app/platform.h"
#include "common/civil_time.h"
#include "common/hash.h"
#include "test_util.h"
#include "xsd_validator.h"

namespace kuajing {
namespace {

namespace fs = std::filesystem;
const fs::path kGolden = fs::path(KJ_SOURCE_DIR) / "tests/golden";

using testing::ReadFile;

// Splits a directive line into words; "double quotes" keep spaces.
std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur.push_back(c);
      any = true;
    }
  }
  if (any) out.push_back(cur);
  return out;
}

using Vars = std::map<std::string, std::string>;

std::pair<std::string, std::string> KeyValue(const std::string& w) {
  size_t eq = w.find('=');
  return eq == std::string::npos ? std::pair{w, std::string()}
                                 : std::pair{w.substr(0, eq), w.substr(eq + 1)};
}

// Value of a field in a receipt XML (first occurrence).
std::string Field(const std::string& xml, const std::string& name) {
  std::string open = "<ceb:" + name + ">";
  size_t b = xml.find(open);
  if (b == std::string::npos) return "<absent>";
  b += open.size();
  return xml.substr(b, xml.find("</ceb:" + name + ">", b) - b);
}

class CaseRunner {
 public:
  explicit CaseRunner(const fs::path& file) : file_(file), name_(file.stem().string()) {
    for (std::istringstream in(ReadFile(kGolden / "templates/defaults.vars"));
         std::getline(in, line_);) {
      if (line_.empty() || line_[0] == '#') continue;
      auto [k, v] = KeyValue(line_);
      if (k.rfind("line.", 0) == 0)
        line_defaults_[k.substr(5)] = v;
      else
        vars_[k] = v;
    }
    data_ =
        fs::temp_directory_path() / ("kuajing-golden-" + name_ + "-" + std::to_string(::getpid()));
    fs::remove_all(data_);
    options_.data_dir = data_.string();
    options_.reference_dir = (kGolden / "reference").string();
    now_ = *ParseAppTime("20240611100000");
  }
  ~CaseRunner() { fs::remove_all(data_); }

  void Run() {
    std::istringstream in(ReadFile(file_));
    for (line_no_ = 1; std::getline(in, line_); ++line_no_) {
      if (line_.empty() || line_[0] == '#') continue;
      SCOPED_TRACE(file_.filename().string() + ":" + std::to_string(line_no_) + ": " + line_);
      Directive(Words(line_));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

 private:
  app::Platform& P() {
    if (!platform_) {
      auto p = app::Platform::Open(options_);
      if (!p.ok()) ADD_FAILURE() << p.status().ToString();
      platform_ = std::move(*p);
    }
    return *platform_;
  }

  std::string Expand(std::string text, const Vars& v) {
    static const std::regex kVar(R"(\$\{([A-Za-z0-9_.]+)\})");
    for (int pass = 0; pass < 6 && text.find("${") != std::string::npos; ++pass) {
      std::string out;
      std::sregex_iterator it(text.begin(), text.end(), kVar), end;
      size_t last = 0;
      for (; it != end; ++it) {
        out += text.substr(last, static_cast<size_t>(it->position()) - last);
        std::string name = (*it)[1];
        auto f = v.find(name);
        if (f == v.end())
          ADD_FAILURE() << "unknown variable ${" << name << "}";
        else
          out += f->second;
        last = static_cast<size_t>(it->position() + it->length());
      }
      text = out + text.substr(last);
    }
    return text;
  }

  static Decimal Dec(const std::string& s) {
    auto d = Decimal::Parse(s);
    EXPECT_TRUE(d.has_value()) << "not a number: " << s;
    return d.value_or(Decimal{});
  }

  std::string Render(const std::string& tmpl, const Vars& overrides) {
    Vars v = vars_;
    for (const auto& [k, val] : overrides) v[k] = val;
    ++sends_;
    if (!v.count("guid"))
      v["guid"] = DeterministicGuid(name_ + "#" + std::to_string(sends_) + tmpl);
    if (!v.count("messageGuid"))
      v["messageGuid"] = DeterministicGuid(name_ + "#msg" + std::to_string(sends_) + tmpl);
    // Lines, and the amounts derived from them unless a case sets them.
    std::vector<Vars> lines;
    Decimal goods;
    for (size_t i = 0; i < lines_.size(); ++i) {
      Vars l = v;
      for (const auto& [k, val] : line_defaults_) l[k] = val;
      l["gnum"] = std::to_string(i + 1);
      for (const auto& [k, val] : lines_[i]) l[k] = val;
      if (!lines_[i].count("gname")) l["gname"] = l["itemName"];
      if (!lines_[i].count("totalPrice")) {
        Decimal p = Dec(Expand(l["price"], l)), q = Dec(Expand(l["qty"], l));
        l["totalPrice"] = p.Times(q).ToString();
      }
      goods += Dec(Expand(l["totalPrice"], l));
      lines.push_back(std::move(l));
    }
    if (!v.count("goodsValue")) v["goodsValue"] = goods.ToString();
    if (!v.count("acturalPaid")) {
      v["acturalPaid"] = (Dec(v["goodsValue"]) + Dec(Expand(v["freight"], v)) +
                          Dec(Expand(v["taxTotal"], v)) - Dec(Expand(v["discount"], v)))
                             .ToString();
    }
    if (!v.count("amountPaid")) v["amountPaid"] = v["acturalPaid"];
    std::string text = ReadFile(kGolden / "templates" / (tmpl + ".xml"));
    if (text.empty()) ADD_FAILURE() << "no template " << tmpl;
    static const std::regex kLines(R"(\$\{lines:([a-z_]+)\}\n?)");
    std::smatch m;
    while (std::regex_search(text, m, kLines)) {
      std::string line_tmpl = ReadFile(kGolden / "templates" / (m[1].str() + ".xml"));
      std::string rendered;
      for (const Vars& l : lines) rendered += Expand(line_tmpl, l);
      text = m.prefix().str() + rendered + m.suffix().str();
    }
    return Expand(text, v);
  }

  void Submit(const std::string& xml, bool append = false) {
    auto a = P().Submit(xml, "", now_);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    if (!append) last_ = {};
    last_raw_ = xml;
    last_.repeated = a->repeated;
    for (auto& r : a->receipts) {
      std::string err = testing::ValidateAgainstCebXsd(r.xml);
      EXPECT_EQ(err, "") << "receipt " << r.type << " " << r.status << " is not schema-valid:\n"
                         << r.xml;
      if (r.type == "CEB622" || r.type == "CEB604") {
        std::string invt = Field(r.xml, "invtNo");
        if (invt != "<absent>") vars_["invtNo"] = invt;
      }
      last_.receipts.push_back(std::move(r));
    }
  }

  Vars Overrides(const std::vector<std::string>& w, size_t from) {
    Vars o;
    for (size_t i = from; i < w.size(); ++i) o.insert(KeyValue(w[i]));
    return o;
  }

  // Does the receipt match "field=value" words (contains=TEXT looks into returnInfo)?
  bool Matches(const storage::StoredReceipt& r, const std::vector<std::string>& w, size_t from) {
    for (size_t i = from; i < w.size(); ++i) {
      auto [k, v] = KeyValue(w[i]);
      if (k == "contains") {
        if (Field(r.xml, "returnInfo").find(Expand(v, vars_)) == std::string::npos) return false;
      } else if (Field(r.xml, k) != Expand(v, vars_)) {
        return false;
      }
    }
    return true;
  }

  std::string Describe() {
    std::string s;
    for (const auto& r : last_.receipts) {
      s += "  " + r.type + " " + r.status + " " + Field(r.xml, "returnInfo") + "\n";
    }
    return s.empty() ? "  (no receipts)\n" : s;
  }

  void Directive(const std::vector<std::string>& w) {
    const std::string& d = w[0];
    if (d == "now") {
      auto t = ParseAppTime(w.at(1));
      ASSERT_TRUE(t.has_value());
      now_ = *t;
    } else if (d == "advance") {
      const std::string& a = w.at(1);
      int64_t n = std::stoll(a.substr(0, a.size() - 1));
      int64_t unit = a.back() == 'd'   ? kMillisPerDay
                     : a.back() == 'h' ? 3600000
                     : a.back() == 'm' ? 60000
                                       : 1000;
      now_ += n * unit;
    } else if (d == "reference") {
      options_.reference_dir = (kGolden / w.at(1)).string();
      platform_.reset();
    } else if (d == "risk") {
      // risk FILE: the risk rules (relative to tests/golden), as a zone's config would load them.
      options_.risk_rules_path = (kGolden / w.at(1)).string();
      auto rules = risk::LoadRules(options_.risk_rules_path);
      ASSERT_TRUE(rules.ok()) << rules.status().ToString();
      options_.rules.risk_rules = std::make_shared<const risk::Rules>(std::move(*rules));
      platform_.reset();
    } else if (d == "rule") {
      auto [k, v] = KeyValue(w.at(1));
      if (k == "risk_reasons_in_receipts")
        options_.rules.risk_reasons_in_receipts = v == "true";
      else if (k == "inspection_rate")
        options_.rules.random_inspection_rate = Dec(v);
      else if (k == "review_single_item_over_limit")
        options_.rules.review_single_item_over_limit = v == "true";
      else if (k == "seed")
        options_.rules.random_seed = std::stoull(v);
      else if (k == "arrival_required_modes")
        options_.rules.exports.arrival_required_modes = v == "none" ? "" : v;
      else
        FAIL() << "unknown rule " << k;
      platform_.reset();
    } else if (d == "credit") {
      // credit KEY=VALUE: a [credit] setting, as in the config file.
      ASSERT_TRUE(app::ApplySetting("credit." + w.at(1), &options_, nullptr).ok()) << w.at(1);
      platform_.reset();
    } else if (d == "grade") {
      // grade CODE X: the credit grade in force now (B for an enterprise with no record).
      auto v = P().credit().View(w.at(1), now_);
      EXPECT_EQ(v ? credit::GradeName(v->grade) : "B", w.at(2))
          << "grade of " << w.at(1) << (v ? ": " + v->Explain() : std::string());
    } else if (d == "history") {
      // history CODE N contains="...": the number of grade changes, and the last one's cause.
      auto v = P().credit().View(w.at(1), now_);
      ASSERT_TRUE(v.has_value()) << "no credit record of " << w.at(1);
      EXPECT_EQ(v->history.size(), std::stoull(w.at(2)));
      Vars o = Overrides(w, 3);
      if (o.count("contains") && !v->history.empty()) {
        EXPECT_NE(v->history.back().cause.find(o["contains"]), std::string::npos)
            << v->history.back().cause;
      }
    } else if (d == "stats") {
      // stats import|export [currency=142] lists=N value=X [tax=T]: the statistics' totals over
      // all days (docs/METRICS.md), checked against figures computed by hand.
      Vars o = Overrides(w, 2);
      const uint8_t dir = w.at(1) == "export" ? 1 : 0;
      const std::string currency = o.count("currency") ? o["currency"] : "142";
      int64_t lists = 0;
      Decimal value, tax;
      for (const auto& [k, cell] : P().stats().cells()) {
        if (std::get<1>(k) != dir || std::get<4>(k) != currency) continue;
        lists += cell.lists;
        value += cell.value;
        tax += cell.tax;
      }
      if (o.count("lists")) {
        EXPECT_EQ(lists, std::stoll(o["lists"])) << "cleared lists";
      }
      if (o.count("value")) {
        EXPECT_EQ(value.ToString(), Dec(o["value"]).ToString()) << "value";
      }
      if (o.count("tax")) {
        EXPECT_EQ(tax.ToString(), Dec(o["tax"]).ToString()) << "tax";
      }
    } else if (d == "stats-recount") {
      // The aggregates kept up to date message by message equal a recount from the stored lists
      // (a restart rebuilds them from the store).
      const stats::Aggregates live = P().stats();
      platform_.reset();
      EXPECT_TRUE(live == P().stats()) << "the live statistics differ from a recount";
    } else if (d == "credit-count") {
      // credit-count CODE EVENT N: events of a kind in the enterprise's window.
      auto v = P().credit().View(w.at(1), now_);
      auto e = credit::EventFromName(w.at(2));
      ASSERT_TRUE(e.has_value()) << "unknown credit event " << w.at(2);
      EXPECT_EQ(v ? v->counts[static_cast<size_t>(*e)] : 0, std::stoll(w.at(3)))
          << w.at(2) << " of " << w.at(1);
    } else if (d == "credit-correct") {
      // credit-correct grade CODE A|- REASON | buyer-add ID NAME REASON | buyer-remove ID REASON
      app::Platform::CreditCorrection c;
      c.officer = "golden";
      c.subject = w.at(2);
      if (w.at(1) == "grade") {
        c.kind = app::Platform::CreditCorrection::Kind::kGrade;
        if (w.at(3) != "-") c.grade = credit::GradeFromName(w.at(3));
        c.reason = w.at(4);
      } else if (w.at(1) == "buyer-add") {
        c.kind = app::Platform::CreditCorrection::Kind::kAddBuyer;
        c.buyer_name = w.at(3);
        c.reason = w.at(4);
      } else {
        c.kind = app::Platform::CreditCorrection::Kind::kRemoveBuyer;
        c.reason = w.at(3);
      }
      Status st = P().CorrectCredit(c, now_);
      EXPECT_TRUE(st.ok()) << st.ToString();
    } else if (d == "buyer-listed") {
      // buyer-listed ID yes|no
      EXPECT_EQ(P().credit().FindBuyer(w.at(1)) != nullptr, w.at(2) == "yes") << w.at(1);
    } else if (d == "set") {
      for (const auto& [k, v] : Overrides(w, 1)) vars_[k] = v;
    } else if (d == "capture") {
      // capture k=${v}: the value now (set keeps ${...} and expands it at each send).
      for (const auto& [k, v] : Overrides(w, 1)) vars_[k] = Expand(v, vars_);
    } else if (d == "line") {
      lines_.push_back(Overrides(w, 1));
    } else if (d == "lines-clear") {
      lines_.clear();
    } else if (d == "send") {
      Submit(Render(w.at(1), Overrides(w, 2)));
    } else if (d == "clear") {
      Vars o = Overrides(w, 1);
      last_ = {};
      for (const char* t : {"order", "payment", "waybill", "inventory"}) Submit(Render(t, o), true);
    } else if (d == "export-clear") {
      // The four documents of an export list: order, receipt of payment, waybill, list.
      Vars o = Overrides(w, 1);
      last_ = {};
      for (const char* t : {"x_order", "x_receipts", "x_waybill", "x_inventory"})
        Submit(Render(t, o), true);
    } else if (d == "summarize") {
      // summarize YYYYMM [summaryFlag=1|2]: the platform's monthly summary run.
      app::Platform::SummaryRun run;
      run.year = std::stoi(w.at(1).substr(0, 4));
      run.month = std::stoi(w.at(1).substr(4, 2));
      Vars o = Overrides(w, 2);
      if (o.count("summaryFlag")) run.summary_flag = o["summaryFlag"];
      auto answers = P().SummarizeMonth(run, now_);
      ASSERT_TRUE(answers.ok()) << answers.status().ToString();
      last_ = {};
      for (auto& a : *answers) {
        for (auto& r : a.receipts) {
          EXPECT_EQ(testing::ValidateAgainstCebXsd(r.xml), "") << r.xml;
          last_.receipts.push_back(std::move(r));
        }
      }
    } else if (d == "ledger") {
      // ledger rows=N amount=X [ebc=CODE]: the export ledger of a consignor, all time.
      Vars o = Overrides(w, 1);
      std::string ebc = o.count("ebc") ? o["ebc"] : Expand(vars_["ebcCode"], vars_);
      auto rows = P().export_engine().Ledger(ebc, 0, INT64_MAX);
      Decimal sum;
      for (const auto& r : rows) sum += r.amount;
      if (o.count("rows")) {
        EXPECT_EQ(rows.size(), std::stoull(o["rows"])) << "ledger rows";
      }
      if (o.count("amount")) {
        EXPECT_EQ(sum.ToString(), Dec(o["amount"]).ToString()) << "ledger amount";
      }
    } else if (d == "send-file") {
      std::string xml = ReadFile(file_.parent_path() / w.at(1));
      ASSERT_FALSE(xml.empty()) << "cannot read " << w.at(1);
      Submit(xml);
    } else if (d == "send-bytes") {
      // send-bytes N BYTE: N copies of one byte, for size limits and garbage.
      Submit(std::string(std::stoull(w.at(1)), static_cast<char>(std::stoi(w.at(2)))));
    } else if (d == "resend") {
      std::string raw = last_raw_;
      Submit(raw);
    } else if (d == "expect") {
      bool found = false;
      for (const auto& r : last_.receipts) {
        found = found || (r.type == w.at(1) && r.status == w.at(2) && Matches(r, w, 3));
      }
      EXPECT_TRUE(found) << "no " << w.at(1) << " " << w.at(2) << " among the receipts:\n"
                         << Describe();
    } else if (d == "expect-none") {
      for (const auto& r : last_.receipts) {
        EXPECT_FALSE(r.type == w.at(1) && (w.size() < 3 || r.status == w[2]))
            << "unexpected " << r.type << " " << r.status << ":\n"
            << Describe();
      }
    } else if (d == "expect-count") {
      EXPECT_EQ(last_.receipts.size(), std::stoull(w.at(1))) << Describe();
    } else if (d == "repeated") {
      EXPECT_EQ(last_.repeated, w.at(1) == "yes");
    } else if (d == "tax") {
      const storage::StoredReceipt* bill = nullptr;
      for (const auto& r : last_.receipts)
        if (r.type == "CEB816") bill = &r;
      ASSERT_NE(bill, nullptr) << "no CEB816 among the receipts:\n" << Describe();
      for (size_t i = 1; i < w.size(); ++i) {
        auto [k, v] = KeyValue(w[i]);
        EXPECT_EQ(Field(bill->xml, k), v) << "tax bill field " << k << "\n" << bill->xml;
      }
    } else if (d == "quota") {
      // quota YEAR used=X [remaining=Y] [id=ID]
      Vars o = Overrides(w, 2);
      std::string id = o.count("id") ? o["id"] : Expand(vars_["buyerIdNumber"], vars_);
      clearance::QuotaView q = P().Quota(id, std::stoi(w.at(1)));
      if (o.count("used")) {
        EXPECT_EQ(q.used.ToString(), Dec(o["used"]).ToString()) << "used";
      }
      if (o.count("remaining")) {
        EXPECT_EQ(q.remaining.ToString(), Dec(o["remaining"]).ToString()) << "remaining";
      }
      auto ledger = P().store().LedgerSum(id, std::stoi(w.at(1)));
      ASSERT_TRUE(ledger.ok());
      EXPECT_EQ(ledger->ToString(), q.used.ToString())
          << "the quota ledger disagrees with the engine";
    } else if (d == "decide") {
      clearance::OfficerDecision dec;
      dec.invt_no = vars_["invtNo"];
      dec.action = w.at(1) == "release"   ? clearance::OfficerDecision::Action::kRelease
                   : w.at(1) == "inspect" ? clearance::OfficerDecision::Action::kInspect
                                          : clearance::OfficerDecision::Action::kReject;
      dec.reason = w.size() > 2 ? w[2] : "";
      dec.officer = "golden";
      auto a = P().Decide(dec, now_);
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      last_ = std::move(*a);
      for (const auto& r : last_.receipts) {
        EXPECT_EQ(testing::ValidateAgainstCebXsd(r.xml), "") << r.xml;
      }
    } else if (d == "restart") {
      // The lists' counts by state, kept as lists change, equal what a restart counts afresh.
      const auto im = P().engine().counts();
      const auto ex = P().export_engine().counts(now_);
      auto dues = [&] {
        std::vector<std::tuple<int, int, std::string, std::string, int, int>> out;
        for (const auto& d : P().export_engine().Dues(now_, SIZE_MAX))
          out.emplace_back(d.year, d.month, d.agent_code, d.ebc_code, d.closed, d.summarised);
        return out;
      };
      const auto due = dues();
      platform_.reset();
      EXPECT_EQ(due, dues()) << "the summary dues differ after a restart";
      const auto im2 = P().engine().counts();
      const auto ex2 = P().export_engine().counts(now_);
      EXPECT_EQ(std::tie(im.waiting, im.held, im.released),
                std::tie(im2.waiting, im2.held, im2.released))
          << "import list counts differ after a restart";
      EXPECT_EQ(std::tie(ex.waiting, ex.concluded, ex.released, ex.closed),
                std::tie(ex2.waiting, ex2.concluded, ex2.released, ex2.closed))
          << "export list counts differ after a restart";
    } else {
      FAIL() << "unknown directive " << d;
    }
  }

  fs::path file_;
  std::string name_;
  std::string line_;
  int line_no_ = 0;
  Vars vars_, line_defaults_;
  std::vector<Vars> lines_;
  fs::path data_;
  app::PlatformOptions options_;
  std::unique_ptr<app::Platform> platform_;
  int64_t now_ = 0;
  int sends_ = 0;
  app::Answer last_;
  std::string last_raw_;
};

std::vector<std::string> Cases() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kGolden / "cases")) {
    if (e.path().extension() == ".case") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, Case) { CaseRunner(kGolden / "cases" / (GetParam() + ".case")).Run(); }

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(Cases()), [](const auto& info) {
  std::string n = info.param;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

}  // namespace
}  // namespace kuajing
