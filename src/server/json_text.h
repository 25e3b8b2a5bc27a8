// JSON text written straight into a string, for the answers the server sends by the thousand: an
// intake answer carries a receipt for each of up to thousands of documents, and building it as a
// boost::json value first (an object per receipt, each string copied in, then serialized into a
// string grown by zero-filled resizes) took three fifths of the thread that answers intake
// (bench/README.md, "Issue 7"). What these functions write is what boost::json::serialize writes
// for the same values, byte for byte (json_text_test.cc checks it), so clients see no change.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace kuajing::server {

// Appends `s` as a JSON string, quotes included, escaped as boost::json::serialize escapes (RFC
// 8259 section 7): '"' and '\\', control characters as \b \t \n \f \r or \u00xx; everything else,
// UTF-8 included, as it is.
void AppendJsonString(std::string& out, std::string_view s);

// Appends a receipt as the API shows it: {"type","status","answers","xml"} and, once numbered,
// "id" (docs/API.md); `xml` is its message (r.xml unless the caller rendered a packed receipt,
// storage::ReceiptXml).
void AppendReceiptJson(std::string& out, const storage::StoredReceipt& r, std::string_view xml);
inline void AppendReceiptJson(std::string& out, const storage::StoredReceipt& r) {
  AppendReceiptJson(out, r, r.xml);
}
// The same for a receipt kept only packed (the single writer leaves them so), its XML written
// straight into the JSON string (storage::AppendReceiptXmlAsJsonText) instead of written out and
// then escaped: the same bytes as AppendReceiptJson(out, r, *storage::ReceiptXml(r)). On an error
// (a damaged record) `out` holds a partial object: discard it.
Status AppendPackedReceiptJson(std::string& out, const storage::StoredReceipt& r);
// A receipt without its message, {"type","status","answers"}, "invtNo" where the receipt states
// one (storage::ReceiptInvtNo) and "id" once numbered: the intake answer's form when the sender
// prefers `return=minimal` (docs/API.md, "Answers"). Its message is in the feed under that id.
void AppendBriefReceiptJson(std::string& out, const storage::StoredReceipt& r);

// One line of the access log (docs/API.md, "Logs"): the object
// {"time_cst","event":"http","method","path","status","us","ip","who"}, as boost::json::serialize
// wrote it for the same values, without the newline. Written directly: building the object and
// serializing it was about a sixth of the thread that answers intake with one document per
// message (bench/README.md).
struct AccessLogEntry {
  std::string_view time_cst, method, path;
  unsigned status = 0;
  int64_t us = 0;
  std::string_view ip, who;
};
void AppendAccessLogLine(std::string& out, const AccessLogEntry& e);

// About what AppendReceiptJson writes for `r` (receipts escape a few quotes and a newline; a
// packed receipt's XML is counted as kPackedToXml times its packed bytes), for reserving: the
// string still grows if it is short. Generated traffic packs at 2.8 on average, but with 3 one
// answer in 16 wrote up to 15 % more than reserved and was moved (4.5 K of the syncer's
// instructions a clearance; bench/README.md). With 4, none of 1,920 answers at 1, 10 and 100
// documents per message wrote more than 95 % of its reservation.
inline constexpr size_t kPackedToXml = 4;
size_t ReceiptJsonSizeHint(const storage::StoredReceipt& r);
// The same for AppendBriefReceiptJson.
size_t BriefReceiptJsonSizeHint(const storage::StoredReceipt& r);

}  // namespace kuajing::server
