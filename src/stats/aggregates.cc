#include "stats/aggregates.h"

#include "common/civil_time.h"

namespace kuajing::stats {

int64_t DayOf(int64_t unix_ms) {
  constexpr int64_t kCst = 8 * 3'600'000;
  const int64_t local = unix_ms + kCst;
  return local >= 0 ? local / kMillisPerDay : (local - kMillisPerDay + 1) / kMillisPerDay;
}

void Aggregates::Apply(const Contribution& c, int sign) {
  if (!c.counted) return;
  const auto dir = static_cast<uint8_t>(c.direction);
  auto add = [&](Decimal& d, Decimal v) { d = sign > 0 ? d + v : d - v; };
  for (const auto& [currency, value] : c.value) {
    const Key k{c.day, dir, c.trade_mode, c.ebc, currency};
    Cell& cell = cells_[k];
    add(cell.value, value);
    if (currency == c.main_currency) {
      cell.lists += sign;
      add(cell.tax, c.tax);
    }
    // A cell back at zero goes, so that sums built in any order compare equal.
    if (cell == Cell{}) cells_.erase(k);
  }
  for (const LineValue& l : c.lines) {
    for (auto* m : {&by_country_, &by_chapter_}) {
      const LineKey k{c.day, dir, m == &by_country_ ? l.country : l.chapter, l.currency};
      Decimal& d = (*m)[k];
      add(d, l.value);
      if (d.e5 == 0) m->erase(k);
    }
  }
}

}  // namespace kuajing::stats
