// Replay: the decisions of a period made again from the stored messages (风险防控: explainable
// and auditable). A fresh platform in a scratch folder is fed every stored message in commit order
// (imports, exports, officers' decisions, the monthly summaries), with the risk rules each was
// first processed under (the store keeps every version used). For the messages received in
// [from, to) the receipts it writes are compared with the stored ones, byte for byte: with the
// recorded rules they must be identical (the proof that a day's decisions can be explained);
// with another rules file from `from` on, the differences are the what-if report.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/platform.h"

namespace kuajing::app {

struct ReplayOptions {
  PlatformOptions platform;  // the zone's data folder, reference data, rules
  int64_t from_ms = 0, to_ms = INT64_MAX;
  // What-if: these rules from `from_ms` on instead of the recorded ones (null: the recorded).
  std::shared_ptr<const risk::Rules> what_if;
  std::string scratch_dir;  // where the replay's own store lives (emptied first and after)
};

struct ReplayReport {
  int64_t messages = 0;        // fed, from the beginning up to `to`
  int64_t compared = 0;        // received in [from, to)
  int64_t identical = 0;       // same receipts, byte for byte
  int64_t not_replayable = 0;  // refused messages whose bytes were over the limit (not kept)
  // A message whose receipts differ: its guid and type, and its first differing receipt before
  // and after ("CEB622:300 for <list guid>").
  struct Difference {
    std::string guid, type, before, after, reason_after;
  };
  std::vector<Difference> differences;  // the first 100
  int64_t differing = 0;
  // Final inventory-list decisions (CEB622 last status per list), before -> after: count.
  std::map<std::pair<std::string, std::string>, int64_t> decision_changes;
  std::vector<std::string> rules_versions;  // the versions the replay used, in order
};

StatusOr<ReplayReport> Replay(const ReplayOptions& options);

// The report as text for people (the `kuajing replay` output).
std::string FormatReport(const ReplayReport& r, bool what_if);

}  // namespace kuajing::app
