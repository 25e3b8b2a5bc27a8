// A small text form for stored rows: "key\tvalue" lines, an empty line, then whatever follows
// (a document, for the engines' rows). Tabs and newlines inside a value become spaces.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/decimal.h"

namespace kuajing {

using Fields = std::map<std::string, std::string>;

// Writes "key\tvalue\n" at `p` and returns the end. Tabs and newlines inside the value become
// spaces: one pass over the bytes, no growth checks (a push_back per byte was 2.4 k instructions
// per list's row, 4 % of the engine's).
inline char* PutField(char* p, std::string_view k, std::string_view v) {
  p = std::copy(k.begin(), k.end(), p);
  *p++ = '\t';
  p = std::transform(v.begin(), v.end(), p,
                     [](char c) { return c == '\n' || c == '\t' ? ' ' : c; });
  *p++ = '\n';
  return p;
}

// One "key\tvalue" line.
inline void AppendField(std::string& out, std::string_view k, std::string_view v) {
  const size_t at = out.size();
  out.resize(at + k.size() + v.size() + 2);
  PutField(out.data() + at, k, v);
}

inline std::string EncodeFields(const Fields& f) {
  std::string out;
  for (const auto& [k, v] : f) AppendField(out, k, v);
  out += '\n';
  return out;
}

// The same from (key, value) pairs in the order given, without building a map (the engines'
// state rows are written on the clearance path).
inline std::string EncodeFields(
    std::initializer_list<std::pair<std::string_view, std::string_view>> f) {
  size_t n = 1;
  for (const auto& [k, v] : f) n += k.size() + v.size() + 2;
  std::string out(n, '\n');
  char* p = out.data();
  for (const auto& [k, v] : f) p = PutField(p, k, v);
  return out;  // the last byte: the empty line's '\n'
}

// The same, line by line into `out` (numbers written in place, with no string made for each),
// then End() for the empty line; what follows it (a row's records) is appended after. The lines
// are EncodeFields' bytes for the same pairs.
class FieldWriter {
 public:
  explicit FieldWriter(std::string& out) : out_(out) {}
  FieldWriter& Text(std::string_view k, std::string_view v) {
    AppendField(out_, k, v);
    return *this;
  }
  FieldWriter& Int(std::string_view k, int64_t v) {
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    return Text(k, std::string_view(buf, static_cast<size_t>(end - buf)));
  }
  FieldWriter& Flag(std::string_view k, bool v) { return Text(k, v ? "1" : "0"); }
  void End() { out_ += '\n'; }

 private:
  std::string& out_;
};

// Splits "k\tv\n...\n\n<rest>" into the fields, as views into `text` in the order written, and
// the rest; no map and no copy: start-up reads every stored list's row with it (a few dozen
// fields each). A key written twice reads as the last.
class FieldsView {
 public:
  FieldsView(std::string_view text, std::string_view* rest) {
    while (!text.empty() && text.front() != '\n') {
      const size_t nl = text.find('\n');
      const std::string_view line = text.substr(0, nl);
      const size_t tab = line.find('\t');
      if (tab != std::string_view::npos)
        fields_.emplace_back(line.substr(0, tab), line.substr(tab + 1));
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    }
    *rest = text.empty() ? text : text.substr(1);
  }
  // The value of `key`, or empty when the row has no such field.
  std::string_view Get(std::string_view key) const {
    for (auto it = fields_.rbegin(); it != fields_.rend(); ++it) {
      if (it->first == key) return it->second;
    }
    return {};
  }
  const std::vector<std::pair<std::string_view, std::string_view>>& all() const { return fields_; }

 private:
  std::vector<std::pair<std::string_view, std::string_view>> fields_;
};

// The same as a map of copies.
inline Fields DecodeFields(std::string_view text, std::string_view* rest) {
  const FieldsView view(text, rest);
  Fields f;
  for (const auto& [k, v] : view.all()) f[std::string(k)] = v;
  return f;
}

inline int64_t ToInt(const FieldsView& f, const char* k) {
  const std::string_view v = f.Get(k);
  if (v.empty()) return 0;
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec == std::errc() && end == v.data() + v.size()) return n;
  return std::stoll(std::string(v));  // anything else as ToInt(Fields) reads it
}
inline std::string ToStr(const FieldsView& f, const char* k) { return std::string(f.Get(k)); }

inline int64_t ToInt(const Fields& f, const char* k) {
  auto it = f.find(k);
  return it == f.end() || it->second.empty() ? 0 : std::stoll(it->second);
}
inline std::string ToStr(const Fields& f, const char* k) {
  auto it = f.find(k);
  return it == f.end() ? std::string() : it->second;
}

// Per-line quantities as "1,2.5,0" and back.
inline std::string JoinDecimals(const std::vector<Decimal>& v) {
  std::string out;
  for (Decimal d : v) out += (out.empty() ? "" : ",") + d.ToString();
  return out;
}
inline std::vector<Decimal> SplitDecimals(std::string_view text) {
  std::vector<Decimal> out;
  for (size_t p = 0; !text.empty() && p != std::string_view::npos;) {
    size_t c = text.find(',', p);
    out.push_back(Decimal::Parse(text.substr(p, c - p)).value_or(Decimal{}));
    p = c == std::string_view::npos ? c : c + 1;
  }
  return out;
}

}  // namespace kuajing
