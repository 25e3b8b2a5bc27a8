#include "app/commands.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "app/config.h"
#include "app/demo_batch.h"
#include "app/export_batch.h"
#include "app/export_reports.h"
#include "app/platform.h"
#include "app/replay.h"
#include "clearance/receipts.h"
#include "codec/codec.h"
#include "common/civil_time.h"
#include "storage/sqlite_store.h"

namespace kuajing::app {

namespace fs = std::filesystem;

const char* const kUsage =
    R"(kuajing: the customs-side clearance engine of a cross-border e-commerce pilot zone

usage:
  kuajing serve  --data DIR [--listen HOST:PORT] [--threads N] [--demo-keys] [--web DIR]
                 [options]                       the platform's HTTP API (default 127.0.0.1:8080)
                                                 and the web single window at / (built assets
                                                 from --web, default ./web/dist if present);
                                                 makes an admin key on first start; --demo-keys
                                                 also makes one per registered enterprise
  kuajing simulate (--data DIR | --url http://HOST:PORT --keys FILE | --out DIR)
                 [--preset day|hengyang-year|double11] [--scale S] [--days N] [--seed N] [--rate R]
                                                 a zone's realistic traffic (docs/SIMULATE.md)
  kuajing loadgen --url http://HOST:PORT --keys FILE [--clearances N] [--batch B] [--connections C]
                 [--rate R] [--minimal]          generated clearances over HTTP; throughput, latency
  kuajing ingest --data DIR [options] FILE...   process CEB message files in the order given;
                                                 receipts go to DIR/receipts (or --receipts OUT)
  kuajing quota  --data DIR --id ID --year YYYY  a buyer's used and remaining annual amount
  kuajing decide --data DIR --invt NO (--release | --reject) [--reason TEXT] [--officer NAME]
                                                 an officer's decision on a held list
  kuajing credit --data DIR [--enterprise CODE | --buyers]
                                                 the credit grades and scores (docs/CREDIT.md);
                                                 one enterprise's events, pin and grade history;
                                                 or the discredited buyers with their evidence
  kuajing credit --data DIR --pin CODE --grade A|B|C|D|none --reason TEXT [--officer NAME]
                                                 an officer pins an enterprise's grade (none
                                                 clears the pin); kept in the history, replayed
  kuajing summarize --data DIR --month YYYY-MM [--summary-flag 1|2]
                                                 the monthly export summary: one summary
                                                 application per agent and consignor with closed,
                                                 unsummarised B lists (CEB702 + CEB792 receipts)
  kuajing dues   --data DIR                      summary deadlines per month, agent and consignor;
                                                 exit code 1 if any month is late
  kuajing ledger --data DIR --ebc CODE --month YYYY-MM [--out FILE]
                                                 a consignor's export ledger as CSV (invoice-free
                                                 VAT exemption record, 财税〔2018〕103号)
  kuajing replay --data DIR [--from T] [--to T] [--what-if FILE]
                                                 decide the period's messages again (times
                                                 yyyyMMddHHmmss): with the rules recorded for each
                                                 they must come out identical (exit 1 if not);
                                                 --what-if FILE shows what other risk rules would
                                                 have changed
  kuajing demo   [--data DIR] [options]          clear the shipped demo batch and report
  kuajing generate --out DIR --clearances N [--batch B] [--first K]
                                                 write N generated clearances as CEB files,
                                                 B documents per message (default 100), for
                                                 benchmarks: inventories, orders, payments,
                                                 waybills in that order
  kuajing generate --export --out DIR --lists N [--month YYYY-MM] [--first K]
                                                 write N generated export lists of a month as
                                                 CEB files, one message per document kind per
                                                 100 lists, in their lifecycle order

options:
  --config FILE          the zone's configuration (TOML; see config/kuajing.toml); options
                         given on the command line win over it
  --set SECTION.KEY=V    any key of the configuration file, on the command line (repeatable)
  --reference DIR        reference data folder (enterprises.csv, goods.csv); default: the
                         shipped data/reference
  --receipts DIR         where ingest writes receipts (default DATA/receipts); "none" keeps
                         them in the store only
  --now yyyyMMddHHmmss   process at this fixed time (CST) instead of the clock
  --risk-rules FILE      the risk rules (TOML, docs/RISK.md; config/risk-rules.toml is an
                         example); default: none, or the config file's risk.rules
  --inspection-rate R    share of lists drawn for random inspection, 0..1 (default 0)
  --seed N               seed of the random inspection draw (default 1)
  --no-random            no random inspection (same as --inspection-rate 0)
  --quiet                ingest: no report per file, only the summary
  --ack                  ingest: print "ack FILE" once FILE's message is durable
)";

Args ParseArgs(const std::vector<std::string>& a, size_t from) {
  static const std::map<std::string, bool> kTakesValue = {{"--data", true},
                                                          {"--reference", true},
                                                          {"--receipts", true},
                                                          {"--now", true},
                                                          {"--inspection-rate", true},
                                                          {"--seed", true},
                                                          {"--id", true},
                                                          {"--year", true},
                                                          {"--invt", true},
                                                          {"--reason", true},
                                                          {"--enterprise", true},
                                                          {"--pin", true},
                                                          {"--grade", true},
                                                          {"--buyers", false},
                                                          {"--officer", true},
                                                          {"--no-random", false},
                                                          {"--release", false},
                                                          {"--reject", false},
                                                          {"--quiet", false},
                                                          {"--ack", false},
                                                          {"--minimal", false},
                                                          {"--out", true},
                                                          {"--config", true},
                                                          {"--url", true},
                                                          {"--keys", true},
                                                          {"--connections", true},
                                                          {"--rate", true},
                                                          {"--listen", true},
                                                          {"--threads", true},
                                                          {"--demo-keys", false},
                                                          {"--clearances", true},
                                                          {"--batch", true},
                                                          {"--first", true},
                                                          {"--month", true},
                                                          {"--ebc", true},
                                                          {"--summary-flag", true},
                                                          {"--export", false},
                                                          {"--lists", true},
                                                          {"--risk-rules", true},
                                                          {"--from", true},
                                                          {"--to", true},
                                                          {"--what-if", true},
                                                          {"--web", true},
                                                          {"--preset", true},
                                                          {"--scale", true},
                                                          {"--days", true},
                                                          {"--imports", true},
                                                          {"--exports", true},
                                                          {"--date", true}};
  Args out;
  for (size_t i = from; i < a.size(); ++i) {
    if (a[i].rfind("--", 0) != 0) {
      out.files.push_back(a[i]);
      continue;
    }
    if (a[i] == "--set") {
      if (i + 1 >= a.size()) {
        out.error = "--set needs section.key=value";
        return out;
      }
      out.sets.push_back(a[++i]);
      continue;
    }
    auto it = kTakesValue.find(a[i]);
    if (it == kTakesValue.end()) {
      out.error = "unknown option " + a[i];
      return out;
    }
    if (it->second) {
      if (i + 1 >= a.size()) {
        out.error = a[i] + " needs a value";
        return out;
      }
      out.opts[a[i]] = a[i + 1];
      ++i;
    } else {
      out.opts[a[i]] = "1";
    }
  }
  return out;
}

namespace {

std::string DefaultReferenceDir() {
  // The shipped reference data, found next to the binary's source tree or installed data.
  for (const char* p :
       {KJ_SOURCE_DIR "/data/reference", "data/reference", "/usr/share/kuajing/reference"}) {
    if (fs::exists(fs::path(p) / "enterprises.csv")) return p;
  }
  return "data/reference";
}

}  // namespace

std::optional<uint64_t> WholeNumber(const std::string& text, uint64_t max) {
  if (text.empty() || text.size() > 19 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  uint64_t v = std::stoull(text);
  if (v > max) return std::nullopt;
  return v;
}

StatusOr<PlatformOptions> OptionsFrom(const Args& a, const std::string& data_dir,
                                      ServiceSettings* service) {
  PlatformOptions o;
  o.data_dir = data_dir;
  o.reference_dir = DefaultReferenceDir();
  ServiceSettings ignored;
  ServiceSettings* svc = service ? service : &ignored;
  if (a.opts.count("--config")) KJ_RETURN_IF_ERROR(LoadConfig(a.opts.at("--config"), &o, svc));
  for (const std::string& s : a.sets) KJ_RETURN_IF_ERROR(ApplySetting(s, &o, svc));
  if (a.opts.count("--reference")) o.reference_dir = a.opts.at("--reference");
  if (a.opts.count("--inspection-rate") && !a.opts.count("--no-random")) {
    auto r = Decimal::Parse(a.opts.at("--inspection-rate"));
    if (!r || r->e5 < 0 || r->e5 > Decimal::kScale)
      return InvalidArgument("--inspection-rate must be between 0 and 1");
    o.rules.random_inspection_rate = *r;
  }
  if (a.opts.count("--no-random")) o.rules.random_inspection_rate = Decimal{};
  if (a.opts.count("--risk-rules")) o.risk_rules_path = a.opts.at("--risk-rules");
  if (!o.risk_rules_path.empty()) {
    auto rules = risk::LoadRules(o.risk_rules_path);
    if (!rules.ok()) return rules.status();
    o.rules.risk_rules = std::make_shared<const risk::Rules>(std::move(*rules));
  }
  if (a.opts.count("--seed")) {
    auto seed = WholeNumber(a.opts.at("--seed"), UINT64_MAX);
    if (!seed) return InvalidArgument("--seed must be a whole number");
    o.rules.random_seed = *seed;
  }
  return o;
}

namespace {

// Opens the platform for a command, or says why not on stderr and returns the exit code.
struct Opened {
  std::unique_ptr<Platform> platform;
  PlatformOptions options;
  int exit_code = 0;

  Opened() = default;
  Opened(Opened&&) = default;
  Opened& operator=(Opened&&) = default;
  // The next command or start reads the snapshot instead of every stored list (app/snapshot.h);
  // nothing is written when nothing was committed.
  ~Opened() {
    if (!platform) return;
    const Status st = platform->SaveSnapshot();
    if (!st.ok()) std::cerr << "no snapshot written: " << st.ToString() << "\n";
  }
};

Opened OpenFor(const Args& a, const std::string& data_dir) {
  Opened o;
  auto opts = OptionsFrom(a, data_dir);
  if (!opts.ok()) {
    std::cerr << opts.status().message() << "\n";
    o.exit_code = 2;
    return o;
  }
  o.options = *opts;
  auto platform = Platform::Open(*opts);
  if (!platform.ok()) {
    std::cerr << "cannot open the platform: " << platform.status().ToString() << "\n";
    o.exit_code = 1;
    return o;
  }
  o.platform = std::move(*platform);
  return o;
}

// The processing clock: fixed with --now, else the system clock.
class Clock {
 public:
  explicit Clock(std::optional<int64_t> fixed) : fixed_(fixed) {}
  int64_t Now() const {
    if (fixed_) return *fixed_;
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  std::optional<int64_t> fixed_;
};

StatusOr<Clock> MakeClock(const Args& a) {
  if (!a.opts.count("--now")) return Clock(std::nullopt);
  auto t = ParseAppTime(a.opts.at("--now"));
  if (!t) return InvalidArgument("--now must be yyyyMMddHHmmss");
  return Clock(*t);
}

// What a command that reads or changes a zone at one time needs: the zone of --data, opened, and
// the time (--now, else the clock). On failure the reason is printed and exit_code is set (2 for
// usage, as OpenFor otherwise).
struct OpenedAt {
  Opened opened;
  int64_t now = 0;
  int exit_code = 0;
};
OpenedAt OpenZoneAt(const Args& a, const char* usage) {
  OpenedAt z;
  auto clock = MakeClock(a);
  if (!a.opts.count("--data") || !clock.ok()) {
    std::cerr << (a.opts.count("--data") ? std::string(clock.status().message()) : usage) << "\n";
    z.exit_code = 2;
    return z;
  }
  z.now = clock->Now();
  z.opened = OpenFor(a, a.opts.at("--data"));
  z.exit_code = z.opened.exit_code;
  return z;
}

std::string StatusWord(const std::string& status) {
  static const std::map<std::string, std::string> kWords = {
      {"1", "draft stored"}, {"2", "declaring"},       {"100", "rejected by customs"},
      {"120", "stored"},     {"300", "manual review"}, {"399", "concluded"},
      {"500", "inspection"}, {"800", "released"},      {"899", "closed"}};
  auto it = kWords.find(status);
  if (it != kWords.end()) return it->second;
  return !status.empty() && status[0] == '-' ? "error" : status;
}

Status WriteReceiptFile(const fs::path& dir, const storage::StoredReceipt& r) {
  // <declaration guid>.<type>.<status>.<receipt guid prefix>.xml: sorted by the document it
  // answers.
  size_t g = r.xml.find("guid=\"");
  std::string receipt_guid = g == std::string::npos ? "0" : r.xml.substr(g + 6, 8);
  fs::path p = dir / (r.answers_guid + "." + r.type + "." + r.status + "." + receipt_guid + ".xml");
  std::ofstream out(p, std::ios::binary);
  out << r.xml;
  out.close();
  if (!out) return Unavailable("cannot write " + p.string());
  return Status::Ok();
}

// Extracts one element's text from a receipt (for the report lines only).
std::string Field(const std::string& xml, const std::string& name) {
  size_t b = xml.find("<ceb:" + name + ">");
  if (b == std::string::npos) return {};
  b += name.size() + 6;
  size_t e = xml.find("</ceb:" + name + ">", b);
  return xml.substr(b, e - b);
}

// What a run decided: each inventory counts once, by its latest status.
struct Tally {
  std::map<std::string, std::string> last_status;    // import list guid -> latest CEB622 status
  std::map<std::string, std::string> export_status;  // export list guid -> latest CEB604 status
  int format_errors = 0;
  Decimal tax;
  void Add(const storage::StoredReceipt& r) {
    if (r.type == "CEB622") {
      last_status[r.answers_guid] = r.status;
    } else if (r.type == "CEB604") {
      export_status[r.answers_guid] = r.status;
    } else if (r.type == "CEB816") {
      const std::string head = r.xml.substr(0, r.xml.find("</ceb:TaxHeadRd>"));
      for (const char* f : {"customsTax", "valueAddedTax", "consumptionTax"}) {
        if (auto d = Decimal::Parse(Field(head, f))) tax += *d;
      }
    } else if (r.type == "CEB900") {
      ++format_errors;
    }
  }
  int Count(std::initializer_list<const char*> statuses, bool negative = false) const {
    int n = 0;
    for (const auto& [guid, st] : last_status) {
      bool hit = negative && !st.empty() && st[0] == '-';
      for (const char* s : statuses) hit = hit || st == s;
      n += hit;
    }
    return n;
  }
  std::string Summary() const {
    if (!export_status.empty()) {
      std::map<std::string, int> by;
      for (const auto& [g, st] : export_status) ++by[st[0] == '-' ? "rejected" : st];
      std::string e = "export lists: released " + std::to_string(by["800"]) + ", closed " +
                      std::to_string(by["899"]) + ", concluded " + std::to_string(by["399"]) +
                      ", waiting " + std::to_string(by["2"] + by["120"]) + ", rejected " +
                      std::to_string(by["rejected"]);
      if (last_status.empty()) return e + "; format errors " + std::to_string(format_errors);
      return e + "\nimport lists: " + ImportSummary();
    }
    return ImportSummary();
  }
  std::string ImportSummary() const {
    return "released " + std::to_string(Count({"800", "899"})) + ", rejected " +
           std::to_string(Count({"100"}, true)) + ", held " +
           std::to_string(Count({"300", "500"})) + ", waiting " +
           std::to_string(Count({"1", "2"})) + ", format errors " + std::to_string(format_errors) +
           "; tax assessed " + tax.ToMoneyString() + " CNY";
  }
};

void Report(const std::string& label, const Answer& a, bool quiet) {
  if (quiet) return;
  std::cout << label << (a.repeated ? "  (already processed: original receipts)" : "") << "\n";
  for (const auto& r : a.receipts) {
    std::string info = Field(r.xml, "returnInfo");
    if (codec::Utf8Length(info) > 160) info = clearance::CutUtf8(info, 157) + "...";
    const bool tax_bill = r.type == "CEB816" || r.type == "CEB818";
    std::cout << "  " << r.type << " " << r.status << " "
              << (tax_bill ? (r.status == "3" ? "void" : "generated") : StatusWord(r.status));
    if (r.type == "CEB816") {
      size_t head_end = r.xml.find("</ceb:TaxHeadRd>");
      std::string head = r.xml.substr(0, head_end);
      std::cout << " tax bill " << Field(head, "taxNo") << ": duty " << Field(head, "customsTax")
                << ", VAT " << Field(head, "valueAddedTax") << ", consumption tax "
                << Field(head, "consumptionTax");
    } else if (!info.empty()) {
      std::cout << ": " << info;
    }
    std::cout << "\n";
  }
}

int Ingest(const Args& a) {
  if (!a.opts.count("--data") || a.files.empty()) {
    std::cerr << "ingest needs --data DIR and at least one FILE\n" << kUsage;
    return 2;
  }
  auto clock = MakeClock(a);
  if (!clock.ok()) {
    std::cerr << clock.status().message() << "\n";
    return 2;
  }
  Opened opened = OpenFor(a, a.opts.at("--data"));
  if (!opened.platform) return opened.exit_code;
  Platform& platform = *opened.platform;
  fs::path out_dir = a.opts.count("--receipts") ? fs::path(a.opts.at("--receipts"))
                                                : fs::path(a.opts.at("--data")) / "receipts";
  const bool write_files = out_dir != "none";
  std::error_code ec;
  if (write_files) fs::create_directories(out_dir, ec);
  if (ec) {
    std::cerr << "cannot create " << out_dir << ": " << ec.message() << "\n";
    return 1;
  }
  Tally tally;
  const bool quiet = a.opts.count("--quiet") != 0;
  for (const std::string& file : a.files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << file << ": cannot read\n";
      return 1;
    }
    // Read at most one byte over the limit (the codec rejects what is over it), and no more than
    // the file holds: a buffer of the limit's size for every file would be zeroed for nothing.
    std::error_code size_ec;
    const uintmax_t file_size = fs::file_size(file, size_ec);
    const size_t want = static_cast<size_t>(
        std::min<uintmax_t>(size_ec ? opened.options.limits.max_message_bytes + 1 : file_size,
                            opened.options.limits.max_message_bytes + 1));
    std::string raw(want, '\0');
    in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
    raw.resize(static_cast<size_t>(in.gcount()));
    auto answer = platform.Submit(raw, "", clock->Now());
    if (!answer.ok()) {
      std::cerr << file << ": " << answer.status().ToString() << "\n";
      return 1;
    }
    for (const auto& r : answer->receipts) {
      if (!answer->repeated) tally.Add(r);
      if (!write_files) continue;
      Status st = WriteReceiptFile(out_dir, r);
      if (!st.ok()) {
        std::cerr << st.message() << "\n";
        return 1;
      }
    }
    Report(file, *answer, quiet);
    // "ack FILE" is printed only after the message is durable: a client may forget the file.
    if (a.opts.count("--ack")) std::cout << "ack " << file << std::endl;
  }
  std::cout << tally.Summary() << "; receipts in " << out_dir.string() << "\n";
  return 0;
}

int Quota(const Args& a) {
  if (!a.opts.count("--data") || !a.opts.count("--id") || !a.opts.count("--year")) {
    std::cerr << "quota needs --data DIR --id ID --year YYYY\n";
    return 2;
  }
  Opened opened = OpenFor(a, a.opts.at("--data"));
  if (!opened.platform) return opened.exit_code;
  Platform& platform = *opened.platform;
  auto year_arg = WholeNumber(a.opts.at("--year"), 9999);
  if (!year_arg || *year_arg < 1900) {
    std::cerr << "--year must be a year such as 2024\n";
    return 2;
  }
  const int year = static_cast<int>(*year_arg);
  clearance::QuotaView q = platform.Quota(a.opts.at("--id"), year);
  auto ledger = platform.store().LedgerSum(a.opts.at("--id"), year);
  std::cout << "buyer " << a.opts.at("--id") << ", " << year << ": used " << q.used.ToMoneyString()
            << " CNY, remaining " << q.remaining.ToMoneyString() << " CNY of "
            << opened.options.rules.annual_limit.ToMoneyString() << "\n";
  if (ledger.ok() && *ledger != q.used) {
    std::cerr << "warning: the quota ledger sums to " << ledger->ToMoneyString() << "\n";
    return 1;
  }
  return 0;
}

int Decide(const Args& a) {
  const bool release = a.opts.count("--release"), reject = a.opts.count("--reject");
  if (!a.opts.count("--data") || !a.opts.count("--invt") || release == reject) {
    std::cerr << "decide needs --data DIR --invt NO and one of --release or --reject\n";
    return 2;
  }
  auto clock = MakeClock(a);
  if (!clock.ok()) {
    std::cerr << clock.status().message() << "\n";
    return 2;
  }
  Opened opened = OpenFor(a, a.opts.at("--data"));
  if (!opened.platform) return opened.exit_code;
  clearance::OfficerDecision d;
  d.invt_no = a.opts.at("--invt");
  d.action = release ? clearance::OfficerDecision::Action::kRelease
                     : clearance::OfficerDecision::Action::kReject;
  d.reason = a.opts.count("--reason") ? a.opts.at("--reason") : "";
  d.officer = a.opts.count("--officer") ? a.opts.at("--officer") : "officer";
  auto answer = opened.platform->Decide(d, clock->Now());
  if (!answer.ok()) {
    std::cerr << answer.status().message() << "\n";
    return 1;
  }
  fs::path out_dir = fs::path(a.opts.at("--data")) / "receipts";
  fs::create_directories(out_dir);
  for (const auto& r : answer->receipts) (void)WriteReceiptFile(out_dir, r);
  Report("decision on " + d.invt_no, *answer, false);
  return 0;
}

int Credit(const Args& a) {
  OpenedAt z = OpenZoneAt(a, "credit needs --data DIR");
  if (!z.opened.platform) return z.exit_code;
  Platform& platform = *z.opened.platform;
  const int64_t now = z.now;
  if (a.opts.count("--pin")) {
    if (!a.opts.count("--grade") || !a.opts.count("--reason")) {
      std::cerr << "--pin CODE needs --grade A|B|C|D|none and --reason TEXT\n";
      return 2;
    }
    Platform::CreditCorrection c;
    c.subject = a.opts.at("--pin");
    c.reason = a.opts.at("--reason");
    c.officer = a.opts.count("--officer") ? a.opts.at("--officer") : "officer";
    if (a.opts.at("--grade") != "none") {
      c.grade = credit::GradeFromName(a.opts.at("--grade"));
      if (!c.grade) {
        std::cerr << "--grade must be A, B, C, D or none\n";
        return 2;
      }
    }
    Status st = platform.CorrectCredit(c, now);
    if (!st.ok()) {
      std::cerr << st.message() << "\n";
      return 1;
    }
  }
  const credit::Book& book = platform.credit();
  if (a.opts.count("--buyers")) {
    for (const auto& b : book.Buyers("", 100000)) {
      std::cout << b.buyer_id << "  " << b.buyer_name << "  since " << FormatAppTime(b.since_ms)
                << "  by " << b.by << "\n    " << b.evidence << "\n";
    }
    std::cout << book.buyer_count() << " discredited buyer(s)\n";
    return 0;
  }
  const std::string one = a.opts.count("--enterprise") ? a.opts.at("--enterprise")
                          : a.opts.count("--pin")      ? a.opts.at("--pin")
                                                       : "";
  if (!one.empty()) {
    auto v = book.View(one, now);
    if (!v) {
      std::cout << one << ": no credit record (grade B, as every new enterprise)\n";
      return 0;
    }
    std::cout << v->code << ": grade " << credit::GradeName(v->grade) << " ("
              << credit::GradeMeaning(v->grade) << "), computed " << credit::GradeName(v->computed)
              << "; " << v->Explain() << "\n";
    if (v->override_grade) {
      std::cout << "  pinned " << credit::GradeName(*v->override_grade) << " by " << v->override_by
                << " at " << FormatAppTime(v->override_ms) << ": " << v->override_reason << "\n";
    }
    for (const auto& c : v->history) {
      std::cout << "  " << FormatAppTime(c.at_ms) << " " << credit::GradeName(c.from) << " -> "
                << credit::GradeName(c.to) << " by " << c.by << ": " << c.cause << "\n";
    }
    return 0;
  }
  for (const std::string& code : book.Enterprises("", 100000)) {
    auto v = book.View(code, now);
    std::cout << code << "  " << credit::GradeName(v->grade)
              << (v->override_grade ? " (pinned)" : "") << "  " << v->Explain() << "\n";
  }
  return 0;
}

int Generate(const Args& a) {
  if (!a.opts.count("--out") || !a.opts.count("--clearances")) {
    std::cerr << "generate needs --out DIR --clearances N\n";
    return 2;
  }
  auto count = WholeNumber(a.opts.at("--clearances"), 100'000'000);
  auto batch_arg = a.opts.count("--batch") ? WholeNumber(a.opts.at("--batch"), 100)
                                           : std::optional<uint64_t>(100);
  auto first_arg = a.opts.count("--first") ? WholeNumber(a.opts.at("--first"), 1'000'000'000'000)
                                           : std::optional<uint64_t>(0);
  if (!count || !first_arg) {
    std::cerr << "--clearances (at most 100000000) and --first must be whole numbers\n";
    return 2;
  }
  const uint64_t n = *count, first = *first_arg, batch = batch_arg.value_or(0);
  if (batch < 1 || batch > 100) {
    std::cerr << "--batch must be 1 to 100 (the standard's limit per message)\n";
    return 2;
  }
  fs::path out = a.opts.at("--out");
  fs::create_directories(out);
  uint64_t files = 0, bytes = 0;
  for (uint64_t i = 0; i < n; i += batch) {
    BatchMessages b = MakeBatch(GeneratedClearances(first + i, std::min(batch, n - i)));
    char name[32];
    std::snprintf(name, sizeof name, "%08llu", static_cast<unsigned long long>(i / batch));
    int k = 0;
    for (const std::string* xml : {&b.inventories, &b.orders, &b.payments, &b.waybills}) {
      static constexpr const char* kKinds[] = {"1-inventories", "2-orders", "3-payments",
                                               "4-waybills"};
      std::ofstream(out / (std::string(name) + "-" + kKinds[k++] + ".xml"), std::ios::binary)
          << *xml;
      ++files;
      bytes += xml->size();
    }
  }
  std::cout << "wrote " << n << " clearances in " << files << " files (" << bytes / 1024
            << " KiB) to " << out.string() << "\n";
  return 0;
}

// Export files: per 100 lists one message per document kind, numbered so that a sorted
// `ingest` replays the life of the lists: orders, receipts of payment, waybills, lists, arrivals,
// departures.
int GenerateExport(const Args& a) {
  if (!a.opts.count("--out") || !a.opts.count("--lists")) {
    std::cerr << "generate --export needs --out DIR --lists N\n";
    return 2;
  }
  auto count = WholeNumber(a.opts.at("--lists"), 10'000'000);
  auto first = a.opts.count("--first") ? WholeNumber(a.opts.at("--first"), 1'000'000'000'000)
                                       : std::optional<uint64_t>(1);
  auto month = MonthRange(a.opts.count("--month") ? a.opts.at("--month") : "2024-06");
  if (!count || !first || !month.ok()) {
    std::cerr << "--lists and --first are whole numbers, --month is written 2024-06\n";
    return 2;
  }
  const std::string day = FormatDate8(month->first);
  const int year = std::stoi(day.substr(0, 4)), mon = std::stoi(day.substr(4, 2));
  fs::path out = a.opts.at("--out");
  fs::create_directories(out);
  uint64_t files = 0;
  for (uint64_t i = 0; i < *count; i += 100) {
    std::vector<ExportSpec> specs =
        GeneratedExports(*first + i, std::min<uint64_t>(100, *count - i), year, mon);
    std::vector<ExportMessages> msgs;
    for (const auto& sp : specs) msgs.push_back(MakeExport(sp));
    static constexpr const char* kKinds[] = {"1-orders", "2-receipts", "3-waybills",
                                             "4-lists",  "5-arrivals", "6-departures"};
    static constexpr std::string ExportMessages::*kFields[] = {
        &ExportMessages::order,     &ExportMessages::receipts, &ExportMessages::waybill,
        &ExportMessages::inventory, &ExportMessages::arrival,  &ExportMessages::departure};
    for (int k = 0; k < 6; ++k) {
      // One message per list here: the generator writes single-record messages, which is what
      // most enterprise systems send.
      for (size_t j = 0; j < msgs.size(); ++j) {
        char name[64];
        std::snprintf(name, sizeof name, "%s-%08llu.xml", kKinds[k],
                      static_cast<unsigned long long>(*first + i + j));
        std::ofstream(out / name, std::ios::binary) << msgs[j].*kFields[k];
        ++files;
      }
    }
  }
  std::cout << "wrote " << *count << " export lists in " << files << " files to " << out.string()
            << "\n";
  return 0;
}

int Summarize(const Args& a) {
  if (!a.opts.count("--data") || !a.opts.count("--month")) {
    std::cerr << "summarize needs --data DIR --month YYYY-MM\n";
    return 2;
  }
  auto range = MonthRange(a.opts.at("--month"));
  auto clock = MakeClock(a);
  if (!range.ok() || !clock.ok()) {
    std::cerr << (range.ok() ? clock.status() : range.status()).message() << "\n";
    return 2;
  }
  Platform::SummaryRun run;
  const std::string day = FormatDate8(range->first);
  run.year = std::stoi(day.substr(0, 4));
  run.month = std::stoi(day.substr(4, 2));
  if (a.opts.count("--summary-flag")) run.summary_flag = a.opts.at("--summary-flag");
  if (run.summary_flag != "1" && run.summary_flag != "2") {
    std::cerr << "--summary-flag is 1 (per consignor) or 2 (per consignor and producer)\n";
    return 2;
  }
  Opened opened = OpenFor(a, a.opts.at("--data"));
  if (!opened.platform) return opened.exit_code;
  auto answers = opened.platform->SummarizeMonth(run, clock->Now());
  if (!answers.ok()) {
    std::cerr << answers.status().message() << "\n";
    return 1;
  }
  fs::path out_dir = fs::path(a.opts.at("--data")) / "receipts";
  fs::create_directories(out_dir);
  int declarations = 0;
  for (const auto& answer : *answers) {
    for (const auto& r : answer.receipts) {
      (void)WriteReceiptFile(out_dir, r);
      if (r.type == "CEB702") {
        std::cout << "summary " << Field(r.xml, "sumNo") << " of agent "
                  << Field(r.xml, "agentCode") << " and consignor " << Field(r.xml, "ebcCode")
                  << ": " << Field(r.xml, "returnInfo") << "\n";
      }
      declarations += r.type == "CEB792" && Field(r.xml, "msgSeqNo") == "1";
    }
  }
  std::cout << answers->size() << " summary application(s), " << declarations
            << " customs declaration(s); receipts in " << out_dir.string() << "\n";
  return 0;
}

int Dues(const Args& a) {
  OpenedAt z = OpenZoneAt(a, "dues needs --data DIR");
  if (!z.opened.platform) return z.exit_code;
  Opened& opened = z.opened;
  bool late = false;
  std::cout << "month    agent              consignor          closed  summarised  deadline\n";
  for (const auto& d : opened.platform->export_engine().Dues(z.now, 10000)) {
    char line[256];
    std::snprintf(line, sizeof line, "%04d-%02d  %-18s %-18s %6d  %10d  %s%s\n", d.year % 10000,
                  d.month % 100, d.agent_code.c_str(), d.ebc_code.c_str(), d.closed, d.summarised,
                  FormatDate8(d.deadline_ms - 1000).c_str(), d.late ? "  LATE" : "");
    std::cout << line;
    late = late || d.late;
  }
  return late ? 1 : 0;
}

int Ledger(const Args& a) {
  if (!a.opts.count("--data") || !a.opts.count("--ebc") || !a.opts.count("--month")) {
    std::cerr << "ledger needs --data DIR --ebc CODE --month YYYY-MM\n";
    return 2;
  }
  auto range = MonthRange(a.opts.at("--month"));
  if (!range.ok()) {
    std::cerr << range.status().message() << "\n";
    return 2;
  }
  Opened opened = OpenFor(a, a.opts.at("--data"));
  if (!opened.platform) return opened.exit_code;
  const std::string csv = LedgerCsv(
      opened.platform->export_engine().Ledger(a.opts.at("--ebc"), range->first, range->second));
  if (a.opts.count("--out")) {
    std::ofstream(a.opts.at("--out"), std::ios::binary) << csv;
  } else {
    std::cout << csv;
  }
  return 0;
}

int ReplayCommand(const Args& a) {
  if (!a.opts.count("--data")) {
    std::cerr << "replay needs --data DIR\n";
    return 2;
  }
  ReplayOptions r;
  auto options = OptionsFrom(a, a.opts.at("--data"));
  if (!options.ok()) {
    std::cerr << options.status().message() << "\n";
    return 2;
  }
  r.platform = *options;
  for (auto [flag, target] : {std::pair{"--from", &r.from_ms}, {"--to", &r.to_ms}}) {
    if (!a.opts.count(flag)) continue;
    auto t = ParseAppTime(a.opts.at(flag));
    if (!t) {
      std::cerr << flag << " is a time as yyyyMMddHHmmss\n";
      return 2;
    }
    *target = *t;
  }
  if (a.opts.count("--what-if")) {
    auto rules = risk::LoadRules(a.opts.at("--what-if"));
    if (!rules.ok()) {
      std::cerr << rules.status().message() << "\n";
      return 2;
    }
    r.what_if = std::make_shared<const risk::Rules>(std::move(*rules));
  }
  r.scratch_dir = (fs::path(a.opts.at("--data")) / "replay-scratch").string();
  auto report = Replay(r);
  if (!report.ok()) {
    std::cerr << report.status().message() << "\n";
    return 1;
  }
  std::cout << FormatReport(*report, r.what_if != nullptr);
  return r.what_if == nullptr && report->differing > 0 ? 1 : 0;
}

int Demo(const Args& a) {
  std::string data = a.opts.count("--data") ? a.opts.at("--data")
                                            : (fs::temp_directory_path() / "kuajing-demo").string();
  if (!a.opts.count("--data")) fs::remove_all(data);
  Opened opened = OpenFor(a, data);
  if (!opened.platform) return opened.exit_code;
  Platform& platform = *opened.platform;
  std::cout << "kuajing demo: clearing a morning of the Hengyang zone (data in " << data << ")\n\n";
  int64_t now = *ParseAppTime("20240611100000");
  Tally tally;
  for (const ClearanceSpec& s : DemoClearances()) {
    ClearanceMessages m = MakeClearance(s);
    std::cout << "order " << s.order_no << " (" << s.items.size() << " line"
              << (s.items.size() > 1 ? "s" : "") << ", " << s.items[0].name
              << (s.items.size() > 1 ? " ..." : "") << ")\n";
    // Documents arrive in mixed order, as they do: the list first, the payment last.
    for (const std::string* xml : {&m.inventory, &m.order, &m.waybill, &m.payment}) {
      auto answer = platform.Submit(*xml, "", now += 1000);
      if (!answer.ok()) {
        std::cerr << answer.status().ToString() << "\n";
        return 1;
      }
      for (const auto& r : answer->receipts) {
        tally.Add(r);
        if (r.type == "CEB622" && r.status != "2" && r.status != "120" && r.status != "399") {
          std::string info = Field(r.xml, "returnInfo");
          if (codec::Utf8Length(info) > 200) info = clearance::CutUtf8(info, 197) + "...";
          std::cout << "  " << StatusWord(r.status) << " (" << r.status << ")"
                    << (r.status == "800" ? "" : ": " + info) << "\n";
        } else if (r.type == "CEB816") {
          size_t head_end = r.xml.find("</ceb:TaxHeadRd>");
          std::string head = r.xml.substr(0, head_end);
          std::cout << "  tax bill " << Field(head, "taxNo") << ": duty "
                    << Field(head, "customsTax") << ", VAT " << Field(head, "valueAddedTax")
                    << ", consumption tax " << Field(head, "consumptionTax") << "\n";
        }
      }
    }
  }
  std::cout << "\n" << tally.Summary() << "\n";
  const ClearanceSpec first = DemoClearances().front();
  clearance::QuotaView q = platform.Quota(first.buyer_id, 2024);
  std::cout << "buyer " << first.buyer_name << " has used " << q.used.ToMoneyString() << " of "
            << opened.options.rules.annual_limit.ToMoneyString() << " CNY in 2024 ("
            << q.remaining.ToMoneyString() << " left)\n";
  return 0;
}

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  if (args.size() < 2 || args[1] == "help" || args[1] == "--help" || args[1] == "-h") {
    std::cout << kUsage;
    return args.size() < 2 ? 2 : 0;
  }
  Args a = ParseArgs(args, 2);
  if (!a.error.empty()) {
    std::cerr << a.error << "\n" << kUsage;
    return 2;
  }
  const std::string& cmd = args[1];
  if (cmd == "ingest") return Ingest(a);
  if (cmd == "quota") return Quota(a);
  if (cmd == "decide") return Decide(a);
  if (cmd == "credit") return Credit(a);
  if (cmd == "demo") return Demo(a);
  if (cmd == "generate") return a.opts.count("--export") ? GenerateExport(a) : Generate(a);
  if (cmd == "summarize") return Summarize(a);
  if (cmd == "dues") return Dues(a);
  if (cmd == "ledger") return Ledger(a);
  if (cmd == "replay") return ReplayCommand(a);
  std::cerr << "unknown command " << cmd << "\n" << kUsage;
  return 2;
}

}  // namespace kuajing::app
