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
std::string FormatDate8(int64_t unix_ms);       // yyyyMMdd
int CstYear(int64_t unix_ms);

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace kuajing
