#include "common/csv.h"

namespace kuajing {

int CsvTable::Column(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

StatusOr<CsvTable> ParseCsv(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  int line_no = 1, row_line = 1;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_row = [&] {
    end_field();
    if (!(row.size() == 1 && row[0].empty())) lines.push_back(std::move(row));
    row.clear();
    row_line = line_no + 1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_no;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n') {
      end_row();
      ++line_no;
    } else if (c != '\r') {
      field.push_back(c);
      field_started = true;
    }
  }
  if (quoted)
    return InvalidArgument("unterminated quote in the row starting at line " +
                           std::to_string(row_line));
  if (!field.empty() || !row.empty()) end_row();
  if (lines.empty()) return InvalidArgument("empty file: a header line is required");
  CsvTable t;
  t.header = std::move(lines[0]);
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].size() != t.header.size()) {
      return InvalidArgument("row " + std::to_string(i + 1) + " has " +
                             std::to_string(lines[i].size()) + " fields, the header has " +
                             std::to_string(t.header.size()));
    }
    t.rows.push_back(std::move(lines[i]));
  }
  return t;
}

}  // namespace kuajing
