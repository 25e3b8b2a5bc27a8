// The e-commerce credit system (电商信用体系) of the pilot zone: a credit record per enterprise
// built from what its documents did, a score and a grade computed by a documented method
// (docs/CREDIT.md), the history of grade changes with their cause, officers' corrections, and the
// list of discredited buyers (fake orders, rented IDs) with their evidence.
//
// The grades mirror the categories of customs' enterprise credit management (海关注册登记和备案企业
// 信用管理办法, 海关总署令第251号, replaced by 第282号 from 2026-04-01): A behaves like an
// advanced-certified enterprise (高级认证企业), B is the general category (常规 / 其他企业), C an
// enterprise under attention, D discredited (失信企业). The zone's grade is the zone's own
// judgement from the platform's data: customs' certification is not something kuajing grants.
// Every weight and threshold is [U] and configurable.
//
// The book is deterministic and does no I/O: the clearance engines record events into it while
// they process messages, and hand its changed rows to the store with the message that caused
// them; at start the stored rows are fed back through Restore().
//
// Thread safety: not thread-safe; driven by the store's writer thread like the engines.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/decimal.h"
#include "common/status.h"

namespace kuajing::credit {

// What happened, charged to the enterprise responsible for the document (docs/CREDIT.md).
enum class Event : uint8_t {
  kDeclared = 0,      // a declaration record it is responsible for was processed
  kRejectedFormat,    // refused for its fields (参数校验不通过)
  kRejectedMismatch,  // its documents did not match (三单对碰失败)
  kRejectedLimit,     // over the single or annual limit (财关税〔2018〕49号)
  kRejectedRisk,      // refused by the risk rules, or by an officer after manual review
  kRejectedOther,     // duplicate, stale, unknown reference, wrong state, wrong party
  kMissingDocuments,  // a list still waited for its documents after `missing_after_hours`
  kInspected,         // a list went to inspection (500); counted, no penalty by default
  kFinding,           // an officer rejected a list after inspection (查验发现问题)
  kCancelled,         // a list was cancelled after release
  kReturned,          // a return was accepted
  kLateSummary,       // an export summary declared after its deadline
  kCount
};
inline constexpr size_t kEventKinds = static_cast<size_t>(Event::kCount);
const char* EventName(Event e);  // "declared", "rejected_format", ...
std::optional<Event> EventFromName(std::string_view name);

enum class Grade : uint8_t { kA = 0, kB = 1, kC = 2, kD = 3 };
const char* GradeName(Grade g);     // "A" .. "D"
const char* GradeMeaning(Grade g);  // "advanced (高级认证企业)" ...
std::optional<Grade> GradeFromName(std::string_view name);

struct Config {
  bool enabled = true;
  // The events of this many calendar months (CST), the current one included, count.
  int window_months = 12;
  // Rates are taken over at least this many declarations: an enterprise with 100 declarations
  // and 2 refusals is judged as 2 in 1,000, not 20 (a young enterprise is not condemned by its
  // first mistakes; a new one is B, as a new registration is 常规 in customs' system).
  int64_t min_declarations = 1000;
  // A needs this many declarations in the window and no finding.
  int64_t a_min_declarations = 1000;
  // Score (0..100) thresholds: A from a_score, B from b_score, C from c_score, D below.
  Decimal a_score = Decimal::FromUnits(95), b_score = Decimal::FromUnits(80),
          c_score = Decimal::FromUnits(60);
  // This many findings in the window make an enterprise D whatever its score (customs' rules name
  // repeated violations among the discredit criteria; the count here is the zone's).
  int64_t d_findings = 2;
  // Points taken per event per 1,000 declarations (rate events), or per event (findings and late
  // summaries, which do not scale with volume). Index: Event.
  std::array<Decimal, kEventKinds> penalty = DefaultPenalties();
  // Random inspection: the configured rate times the factor of the worst grade of the list's
  // declarants; grade D is inspected at least at d_inspection_rate. [V-page] Customs' credit
  // measures (251号) keep advanced-certified enterprises' inspection rate under 20 % of the
  // general rate and discredited enterprises' at 80 % or more; the published 2019 rates were
  // 0.57 % (advanced), 2.44 % (general) and 84.76 % (discredited).
  std::array<Decimal, 3> inspection_factor = {Decimal::FromE5(20000), Decimal::FromUnits(1),
                                              Decimal::FromUnits(2)};
  Decimal d_inspection_rate = Decimal::FromE5(80000);
  // A list waiting this long for its order, payment or waybill charges its declarant once.
  int missing_after_hours = 72;
  // What happens to a list of a buyer on the discredited list: "review" (300) or "reject" (100).
  std::string discredited_buyer_action = "review";

  static std::array<Decimal, kEventKinds> DefaultPenalties();
  // True for events whose penalty is per event, not per 1,000 declarations.
  static bool Absolute(Event e) { return e == Event::kFinding || e == Event::kLateSummary; }
};

// One change of an enterprise's grade, and why.
struct GradeChange {
  int64_t seq = 0;  // 0, 1, ... per enterprise
  int64_t at_ms = 0;
  Grade from = Grade::kB, to = Grade::kB;
  Decimal score;
  std::string cause;  // the event or correction that moved it, and the largest penalties
  std::string by;     // "kuajing" for computed changes, else the officer
};

// A buyer on the discredited list (个人失信名单).
struct DiscreditedBuyer {
  std::string buyer_id, buyer_name;
  int64_t since_ms = 0;
  std::string evidence;  // the rules that fired and the lists, or the officer's note
  std::string by;        // "kuajing" (risk rule with discredit_buyer) or the officer
};

// What an officer or an enterprise sees of one enterprise's record.
struct RecordView {
  std::string code;
  Grade grade = Grade::kB;     // in force (the override if there is one)
  Grade computed = Grade::kB;  // from the score alone
  Decimal score;
  int64_t declarations = 0;
  std::array<int64_t, kEventKinds> counts{};  // in the window
  // The penalty of each kind, in points (what the score is made of).
  std::array<Decimal, kEventKinds> points{};
  std::optional<Grade> override_grade;
  std::string override_reason, override_by;
  int64_t override_ms = 0;
  std::vector<GradeChange> history;  // oldest first
  std::string Explain() const;       // "score 91.40: rejected_mismatch 12 (−6.00), ..."
};

// A row of the book's durable form (the engines turn it into a state row).
struct Row {
  std::string kind;  // "credit", "credit_change", "credit_buyer"
  std::string key;
  std::string value;
  bool erase = false;
};

class Book {
 public:
  explicit Book(Config config);

  const Config& config() const { return config_; }

  // Only registered enterprises get a record: the caller checks the code (an unbounded number of
  // made-up codes must not grow the book). `ref` names the document (invtNo, guid) and `detail`
  // what happened; both go into the cause of a grade change this event makes.
  void Record(std::string_view enterprise, Event e, int64_t now_ms, std::string_view ref = {},
              std::string_view detail = {});

  // The grade in force at `now_ms` (the window moves with the month: a change is recorded when
  // old events leave it). Unknown enterprises are B.
  Grade GradeOf(std::string_view enterprise, int64_t now_ms);

  // The random-inspection rate for a list whose declarants have these grades (docs/CREDIT.md).
  Decimal InspectionRate(Decimal base, Grade worst) const;

  // Officer corrections (audited by the caller). A pinned grade holds until cleared (nullopt).
  void Override(std::string_view enterprise, std::optional<Grade> grade, std::string_view officer,
                std::string_view reason, int64_t now_ms);

  void AddBuyer(DiscreditedBuyer buyer);
  // False if the buyer is not on the list.
  bool RemoveBuyer(std::string_view buyer_id);
  const DiscreditedBuyer* FindBuyer(std::string_view buyer_id) const;
  // At most `limit` buyers, ordered by ID, from the first ID after `after`.
  std::vector<DiscreditedBuyer> Buyers(std::string_view after, size_t limit) const;

  // Read only: the grade is computed for `now_ms` without recording anything.
  std::optional<RecordView> View(std::string_view enterprise, int64_t now_ms) const;
  // Codes with a record, ordered, at most `limit` after `after`.
  std::vector<std::string> Enterprises(std::string_view after, size_t limit) const;
  size_t enterprise_count() const { return records_.size(); }
  size_t buyer_count() const { return buyers_.size(); }

  // The rows changed since the last call.
  void TakeDirty(std::vector<Row>* out);
  Status Restore(const Row& row);

 private:
  struct Rec {
    // Month index (CST year * 12 + month - 1) -> counts per event kind.
    std::map<int, std::array<int64_t, kEventKinds>> months;
    Grade grade = Grade::kB;  // computed, as last recorded in the history
    int month_seen = 0;       // the month the grade was last computed for
    std::optional<Grade> override_grade;
    std::string override_reason, override_by;
    int64_t override_ms = 0;
    std::vector<GradeChange> history;  // the newest kHistoryInMemory
    int64_t changes = 0;               // ever recorded (the next seq)
    bool dirty = false;                // in dirty_ (MarkDirty) until TakeDirty
  };
  struct Score {
    Decimal score;
    Grade grade = Grade::kB;
    int64_t declarations = 0;
    std::array<int64_t, kEventKinds> counts{};
    std::array<Decimal, kEventKinds> points{};
  };
  Score Compute(const Rec& r, int month) const;
  // Recomputes at `month`; records a change (with the text `cause()` returns) if the computed
  // grade moved. The cause is written only then: every event of every declaration refreshes, few
  // change the grade (building it each time was 1.4 % of the import engine's instructions).
  template <typename CauseFn>
  void Refresh(const std::string& code, Rec& r, int month, int64_t now_ms, const CauseFn& cause);
  void AppendChange(const std::string& code, Rec& r, GradeChange c);
  static int MonthOf(int64_t unix_ms);
  std::string Encode(const Rec& r) const;

  Config config_;
  std::unordered_map<std::string, Rec> records_;
  std::map<std::string, DiscreditedBuyer, std::less<>> buyers_;
  std::set<std::pair<std::string, std::string>> dirty_;  // (kind, key)
  // Puts the enterprise's row in dirty_ once until TakeDirty: every document charges its
  // enterprise (Record), and building and finding the pair each time was a fifth of recording.
  void MarkDirty(const std::string& code, Rec& r) {
    if (r.dirty) return;
    r.dirty = true;
    dirty_.emplace("credit", code);
  }
  std::vector<Row> appended_;  // credit_change rows
};

}  // namespace kuajing::credit
