// `kuajing simulate`: realistic, reproducible traffic of a pilot zone (issue 5). A seeded stream of
// the messages a zone's enterprises send, day by day, in time order:
//
//  - imports (1210 bonded, some 9610 direct mail): order, payment, waybill and list of a
//    clearance arrive within minutes of each other in any order; goods from the positive list at
//    plausible prices; buyers with valid GB 11643 ID numbers and names, drawn so that some buy
//    often (a few of them far more than the annual amount allows);
//  - exports (9610 parcels, 9710 B2B, 9810 overseas warehouse): order, receipt of payment, waybill,
//    list, then arrival at the supervised site hours later and departure the next day;
//  - a small share of trouble: messages that fail the format, documents that disagree (the list
//    names the buyer otherwise than the order), orders over the 5,000 CNY single limit;
//  - and, answering the platform's receipts: cancellations of some released lists within hours,
//    returns of others days later (the follow-ups need the invtNo the platform gave).
//
// Traffic is shaped by the day (fewer messages at night, a peak in the evening). The generator
// knows nothing of HTTP or storage: the drivers (in-process into a data folder, over HTTP to a
// server, or to files) feed it the receipts they get back.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "app/demo_batch.h"
#include "app/export_batch.h"
#include "app/platform.h"
#include "common/status.h"

namespace kuajing::app {

struct SimulationOptions {
  uint64_t seed = 1;
  int64_t first_day_ms = 0;  // CST midnight of the first day, ms since the epoch
  int days = 1;
  // Lists per day on average (a day's count varies by +-20 % around it).
  double imports_per_day = 2000;
  double exports_per_day = 300;
  // Shares of the import clearances (docs/SIMULATE.md).
  double malformed_share = 0.003;   // one message not well-formed XML (CEB900)
  double mismatch_share = 0.01;     // the list's buyer name differs from the order's (-621003)
  double over_limit_share = 0.003;  // an order over 5,000 CNY with two or more items (-621005)
  double cancel_share = 0.01;       // cancelled within hours of the release (CEB623)
  double return_share = 0.02;       // returned 2 to 20 days after the release (CEB625)
  double direct_mail_share = 0.15;  // 9610 instead of 1210
  // Export lists by mode; the rest are 9610 parcels.
  double export_9710_share = 0.01;
  double export_9810_share = 0.01;
};

// The options of a named zone size, scaled by `scale`: "hengyang-year" (the seed article's 2021
// figures: 1.744 bn CNY, 1.725 bn of it export, 130 M USD of that 9710), "double11" (a day of
// imports at the national peak rate, 85,000 lists a minute) or "day" (one day of 2,000 imports and
// 300 exports). Fills days and volumes; false for an unknown name.
bool PresetOptions(const std::string& name, double scale, SimulationOptions* out);

struct SimEvent {
  int64_t at_ms = 0;
  std::string sender;  // the enterprise code that sends it (BaseTransfer.copCode)
  std::string xml;
  std::string kind;  // "order", "payment", ..., "malformed", "cancel", "return"
};

class Simulator {
 public:
  explicit Simulator(SimulationOptions options);

  // The next message in time order; false once every day and follow-up is done.
  bool Next(SimEvent* out);

  // What the platform answered to a declaration: a release (CEB622 800 with its invtNo) may be
  // followed by a cancellation or a return, at a later time.
  void OnReceipt(const std::string& receipt_type, const std::string& status,
                 const std::string& declaration_guid, const std::string& invt_no, int64_t now_ms);

  struct Counts {
    uint64_t imports = 0, exports = 0, messages = 0, malformed = 0, mismatched = 0, over_limit = 0,
             cancels = 0, returns = 0;
  };
  const Counts& counts() const { return counts_; }
  // The enterprises whose keys the traffic needs (senders), for the HTTP driver.
  static std::vector<std::string> Senders();

 private:
  void GenerateDay(int day);
  void AddImport(int64_t at, uint64_t n);
  void AddExport(int64_t at, uint64_t n);
  void Push(int64_t at, const std::string& sender, std::string xml, const char* kind);
  int64_t StartTime(int64_t day_start);

  SimulationOptions o_;
  std::mt19937_64 rng_;
  int next_day_ = 0;
  uint64_t serial_ = 0;
  struct Later {
    int64_t at;
    uint64_t order;  // ties keep insertion order
    SimEvent event;
    bool operator>(const Later& b) const { return at != b.at ? at > b.at : order > b.order; }
  };
  std::priority_queue<Later, std::vector<Later>, std::greater<>> queue_;
  // Lists that will be cancelled or returned once released: inventory guid -> clearance.
  struct FollowUp {
    ClearanceSpec spec;
    bool cancel;
  };
  std::map<std::string, FollowUp> follow_ups_;
  Counts counts_;
};

// Feeds the whole stream into `platform` in process, each message at its simulated time, in
// groups committed together as the server's writer does; the receipts go back to the simulator.
// Calls `progress(last time)` after each group. Returns the number of refusals among the receipts.
StatusOr<uint64_t> SimulateInto(Platform& platform, Simulator& sim,
                                const std::function<void(int64_t)>& progress = {});

}  // namespace kuajing::app
