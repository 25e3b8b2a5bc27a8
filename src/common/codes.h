// Check digits of the identity codes that appear in CEB documents.
#pragma once

#include <string_view>

namespace kuajing {

// GB 11643-1999 citizen identity number: 18 characters, 17 digits then a check character
// "10X98765432"[sum(d_i * w_i) mod 11] with w = 7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2; the
// 8-digit birth date (positions 7-14) must be a real date. (domain-reference 6.2 [V])
bool IsValidResidentId(std::string_view id);

// GB 32100-2015 unified social credit code: 18 characters from 0-9 A-H J-N P-R T U W X Y,
// check character at position 18 = (31 - sum(v_i * w_i) mod 31) mod 31 with
// w = 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28. (domain-reference 6.2 [V])
bool IsValidUscc(std::string_view code);

// An enterprise code in a CEB document: the 10-character customs registration code (letters and
// digits) or the 18-character USCC (export XSD: "10位海关代码或者18位信用代码").
bool IsValidEnterpriseCode(std::string_view code);

}  // namespace kuajing
