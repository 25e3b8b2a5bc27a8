#include "stats/aggregates.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "common/civil_time.h"

namespace kuajing::stats {

int64_t DayOf(int64_t unix_ms) { return CstDay(unix_ms); }

Decimal NetLineValue(Decimal total, Decimal qty, Decimal returned) {
  if (returned.e5 == 0 || qty.e5 == 0) return total;
  return Decimal::FromE5(
      RoundHalfUpToFenE5(static_cast<__int128>(total.e5) * (qty - returned).e5, qty.e5));
}

std::optional<Decimal> GrowthPercent(Decimal now, Decimal base) {
  if (base.e5 == 0) return std::nullopt;
  // percent x 10, rounded half away from zero, then back to a decimal with one place.
  const __int128 num = static_cast<__int128>(now.e5 - base.e5) * 1000;
  const __int128 den = base.e5 < 0 ? -static_cast<__int128>(base.e5) : base.e5;
  const __int128 signed_num = base.e5 < 0 ? -num : num;
  const __int128 tenths =
      signed_num >= 0 ? (signed_num * 2 + den) / (2 * den) : -((-signed_num * 2 + den) / (2 * den));
  return Decimal::FromE5(static_cast<int64_t>(tenths) * (Decimal::kScale / 10));
}

int64_t SameDayLastYear(int64_t day) {
  const CivilDate c = CivilFromDays(day);
  const int64_t y = c.y - 1;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int d = c.m == 2 && c.d == 29 && !leap ? 28 : c.d;
  return DaysFromCivil(y, static_cast<unsigned>(c.m), static_cast<unsigned>(d));
}

namespace {

// year * 12 + month - 1 of a CST day, and back to the month's first day.
int64_t MonthIndex(int64_t day) {
  const CivilDate c = CivilFromDays(day);
  return c.y * 12 + c.m - 1;
}
int64_t FirstDay(int64_t month_index) {
  return DaysFromCivil(month_index / 12, static_cast<unsigned>(month_index % 12 + 1), 1);
}

}  // namespace

template <typename F>
void Aggregates::ForEachCell(uint8_t dir, int64_t from_day, int64_t to_day, F&& f) const {
  auto days = [&](int64_t a, int64_t b) {
    for (auto it = cells_.lower_bound(Key{a, 0, "", "", ""});
         it != cells_.end() && std::get<0>(it->first) <= b; ++it) {
      if (std::get<1>(it->first) == dir) f(it->first, it->second);
    }
  };
  if (from_day > to_day) return;
  int64_t m = MonthIndex(from_day);
  if (FirstDay(m) != from_day) {  // a partial first month
    const int64_t end = std::min(to_day, FirstDay(m + 1) - 1);
    days(from_day, end);
    from_day = end + 1;
    if (from_day > to_day) return;
  }
  const int64_t last = MonthIndex(to_day);
  if (FirstDay(last + 1) - 1 != to_day) {  // a partial last month
    const int64_t start = std::max(from_day, FirstDay(last));
    days(start, to_day);
    to_day = start - 1;
    if (from_day > to_day) return;
  }
  const int64_t m_to = MonthIndex(to_day);
  for (auto it = month_cells_.lower_bound(Key{MonthIndex(from_day), 0, "", "", ""});
       it != month_cells_.end() && std::get<0>(it->first) <= m_to; ++it) {
    if (std::get<1>(it->first) == dir) f(it->first, it->second);
  }
}

void Aggregates::Apply(const Contribution& c, int sign) {
  if (!c.counted) return;
  const auto dir = static_cast<uint8_t>(c.direction);
  auto add = [&](Decimal& d, Decimal v) { d = sign > 0 ? d + v : d - v; };
  const int64_t month = MonthIndex(c.day);
  for (const auto& [currency, value] : c.value) {
    for (auto* m : {&cells_, &month_cells_}) {
      const Key k{m == &cells_ ? c.day : month, dir, c.trade_mode, c.ebc, currency};
      Cell& cell = (*m)[k];
      add(cell.value, value);
      if (currency == c.main_currency) {
        cell.lists += sign;
        add(cell.tax, c.tax);
      }
      // A cell back at zero goes, so that sums built in any order compare equal.
      if (cell == Cell{}) m->erase(k);
    }
  }
  if (c.clearance_ms >= 0) {
    auto key = std::make_pair(c.day, dir);
    auto& h = clearance_[key];
    h[ClearanceBucket(c.clearance_ms)] += sign;
    if (h == std::array<int64_t, kClearanceBuckets>{}) clearance_.erase(key);
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

size_t ClearanceBucket(int64_t clearance_ms) {
  const int64_t seconds = std::max<int64_t>(0, clearance_ms) / 1000;
  size_t b = 0;
  while (b < kClearanceBoundsSeconds.size() && seconds >= kClearanceBoundsSeconds[b]) ++b;
  return b;
}

size_t QuotaBucket(Decimal used) {
  size_t b = 0;
  while (b < kQuotaBoundsYuan.size() && used.e5 >= kQuotaBoundsYuan[b] * Decimal::kScale) ++b;
  return b;
}

std::array<int64_t, kClearanceBuckets> Aggregates::ClearanceHistogram(int64_t from_day,
                                                                      int64_t to_day) const {
  std::array<int64_t, kClearanceBuckets> out{};
  for (auto it = clearance_.lower_bound({from_day, 0});
       it != clearance_.end() && it->first.first <= to_day; ++it) {
    for (size_t i = 0; i < kClearanceBuckets; ++i) out[i] += it->second[i];
  }
  return out;
}

void Aggregates::AddRefusal(int64_t day, const std::string& receipt_type,
                            const std::string& status) {
  auto key = std::make_tuple(day, receipt_type, status);
  ++refusals_[key];
  dirty_refusals_.insert(std::move(key));
}

std::vector<Aggregates::RefusalRow> Aggregates::Refusals(int64_t from_day, int64_t to_day) const {
  std::map<std::pair<std::string, std::string>, int64_t> sum;
  for (auto it = refusals_.lower_bound({from_day, "", ""});
       it != refusals_.end() && std::get<0>(it->first) <= to_day; ++it) {
    sum[{std::get<1>(it->first), std::get<2>(it->first)}] += it->second;
  }
  std::vector<RefusalRow> out;
  out.reserve(sum.size());
  for (const auto& [k, n] : sum) out.push_back(RefusalRow{k.first, k.second, n});
  std::stable_sort(out.begin(), out.end(),
                   [](const RefusalRow& a, const RefusalRow& b) { return a.count > b.count; });
  return out;
}

void Aggregates::TakeDirty(std::vector<StateRow>* out) {
  for (const auto& k : dirty_refusals_) {
    out->push_back(
        StateRow{"stats_refusal",
                 std::to_string(std::get<0>(k)) + "|" + std::get<1>(k) + "|" + std::get<2>(k),
                 std::to_string(refusals_.at(k)), false});
  }
  dirty_refusals_.clear();
}

Status Aggregates::Restore(const StateRow& row) {
  if (row.kind != "stats_refusal") return InvalidArgument("not a statistics row: " + row.kind);
  const size_t a = row.key.find('|');
  const size_t b = a == std::string::npos ? a : row.key.find('|', a + 1);
  if (b == std::string::npos) return InvalidArgument("bad refusal key: " + row.key);
  try {
    refusals_[{std::stoll(row.key.substr(0, a)), row.key.substr(a + 1, b - a - 1),
               row.key.substr(b + 1)}] = std::stoll(row.value);
  } catch (const std::exception&) {
    return InvalidArgument("bad refusal row: " + row.key);
  }
  return Status::Ok();
}

void Aggregates::MoveQuota(int year, Decimal before, Decimal after) {
  if (before == after) return;
  auto& h = quota_[year];
  if (before.e5 > 0) --h[QuotaBucket(before)];
  if (after.e5 > 0) ++h[QuotaBucket(after)];
}

std::array<int64_t, kQuotaBuckets> Aggregates::QuotaDistribution(int year) const {
  auto it = quota_.find(year);
  return it == quota_.end() ? std::array<int64_t, kQuotaBuckets>{} : it->second;
}

namespace {

// yyyymm of a CST day.
int64_t MonthOfDay(int64_t day) {
  const CivilDate c = CivilFromDays(day);
  return c.y * 100 + c.m;
}

}  // namespace

Aggregates::Totals Aggregates::Total(Direction d, int64_t from_day, int64_t to_day,
                                     const std::string& trade_mode) const {
  Totals t;
  const auto dir = static_cast<uint8_t>(d);
  const std::string* last_currency = nullptr;  // consecutive cells mostly share one
  Decimal* value = nullptr;
  ForEachCell(dir, from_day, to_day, [&](const Key& k, const Cell& c) {
    if (!trade_mode.empty() && std::get<2>(k) != trade_mode) return;
    const std::string& currency = std::get<4>(k);
    if (last_currency == nullptr || *last_currency != currency) {
      last_currency = &currency;
      value = &t.value[currency];
    }
    t.lists += c.lists;
    *value += c.value;
    t.tax += c.tax;
  });
  return t;
}

std::vector<std::pair<int64_t, Aggregates::Totals>> Aggregates::Series(
    Direction d, int64_t from_day, int64_t to_day, bool by_month,
    const std::string& trade_mode) const {
  std::map<int64_t, Totals> by;
  const auto dir = static_cast<uint8_t>(d);
  int64_t last_day = INT64_MIN, last_period = 0;
  for (auto it = cells_.lower_bound(Key{from_day, 0, "", "", ""});
       it != cells_.end() && std::get<0>(it->first) <= to_day; ++it) {
    if (std::get<1>(it->first) != dir) continue;
    if (!trade_mode.empty() && std::get<2>(it->first) != trade_mode) continue;
    const int64_t day = std::get<0>(it->first);
    if (day != last_day) {
      last_day = day;
      last_period = by_month ? MonthOfDay(day) : day;
    }
    Totals& t = by[last_period];
    t.lists += it->second.lists;
    t.value[std::get<4>(it->first)] += it->second.value;
    t.tax += it->second.tax;
  }
  return {by.begin(), by.end()};
}

std::vector<Aggregates::Row> Aggregates::Rank(const std::string& by, Direction d, int64_t from_day,
                                              int64_t to_day, const std::string& currency) const {
  std::map<std::string, Row> rows;
  const auto dir = static_cast<uint8_t>(d);
  if (by == "enterprise" || by == "tradeMode") {
    ForEachCell(dir, from_day, to_day, [&](const Key& key, const Cell& c) {
      if (std::get<4>(key) != currency) return;
      const std::string& k = by == "enterprise" ? std::get<3>(key) : std::get<2>(key);
      Row& r = rows[k];
      r.key = k;
      r.lists += c.lists;
      r.value += c.value;
    });
  } else if (by == "country" || by == "chapter") {
    const auto& m = by == "country" ? by_country_ : by_chapter_;
    for (auto it = m.lower_bound(LineKey{from_day, 0, "", ""});
         it != m.end() && std::get<0>(it->first) <= to_day; ++it) {
      if (std::get<1>(it->first) != dir || std::get<3>(it->first) != currency) continue;
      Row& r = rows[std::get<2>(it->first)];
      r.key = std::get<2>(it->first);
      r.value += it->second;
    }
  }
  std::vector<Row> out;
  for (auto& [k, r] : rows) out.push_back(std::move(r));
  std::stable_sort(out.begin(), out.end(),
                   [](const Row& a, const Row& b) { return a.value > b.value; });
  return out;
}

Aggregates::Summary Aggregates::Summarize(Direction d, int64_t from_day, int64_t to_day) const {
  Summary out;
  std::set<std::string_view> ebcs;
  const auto dir = static_cast<uint8_t>(d);
  // Consecutive cells mostly share a trade mode and a currency: keep the last targets.
  const std::string* last_mode = nullptr;
  Totals* mode_totals = nullptr;
  const std::string* last_currency = nullptr;
  Decimal* all_value = nullptr;
  Decimal* mode_value = nullptr;
  ForEachCell(dir, from_day, to_day, [&](const Key& k, const Cell& c) {
    const std::string& mode = std::get<2>(k);
    const std::string& currency = std::get<4>(k);
    if (last_mode == nullptr || *last_mode != mode) {
      last_mode = &mode;
      mode_totals = &out.by_mode[mode];
      last_currency = nullptr;
    }
    if (last_currency == nullptr || *last_currency != currency) {
      last_currency = &currency;
      all_value = &out.all.value[currency];
      mode_value = &mode_totals->value[currency];
    }
    out.all.lists += c.lists;
    out.all.tax += c.tax;
    *all_value += c.value;
    mode_totals->lists += c.lists;
    mode_totals->tax += c.tax;
    *mode_value += c.value;
    if (c.lists > 0) ebcs.insert(std::get<3>(k));
  });
  out.active_enterprises = ebcs.size();
  return out;
}

size_t Aggregates::ActiveEnterprises(Direction d, int64_t from_day, int64_t to_day) const {
  std::set<std::string> ebcs;
  const auto dir = static_cast<uint8_t>(d);
  ForEachCell(dir, from_day, to_day, [&](const Key& k, const Cell& c) {
    if (c.lists > 0) ebcs.insert(std::get<3>(k));
  });
  return ebcs.size();
}

namespace {

// One writer and one reader per type of key and value, so that SaveTo and LoadFrom list the maps
// in the same order and cannot disagree on a field.
void Put(std::string& out, int64_t v) { PutSigned(out, v); }
void Put(std::string& out, int v) { PutSigned(out, v); }
void Put(std::string& out, uint8_t v) { PutVarint(out, v); }
void Put(std::string& out, const std::string& v) { PutText(out, v); }
void Put(std::string& out, Decimal v) { PutSigned(out, v.e5); }
void Put(std::string& out, const Aggregates::Cell& c) {
  Put(out, c.lists);
  Put(out, c.value);
  Put(out, c.tax);
}
template <typename... T>
void Put(std::string& out, const std::tuple<T...>& t) {
  std::apply([&](const auto&... x) { (Put(out, x), ...); }, t);
}
template <typename A, typename B>
void Put(std::string& out, const std::pair<A, B>& p) {
  Put(out, p.first);
  Put(out, p.second);
}
template <typename T, size_t N>
void Put(std::string& out, const std::array<T, N>& a) {
  for (const T& x : a) Put(out, x);
}
template <typename K, typename V>
void Put(std::string& out, const std::map<K, V>& m) {
  PutVarint(out, m.size());
  for (const auto& [k, v] : m) {
    Put(out, k);
    Put(out, v);
  }
}

void Get(VarintReader& in, int64_t& v) { v = in.Signed(); }
void Get(VarintReader& in, int& v) { v = static_cast<int>(in.Signed()); }
void Get(VarintReader& in, uint8_t& v) { v = static_cast<uint8_t>(in.Varint()); }
void Get(VarintReader& in, std::string& v) { in.Text(v); }
void Get(VarintReader& in, Decimal& v) { v.e5 = in.Signed(); }
void Get(VarintReader& in, Aggregates::Cell& c) {
  Get(in, c.lists);
  Get(in, c.value);
  Get(in, c.tax);
}
template <typename... T>
void Get(VarintReader& in, std::tuple<T...>& t) {
  std::apply([&](auto&... x) { (Get(in, x), ...); }, t);
}
template <typename A, typename B>
void Get(VarintReader& in, std::pair<A, B>& p) {
  Get(in, p.first);
  Get(in, p.second);
}
template <typename T, size_t N>
void Get(VarintReader& in, std::array<T, N>& a) {
  for (T& x : a) Get(in, x);
}
template <typename K, typename V>
void Get(VarintReader& in, std::map<K, V>& m) {
  m.clear();
  for (size_t n = in.Count(); n > 0 && in.ok(); --n) {
    std::pair<K, V> e;
    Get(in, e.first);
    Get(in, e.second);
    // Written in key order: each key after the one before, or not ours.
    if (!m.empty() && !(m.rbegin()->first < e.first)) return in.MarkBad();
    m.emplace_hint(m.end(), std::move(e));
  }
}

}  // namespace

void Aggregates::SaveTo(std::string& out) const {
  Put(out, cells_);
  Put(out, month_cells_);
  Put(out, by_country_);
  Put(out, by_chapter_);
  Put(out, clearance_);
  Put(out, refusals_);
  Put(out, quota_);
}

void Aggregates::LoadFrom(VarintReader& in) {
  Get(in, cells_);
  Get(in, month_cells_);
  Get(in, by_country_);
  Get(in, by_chapter_);
  Get(in, clearance_);
  Get(in, refusals_);
  Get(in, quota_);
  dirty_refusals_.clear();
}

}  // namespace kuajing::stats
