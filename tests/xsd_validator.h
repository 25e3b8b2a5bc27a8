// Validates a CEB message against the vendored schema of its half of the standard
// (spec/xsd/import-202205.xsd or export-202205.xsd, chosen by the root element) with libxml2.
#pragma once

#include <string>
#include <string_view>

namespace kuajing::testing {

// Returns an empty string if `xml` is valid, else libxml2's first errors.
std::string ValidateAgainstCebXsd(std::string_view xml);

}  // namespace kuajing::testing
