#include "common/decimal.h"

#include <cassert>
#include <limits>

namespace kuajing {

namespace {
bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
void SetWhy(std::string* why, const char* text) {
  if (why != nullptr) *why = text;
}
}  // namespace

std::optional<Decimal> Decimal::Parse(std::string_view s, std::string* why) {
  while (!s.empty() && IsXmlSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsXmlSpace(s.back())) s.remove_suffix(1);
  if (s.empty()) return SetWhy(why, "empty number"), std::nullopt;
  bool negative = false;
  if (s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  unsigned __int128 value = 0;
  int int_digits = 0, frac_digits = 0, total_digits = 0;
  bool seen_point = false;
  for (char c : s) {
    if (c == '.') {
      if (seen_point) return SetWhy(why, "two decimal points"), std::nullopt;
      seen_point = true;
      continue;
    }
    if (c < '0' || c > '9') return SetWhy(why, "not a plain decimal number"), std::nullopt;
    if (seen_point) {
      if (++frac_digits > 5) return SetWhy(why, "more than 5 fraction digits"), std::nullopt;
    } else {
      ++int_digits;
    }
    // Leading zeros do not count toward totalDigits.
    if (total_digits > 0 || c != '0' || seen_point) ++total_digits;
    if (total_digits > 19) return SetWhy(why, "more than 19 digits"), std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (int_digits == 0 && frac_digits == 0) return SetWhy(why, "no digits"), std::nullopt;
  for (int i = frac_digits; i < 5; ++i) value *= 10;
  if (value > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max())) {
    return SetWhy(why, "too large"), std::nullopt;
  }
  auto v = static_cast<int64_t>(value);
  return Decimal{negative ? -v : v};
}

std::string Decimal::ToString() const {
  const bool neg = e5 < 0;
  // Work in unsigned to format INT64_MIN safely.
  uint64_t abs = neg ? (~static_cast<uint64_t>(e5) + 1) : static_cast<uint64_t>(e5);
  std::string out = std::to_string(abs / kScale);
  uint64_t frac = abs % kScale;
  if (frac != 0) {
    char buf[6];
    for (int i = 4; i >= 0; --i) {
      buf[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    int len = 5;
    while (len > 0 && buf[len - 1] == '0') --len;
    out.push_back('.');
    out.append(buf, static_cast<size_t>(len));
  }
  return neg ? "-" + out : out;
}

std::string Decimal::ToMoneyString() const {
  const bool neg = e5 < 0;
  uint64_t abs = neg ? (~static_cast<uint64_t>(e5) + 1) : static_cast<uint64_t>(e5);
  uint64_t fen = (abs + kFen / 2) / kFen;  // display only; tax amounts are already whole fen
  std::string out = std::to_string(fen / 100);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + (fen / 10) % 10));
  out.push_back(static_cast<char>('0' + fen % 10));
  return neg ? "-" + out : out;
}

int64_t RoundHalfUpToFenE5(__int128 num, __int128 den) {
  assert(num >= 0 && den > 0);
  const __int128 fen_den = den * Decimal::kFen;
  const __int128 fen = (num * 2 + fen_den) / (fen_den * 2);
  return static_cast<int64_t>(fen * Decimal::kFen);
}

}  // namespace kuajing
