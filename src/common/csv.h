// A small RFC 4180 CSV reader for reference data (enterprises.csv, goods.csv).
// Quoted fields may hold commas, quotes ("") and newlines. UTF-8 text is passed through.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kuajing {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // Index of a header column, or -1.
  int Column(std::string_view name) const;
};

// Parses `text`. Fails with InvalidArgument naming the line on an unterminated quote or a row whose
// field count differs from the header. A UTF-8 byte-order mark and blank lines are ignored.
StatusOr<CsvTable> ParseCsv(std::string_view text);

}  // namespace kuajing
