#include "common/codes.h"

#include <string>

#include "common/civil_time.h"

namespace kuajing {

bool IsValidResidentId(std::string_view id) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  if (id.size() != 18) return false;
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    if (id[i] < '0' || id[i] > '9') return false;
    sum += (id[i] - '0') * kWeights[i];
  }
  char last = id[17] == 'x' ? 'X' : id[17];
  if (last != kCheck[sum % 11]) return false;
  return ParseDate8(id.substr(6, 8)).has_value();
}

bool IsValidUscc(std::string_view code) {
  static constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  static constexpr int kWeights[17] = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                       29, 25, 13, 8,  24, 10, 30, 28};
  if (code.size() != 18) return false;
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    size_t v = kAlphabet.find(code[i]);
    if (v == std::string_view::npos) return false;
    sum += static_cast<int>(v) * kWeights[i];
  }
  size_t check = kAlphabet.find(code[17]);
  return check != std::string_view::npos && static_cast<int>(check) == (31 - sum % 31) % 31;
}

bool IsValidEnterpriseCode(std::string_view code) {
  if (code.size() == 18) return IsValidUscc(code);
  if (code.size() != 10) return false;
  for (char c : code) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    if (!ok) return false;
  }
  return true;
}

}  // namespace kuajing
