// Civil time as the CEB standard writes it: China Standard Time (UTC+8, no daylight saving),
// "yyyyMMddHHmmss" (appTime), "yyyyMMdd" (declTime) and "yyyyMMddHHmmssSSS" (returnTime).
//
// kuajing keeps instants as milliseconds since the Unix epoch (UTC) and converts at the edges.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kuajing {

constexpr int64_t kMillisPerDay = 86'400'000;
constexpr int64_t kCstOffsetMillis = 8 * 3'600'000;

// Parses "yyyyMMddHHmmss" (14 digits) as CST; nullopt if not a valid calendar time.
std::optional<int64_t> ParseAppTime(std::string_view text);
// Parses "yyyyMMdd" (8 digits) as CST midnight.
std::optional<int64_t> ParseDate8(std::string_view text);
std::string FormatAppTime(int64_t unix_ms);     // yyyyMMddHHmmss
std::string FormatReturnTime(int64_t unix_ms);  // yyyyMMddHHmmssSSS
// The same assigned to `out` (its room kept: the receipts are filled this way).
void AssignReturnTime(std::string& out, int64_t unix_ms);
std::string FormatDate8(int64_t unix_ms);  // yyyyMMdd
int CstYear(int64_t unix_ms);

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), and back.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
struct CivilDate {
  int64_t y;
  int m, d;
};
CivilDate CivilFromDays(int64_t days);

// The CST calendar day of an instant, as days since 1970-01-01 (the day statistics and windows
// are kept by), and its month as year * 12 + month - 1.
int64_t CstDay(int64_t unix_ms);
int64_t CstMonthIndex(int64_t unix_ms);

}  // namespace kuajing
