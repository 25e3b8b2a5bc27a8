#include "server/json_text.h"

#include <charconv>
#include <cstdint>
#include <cstring>

namespace kuajing::server {

namespace {

// The escape of each byte below 0x20, '"' and '\\' (0: none), as boost::json writes them.
constexpr char kEscape[128] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u', 'u',  'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 0,   0,   '"', 0,    0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\', 0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
};

// Whether any of the 8 bytes in `w` needs an escape: below 0x20, '"' or '\\' (the classic
// SWAR tests for a zero byte and for a byte below n; bytes of 0x80 and above never match).
bool AnyToEscape(uint64_t w) {
  constexpr uint64_t kOnes = ~uint64_t{0} / 255, kHighs = kOnes * 0x80;
  const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  const uint64_t below_space = (w - kOnes * 0x20) & ~w;
  const uint64_t is_quote = (quote - kOnes) & ~quote;
  const uint64_t is_backslash = (backslash - kOnes) & ~backslash;
  return ((below_space | is_quote | is_backslash) & kHighs) != 0;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t run = 0;  // start of the bytes not yet appended, which need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    // Eight bytes at a time where none needs an escape: most of a receipt's XML.
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (AnyToEscape(w)) break;
      i += 8;
    }
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 128 || kEscape[c] == 0) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    out.push_back(kEscape[c]);
    if (kEscape[c] == 'u') {
      static constexpr char kHex[] = "0123456789abcdef";
      out.append("00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void AppendAccessLogLine(std::string& out, const AccessLogEntry& e) {
  char digits[24];
  out.append("{\"time_cst\":");
  AppendJsonString(out, e.time_cst);
  out.append(",\"event\":\"http\",\"method\":");
  AppendJsonString(out, e.method);
  out.append(",\"path\":");
  AppendJsonString(out, e.path);
  out.append(",\"status\":");
  out.append(digits, std::to_chars(digits, digits + sizeof digits, e.status).ptr);
  out.append(",\"us\":");
  out.append(digits, std::to_chars(digits, digits + sizeof digits, e.us).ptr);
  out.append(",\"ip\":");
  AppendJsonString(out, e.ip);
  out.append(",\"who\":");
  AppendJsonString(out, e.who);
  out.push_back('}');
}

void AppendReceiptJson(std::string& out, const storage::StoredReceipt& r, std::string_view xml) {
  out.append("{\"type\":");
  AppendJsonString(out, r.type);
  out.append(",\"status\":");
  AppendJsonString(out, r.status);
  out.append(",\"answers\":");
  AppendJsonString(out, r.answers_guid);
  out.append(",\"xml\":");
  AppendJsonString(out, xml);
  if (r.id != 0) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof(digits), r.id).ptr;
    out.append(",\"id\":");
    out.append(digits, end);
  }
  out.push_back('}');
}

size_t ReceiptJsonSizeHint(const storage::StoredReceipt& r) {
  const size_t xml = r.xml.empty() ? r.packed.size() * kPackedToXml : r.xml.size();
  return 96 + r.type.size() + r.status.size() + r.answers_guid.size() + xml + xml / 32;
}

}  // namespace kuajing::server
