// Validates XML against the vendored CEB import schema (spec/xsd/import-202205.xsd) with libxml2.
#pragma once

#include <string>
#include <string_view>

namespace kuajing::testing {

// Returns an empty string if `xml` is valid, else libxml2's first errors.
std::string ValidateAgainstImportXsd(std::string_view xml);

}  // namespace kuajing::testing
