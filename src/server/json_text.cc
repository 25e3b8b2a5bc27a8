#include "server/json_text.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

// The bytes of the 8 in `w` that need an escape: below 0x20, '"' or '\\' (the classic SWAR tests
// for a zero byte and for a byte below n; bytes of 0x80 and above never match), each as its high
// bit. Exact for the lowest such byte (a borrow only runs upwards from a byte that matched), which
// is all the caller looks at; little-endian, so that is the first byte in memory.
uint64_t EscapeMask(uint64_t w) {
  constexpr uint64_t kOnes = ~uint64_t{0} / 255, kHighs = kOnes * 0x80;
  const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  const uint64_t below_space = (w - kOnes * 0x20) & ~w;
  const uint64_t is_quote = (quote - kOnes) & ~quote;
  const uint64_t is_backslash = (backslash - kOnes) & ~backslash;
  return (below_space | is_quote | is_backslash) & kHighs;
}
static_assert(std::endian::native == std::endian::little, "EscapeMask's first byte is the lowest");

// Writes the escape of `c` (one that needs it) at `p`; returns the end.
char* WriteEscape(char* p, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  *p++ = '\\';
  *p++ = kEscape[c];
  if (kEscape[c] == 'u') {
    *p++ = '0';
    *p++ = '0';
    *p++ = kHex[c >> 4];
    *p++ = kHex[c & 15];
  }
  return p;
}

// A JSON number: an integer's decimal digits.
void AppendJsonInt(std::string& out, int64_t v) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, v).ptr);
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  // Written a chunk at a time through a buffer on the stack, then appended whole: each escape (the
  // quotes of a receipt's declaration and attributes, its newlines) ended a run appended to the
  // string on its own, most of the cost (bench/README.md, "Issue 7").
  constexpr size_t kChunk = 512;  // input bytes per round; each becomes at most 6 ("\u00xx")
  char buf[kChunk * 6 + 16];      // + 16: sixteen bytes are written where fewer may count
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const size_t end = std::min(s.size(), i + kChunk);
    char* p = buf;
#ifdef __SSE2__
    // Sixteen bytes at a time where the machine has SSE2 (every x86-64): a compare for each kind
    // of escape, the same logic as the eight below, half the instructions a byte.
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                  below_space = _mm_set1_epi8(0x1f);
    while (i + 16 <= end) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
      const __m128i hits =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                       _mm_cmpeq_epi8(_mm_min_epu8(v, below_space), v));  // v <= 0x1f, unsigned
      const auto escapes = static_cast<unsigned>(_mm_movemask_epi8(hits));
      if (escapes == 0) {
        p += 16;
        i += 16;
        continue;
      }
      const auto before = static_cast<size_t>(std::countr_zero(escapes));
      p = WriteEscape(p + before, static_cast<unsigned char>(s[i + before]));
      i += before + 1;
    }
#endif
    // Eight bytes at a time: all of them if none needs an escape (most of a receipt's XML), else
    // those before the first that does, then its escape.
    while (i + 8 <= end) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      std::memcpy(p, &w, 8);
      const uint64_t escapes = EscapeMask(w);
      if (escapes == 0) {
        p += 8;
        i += 8;
        continue;
      }
      const auto before = static_cast<size_t>(std::countr_zero(escapes) >> 3);
      p = WriteEscape(p + before, static_cast<unsigned char>(s[i + before]));
      i += before + 1;
    }
    for (; i < end; ++i) {  // the last few
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 128 || kEscape[c] == 0) {
        *p++ = static_cast<char>(c);
      } else {
        p = WriteEscape(p, c);
      }
    }
    out.append(buf, static_cast<size_t>(p - buf));
  }
  out.push_back('"');
}

void AppendAccessLogLine(std::string& out, const AccessLogEntry& e) {
  out.append("{\"time_cst\":");
  AppendJsonString(out, e.time_cst);
  out.append(",\"event\":\"http\",\"method\":");
  AppendJsonString(out, e.method);
  out.append(",\"path\":");
  AppendJsonString(out, e.path);
  out.append(",\"status\":");
  AppendJsonInt(out, e.status);
  out.append(",\"us\":");
  AppendJsonInt(out, e.us);
  out.append(",\"ip\":");
  AppendJsonString(out, e.ip);
  out.append(",\"who\":");
  AppendJsonString(out, e.who);
  out.push_back('}');
}

namespace {
// The receipt's object up to and after its "xml" value, the value written by `xml` (none if it
// writes nothing: the brief form).
template <typename WriteXml>
void AppendReceiptJsonWith(std::string& out, const storage::StoredReceipt& r, const WriteXml& xml) {
  out.append("{\"type\":");
  AppendJsonString(out, r.type);
  out.append(",\"status\":");
  AppendJsonString(out, r.status);
  out.append(",\"answers\":");
  AppendJsonString(out, r.answers_guid);
  xml();
  if (r.id != 0) {
    out.append(",\"id\":");
    AppendJsonInt(out, r.id);
  }
  out.push_back('}');
}
}  // namespace

void AppendReceiptJson(std::string& out, const storage::StoredReceipt& r, std::string_view xml) {
  AppendReceiptJsonWith(out, r, [&] {
    out.append(",\"xml\":");
    AppendJsonString(out, xml);
  });
}

void AppendBriefReceiptJson(std::string& out, const storage::StoredReceipt& r) {
  AppendReceiptJsonWith(out, r, [&] {
    // The customs list number, which a sender needs to cancel or return the list, without
    // reading the feed for it.
    if (const std::string_view invt_no = storage::ReceiptInvtNo(r); !invt_no.empty()) {
      out.append(",\"invtNo\":");
      AppendJsonString(out, invt_no);
    }
  });
}

Status AppendPackedReceiptJson(std::string& out, const storage::StoredReceipt& r) {
  Status st;
  AppendReceiptJsonWith(out, r, [&] {
    out.append(",\"xml\":\"");
    st = storage::AppendReceiptXmlAsJsonText(out, r);
    out.push_back('"');
  });
  return st;
}

size_t ReceiptJsonSizeHint(const storage::StoredReceipt& r) {
  const size_t xml = r.xml.empty() ? r.packed.size() * kPackedToXml : r.xml.size();
  return 96 + r.type.size() + r.status.size() + r.answers_guid.size() + xml + xml / 32;
}

size_t BriefReceiptJsonSizeHint(const storage::StoredReceipt& r) {
  return 112 + r.type.size() + r.status.size() + r.answers_guid.size();
}

}  // namespace kuajing::server
