#include "common/civil_time.h"

#include <cstdint>
#include <cstdio>

namespace kuajing {

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

struct Civil {
  int y, m, d, hh, mm, ss, ms;
};

Civil ToCivil(int64_t unix_ms) {
  const int64_t days = CstDay(unix_ms);
  const int64_t rem = unix_ms + kCstOffsetMillis - days * kMillisPerDay;
  const CivilDate date = CivilFromDays(days);
  Civil c{};
  c.y = static_cast<int>(date.y);
  c.m = date.m;
  c.d = date.d;
  c.hh = static_cast<int>(rem / 3'600'000);
  c.mm = static_cast<int>(rem / 60'000 % 60);
  c.ss = static_cast<int>(rem / 1000 % 60);
  c.ms = static_cast<int>(rem % 1000);
  return c;
}

}  // namespace

CivilDate CivilFromDays(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int64_t>(yoe) + era * 400 + (m <= 2), static_cast<int>(m),
                   static_cast<int>(doy - (153 * mp + 2) / 5 + 1)};
}

int64_t CstDay(int64_t unix_ms) {
  const int64_t local = unix_ms + kCstOffsetMillis;
  return local >= 0 ? local / kMillisPerDay : (local - kMillisPerDay + 1) / kMillisPerDay;
}

int64_t CstMonthIndex(int64_t unix_ms) {
  const CivilDate c = CivilFromDays(CstDay(unix_ms));
  return c.y * 12 + c.m - 1;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> ParseAppTime(std::string_view s) {
  if (s.size() != 14) return std::nullopt;
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, &y) || !Digits(s, 4, 2, &mo) || !Digits(s, 6, 2, &d) ||
      !Digits(s, 8, 2, &h) || !Digits(s, 10, 2, &mi) || !Digits(s, 12, 2, &se)) {
    return std::nullopt;
  }
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 ||
      se > 59) {
    return std::nullopt;
  }
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return days * kMillisPerDay + (h * 3600LL + mi * 60LL + se) * 1000 - kCstOffsetMillis;
}

std::optional<int64_t> ParseDate8(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  std::string full(s);
  full += "000000";
  return ParseAppTime(full);
}

namespace {

// "yyyyMMddHHmmss" and, with `ms`, "fff": the digits written directly (every receipt carries a
// returnTime, and snprintf's parsing of its format was 3 % of the single writer's time); a year
// outside 0-9999 goes through snprintf, which writes it as "%04d" does.
std::string FormatCivil(int64_t unix_ms, bool ms) {
  const Civil c = ToCivil(unix_ms);
  char buf[32];
  if (c.y < 0 || c.y > 9999) {
    const int n = ms ? std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d%03d", c.y, c.m, c.d,
                                     c.hh, c.mm, c.ss, c.ms)
                     : std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", c.y, c.m, c.d,
                                     c.hh, c.mm, c.ss);
    return std::string(buf, static_cast<size_t>(n));
  }
  char* p = buf;
  auto put = [&p](int v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
    p += width;
  };
  put(c.y, 4);
  put(c.m, 2);
  put(c.d, 2);
  put(c.hh, 2);
  put(c.mm, 2);
  put(c.ss, 2);
  if (ms) put(c.ms, 3);
  return std::string(buf, static_cast<size_t>(p - buf));
}

}  // namespace

std::string FormatAppTime(int64_t unix_ms) { return FormatCivil(unix_ms, false); }

void AssignReturnTime(std::string& out, int64_t unix_ms) {
  // The receipts of one message all carry the time it was received: the last time written is
  // kept, per thread (the calendar arithmetic was 2.6 % of the engine's instructions).
  thread_local int64_t last_ms = INT64_MIN;
  thread_local std::string last;
  if (unix_ms != last_ms || last.empty()) {
    last = FormatCivil(unix_ms, true);
    last_ms = unix_ms;
  }
  out.assign(last);
}

std::string FormatReturnTime(int64_t unix_ms) {
  std::string out;
  AssignReturnTime(out, unix_ms);
  return out;
}

std::string FormatDate8(int64_t unix_ms) { return FormatAppTime(unix_ms).substr(0, 8); }

int CstYear(int64_t unix_ms) { return ToCivil(unix_ms).y; }

}  // namespace kuajing
