// The export clearance engine: the customs-side state machine of cross-border e-commerce exports
// (9610 retail, 9710 B2B direct, 9810 to an overseas warehouse, 1210 from a special zone).
//
// It takes the export declarations (order CEB303, receipt of payment CEB403, waybill CEB505,
// arrival CEB507, departure CEB509, inventory list CEB603, cancellation CEB605, bill link CEB607,
// return CEB213 and its tally CEB215, summary application CEB701) in any order, matches the list
// with its order (ebcCode + orderNo) and waybill (logisticsCode + logisticsNo), releases it (800)
// once the goods have arrived at the supervised site where the mode asks for it, closes it (899)
// on departure, and groups the closed lists of a period into summary declarations (CEB702 +
// CEB792, "清单核放、汇总申报"). It keeps the zone's export ledger for the invoice-free VAT
// exemption (财税〔2018〕103号).
//
// Like the import engine it is deterministic and does no I/O: each call returns receipts and state
// rows (kinds "x_..."), which the platform commits before anything is acknowledged.
// Thread safety: not thread-safe; driven by the platform's one writer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "clearance/engine.h"
#include "clearance/summary.h"

namespace kuajing::clearance {

// One row of the export ledger: a line of a released list, or (negative) of a return.
struct LedgerRow {
  int64_t at_ms = 0;  // release (or return tally) time
  std::string ebc_code, invt_no, trade_mode, gcode, gname, unit, currency, country;
  int64_t gnum = 0;
  Decimal qty, price, amount;  // negative for returns
  bool is_return = false;
};

// Where the summaries of one month stand for one declaring agent and consignor.
struct SummaryDue {
  int year = 0, month = 0;
  std::string agent_code, ebc_code;
  int closed = 0;           // closed lists with statisticsFlag B
  int summarised = 0;       // of which in a summary
  int64_t deadline_ms = 0;  // end of the deadline day, CST
  bool late = false;        // lists still unsummarised after the deadline
};

// A summary as stored: the application and the declarations made from it.
struct StoredSummary {
  std::string sum_no, guid, agent_code, ebc_code, decl_agent_code;
  int64_t at_ms = 0;
  std::vector<SummaryDeclaration> declarations;
};

class ExportEngine {
 public:
  // `credit`: the zone's credit book, shared with the import engine (may be null).
  ExportEngine(const reference::ReferenceData* reference, RulesConfig rules,
               credit::Book* credit = nullptr);
  ~ExportEngine();

  // The statistics kept up to date as export lists are released, cancelled and returned
  // (docs/METRICS.md); set before Restore. Null: none are kept.
  void SetStats(stats::Aggregates* stats);
  ExportEngine(const ExportEngine&) = delete;
  ExportEngine& operator=(const ExportEngine&) = delete;

  // Processes every record of a decoded export declaration message (see Engine::Process).
  StepResult Process(const codec::DecodedMessage& message, std::string_view sender, int64_t now_ms);

  // A summary the platform makes on the agent's behalf (the monthly run): `apply` is processed as
  // if the agent had sent it, without the sender check.
  StepResult SummarizeOnBehalf(const model::exp::SummaryApply& apply, int64_t now_ms);

  // The agents and consignors with closed, unsummarised B lists whose departure falls in
  // [from_ms, to_ms): whom a monthly run must make a summary for.
  struct PendingSummary {
    std::string agent_code, agent_name, ebc_code, ebc_name, customs_code;
    int lists = 0;
  };
  std::vector<PendingSummary> Pending(int64_t from_ms, int64_t to_ms) const;

  // Loads one stored "x_..." state row at start-up.
  Status Restore(const StateChange& row);

  // Summary deadlines per month, agent and consignor, oldest month first; at most `limit`.
  std::vector<SummaryDue> Dues(int64_t now_ms, size_t limit) const;

  // Stored summaries of an enterprise (agent or consignor; empty = all), newest first.
  std::vector<StoredSummary> Summaries(std::string_view enterprise, size_t limit) const;

  // The export ledger of one consignor (ebcCode) for [from_ms, to_ms), by time.
  std::vector<LedgerRow> Ledger(std::string_view ebc_code, int64_t from_ms, int64_t to_ms) const;

  // The guid of an export list by kind "x_inventory" (ebcCode, orderNo) or "x_invtNo" (invtNo).
  std::string GuidOf(std::string_view kind, std::string_view a, std::string_view b) const;

  struct Counts {
    size_t orders = 0, waybills = 0, lists = 0, waiting = 0, concluded = 0, released = 0,
           closed = 0, summaries = 0, late_months = 0;
  };
  Counts counts(int64_t now_ms) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace kuajing::clearance
