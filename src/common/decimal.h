// Decimal: the standard's N19,5 number as an exact fixed-point integer of 1e-5 units.
//
// Money, quantities and weights are never doubles. The CEB standard writes decimals with up to 19
// digits of which 5 are fractional (xs:decimal totalDigits=19 fractionDigits=5). kuajing keeps
// them as int64 counts of 0.00001; that holds every value up to 92,233,720,368,547.75807, which
// covers every real amount. Larger values are rejected by Parse with a reason, never wrapped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kuajing {

struct Decimal {
  static constexpr int64_t kScale = 100000;  // 1e5: five fraction digits
  static constexpr int64_t kFen = 1000;      // 0.01 in e5 units

  int64_t e5 = 0;

  static constexpr Decimal FromE5(int64_t v) { return Decimal{v}; }
  static constexpr Decimal FromUnits(int64_t units) { return Decimal{units * kScale}; }
  static constexpr Decimal FromFen(int64_t fen) { return Decimal{fen * kFen}; }

  // Parses "123", "-4.5", "0.00001". Rejects exponents, '+', blanks inside, more than 5 fraction
  // digits, more than 19 digits in all, and values outside int64. Leading/trailing XML whitespace
  // is ignored (xs:decimal collapses it). Returns nullopt and sets *why on failure.
  static std::optional<Decimal> Parse(std::string_view text, std::string* why = nullptr);

  // Shortest exact text: 1000 -> "1000", 107.06 -> "107.06", never exponent notation.
  std::string ToString() const;
  // Always two fraction digits, for display of money: "107.06".
  std::string ToMoneyString() const;

  constexpr Decimal operator+(Decimal o) const { return {e5 + o.e5}; }
  constexpr Decimal operator-(Decimal o) const { return {e5 - o.e5}; }
  constexpr Decimal& operator+=(Decimal o) {
    e5 += o.e5;
    return *this;
  }
  constexpr Decimal& operator-=(Decimal o) {
    e5 -= o.e5;
    return *this;
  }
  constexpr auto operator<=>(const Decimal&) const = default;
  // The product cut to 5 fraction digits (toward zero), e.g. price x qty of a line; the caller
  // keeps the operands within N19,5 so the product fits.
  constexpr Decimal Times(Decimal o) const {
    return {static_cast<int64_t>(static_cast<__int128>(e5) * o.e5 / kScale)};
  }
};

// Rounds a non-negative rational amount num/den (in e5 units) half-up to the fen and returns e5.
// 四舍五入 to the fen, the rounding customs uses for tax amounts (see clearance/tax.h).
int64_t RoundHalfUpToFenE5(__int128 num, __int128 den);

}  // namespace kuajing
