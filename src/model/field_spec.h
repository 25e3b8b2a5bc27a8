// FieldSpec: the facets of one element of the CEB standard, as the XSD states them.
#pragma once

#include <cstdint>

namespace kuajing::model {

enum class FieldKind : uint8_t {
  kText,     // xs:string with length / minLength / maxLength (counted in characters)
  kDecimal,  // xs:decimal totalDigits=19 fractionDigits=5 (N19,5)
  kInt,      // xs:int
};

struct FieldSpec {
  const char* name;  // element local name, e.g. "orderNo"
  FieldKind kind;
  uint32_t min_len;  // text: minimum characters (length facet => min == max)
  uint32_t max_len;  // text: maximum characters; numbers: total digits
  bool required;     // minOccurs = 1
};

}  // namespace kuajing::model
