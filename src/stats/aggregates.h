// The statistics monitoring system's aggregates (统计监测, docs/METRICS.md): the cleared lists'
// value, count and tax by day, direction, trade mode, enterprise, currency, country and HS chapter,
// kept up to date as lists are released, cancelled and returned — never a rescan per query.
//
// The clearance engines apply each list's change as the difference of its net contribution before
// and after (Contribution); at start the platform rebuilds the same sums from the stored lists, so
// the aggregates need no storage of their own and a recount from the lists must equal them
// (tests/integration/stats_test.cc).
//
// Thread safety: not thread-safe; written by the store's writer, read under the platform's lock.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/decimal.h"
#include "common/status.h"
#include "common/varint.h"

namespace kuajing::stats {

enum class Direction : uint8_t { kImport = 0, kExport = 1 };

// One line's part of a cleared list: its goods value net of returns, in its currency.
struct LineValue {
  std::string country;   // import: origin; export: final destination
  std::string chapter;   // the first 2 digits of gcode
  std::string currency;  // the standard's code: 142 CNY, 502 USD, ...
  Decimal value;
};

// What one list adds to the aggregates now (all zero if it is not a cleared list).
struct Contribution {
  Direction direction = Direction::kImport;
  int64_t day = 0;  // the CST day of the release, days since 1970-01-01
  std::string trade_mode, ebc;
  bool counted = false;  // a cleared list (a full return or a cancellation makes it false)
  // Import: the dutiable price net of returns, CNY ("142"). Export: the lines' value per currency.
  std::map<std::string, Decimal> value;
  Decimal tax;  // import: the tax bill in force
  std::vector<LineValue> lines;
  // The currency a list is counted under (the first line's, "142" for imports).
  std::string main_currency;
  // Import: milliseconds from the clearance's first document to the release (docs/METRICS.md,
  // "Clearance time"); -1 when not measured (exports).
  int64_t clearance_ms = -1;
};

// The clearance-time histogram's upper bounds in seconds (the last bucket is everything above
// 72 h): "within 10 seconds" and "within 10 minutes" are the marks zones advertise.
inline constexpr std::array<int64_t, 7> kClearanceBoundsSeconds = {10,    60,    600,   3600,
                                                                   21600, 86400, 259200};
inline constexpr size_t kClearanceBuckets = kClearanceBoundsSeconds.size() + 1;
size_t ClearanceBucket(int64_t clearance_ms);

// The quota distribution's upper bounds in CNY (exclusive); the last bucket is 26,000 and over
// (the annual limit reached).
inline constexpr std::array<int64_t, 6> kQuotaBoundsYuan = {1000, 2000, 5000, 10000, 20000, 26000};
inline constexpr size_t kQuotaBuckets = kQuotaBoundsYuan.size() + 1;
size_t QuotaBucket(Decimal used);

// A durable row of the aggregates that cannot be rebuilt from the stored lists (the refusals):
// kind "stats_refusal", key "day|receipt type|status", value the count.
struct StateRow {
  std::string kind, key, value;
  bool erase = false;
};

// A line's value net of returns: total x (qty - returned) / qty, rounded half up to the fen
// (docs/METRICS.md, "Value, count, tax"); the total itself when nothing is returned.
Decimal NetLineValue(Decimal total, Decimal qty, Decimal returned);

// The CST day of a time, as Contribution::day.
int64_t DayOf(int64_t unix_ms);

// Growth of `now` over `base` in percent, rounded half up to 0.1 (docs/METRICS.md); nullopt when
// the base is zero ("—").
std::optional<Decimal> GrowthPercent(Decimal now, Decimal base);

// The same CST day one year earlier (29 February goes to 28 February).
int64_t SameDayLastYear(int64_t day);

class Aggregates {
 public:
  // Adds (sign +1) or takes away (sign -1) a contribution.
  void Apply(const Contribution& c, int sign);
  // Replaces `before` with `after` (either may be empty: not counted).
  void Change(const Contribution& before, const Contribution& after) {
    Apply(before, -1);
    Apply(after, +1);
  }

  struct Cell {
    int64_t lists = 0;
    Decimal value, tax;
    bool operator==(const Cell&) const = default;
  };
  // day, direction, trade mode, ebcCode, currency
  using Key = std::tuple<int64_t, uint8_t, std::string, std::string, std::string>;
  // day, direction, country or chapter, currency
  using LineKey = std::tuple<int64_t, uint8_t, std::string, std::string>;

  // --- queries (docs/METRICS.md); days are inclusive, from <= to ---

  struct Totals {
    int64_t lists = 0;
    std::map<std::string, Decimal> value;  // currency -> value
    Decimal tax;
  };
  // The totals of a direction over [from_day, to_day], optionally of one trade mode.
  Totals Total(Direction d, int64_t from_day, int64_t to_day,
               const std::string& trade_mode = "") const;
  // Per day, or per month (key yyyymm), over [from_day, to_day]; only periods with data.
  std::vector<std::pair<int64_t, Totals>> Series(Direction d, int64_t from_day, int64_t to_day,
                                                 bool by_month,
                                                 const std::string& trade_mode = "") const;
  struct Row {
    std::string key;
    int64_t lists = 0;  // enterprise and trade mode only
    Decimal value;
  };
  // Value in `currency` by "enterprise", "tradeMode", "country" or "chapter", largest first (ties
  // by key). Empty for another `by`.
  std::vector<Row> Rank(const std::string& by, Direction d, int64_t from_day, int64_t to_day,
                        const std::string& currency) const;
  // One pass for the dashboard's headline: the totals, by trade mode, and the active enterprises.
  struct Summary {
    Totals all;
    std::map<std::string, Totals> by_mode;
    size_t active_enterprises = 0;
  };
  Summary Summarize(Direction d, int64_t from_day, int64_t to_day) const;
  // Distinct enterprises (ebcCode) with a cleared list in the period.
  size_t ActiveEnterprises(Direction d, int64_t from_day, int64_t to_day) const;

  // --- clearance time (imports): lists released per bucket over [from_day, to_day] by release day
  std::array<int64_t, kClearanceBuckets> ClearanceHistogram(int64_t from_day, int64_t to_day) const;

  // --- refusals: every receipt with a negative status (and every CEB900), by CST day
  void AddRefusal(int64_t day, const std::string& receipt_type, const std::string& status);
  struct RefusalRow {
    std::string receipt_type, status;
    int64_t count = 0;
  };
  // Most frequent first (ties by type and status).
  std::vector<RefusalRow> Refusals(int64_t from_day, int64_t to_day) const;
  // The changed refusal rows since the last call (to commit with the message that caused them).
  void TakeDirty(std::vector<StateRow>* out);
  Status Restore(const StateRow& row);

  // --- buyers' use of the annual amount: buyers per bucket of their year's total
  void MoveQuota(int year, Decimal before, Decimal after);
  std::array<int64_t, kQuotaBuckets> QuotaDistribution(int year) const;

  const std::map<Key, Cell>& cells() const { return cells_; }
  // The same cells summed per month (the key's first element is year * 12 + month - 1): queries
  // over whole months read these, twelve times fewer for a year.
  const std::map<Key, Cell>& month_cells() const { return month_cells_; }
  const std::map<LineKey, Decimal>& by_country() const { return by_country_; }
  const std::map<LineKey, Decimal>& by_chapter() const { return by_chapter_; }
  // Every sum as it is, for the engine's snapshot (app/snapshot.h); LoadFrom replaces them with
  // what SaveTo wrote and marks `in` bad if it is not that. Refusal rows not yet taken are not
  // part of it (a snapshot is made when everything is committed).
  void SaveTo(std::string& out) const;
  void LoadFrom(VarintReader& in);

  // Equal sums (what is pending to be written does not count).
  bool operator==(const Aggregates& o) const {
    return cells_ == o.cells_ && month_cells_ == o.month_cells_ && by_country_ == o.by_country_ &&
           by_chapter_ == o.by_chapter_ && clearance_ == o.clearance_ && refusals_ == o.refusals_ &&
           quota_ == o.quota_;
  }

 private:
  // Calls f(key, cell) for the cells of one direction over [from_day, to_day]: day cells for the
  // partial months at either end, month cells for the whole months between.
  template <typename F>
  void ForEachCell(uint8_t dir, int64_t from_day, int64_t to_day, F&& f) const;

  std::map<Key, Cell> cells_, month_cells_;
  std::map<LineKey, Decimal> by_country_, by_chapter_;
  std::map<std::pair<int64_t, uint8_t>, std::array<int64_t, kClearanceBuckets>> clearance_;
  std::map<std::tuple<int64_t, std::string, std::string>, int64_t> refusals_;
  std::set<std::tuple<int64_t, std::string, std::string>> dirty_refusals_;
  std::map<int, std::array<int64_t, kQuotaBuckets>> quota_;
};

}  // namespace kuajing::stats
