// The CEB XML codec: message bytes <-> model::Message.
//
// Both halves of the standard are read and written: import (xsd/import-202205.xsd) and export
// (xsd/export-202205.xsd). Tolerances, chosen because the official samples need them and nothing
// is lost by them (docs/EXPORT.md): a BaseTransfer repeated with identical content is read as one
// (most official export declaration samples repeat it; two that differ are refused); ExtendMessage
// and ds:Signature are accepted in either order (the import schema puts ExtendMessage first, the
// export schema the signature); the root "CEB214" without "Message" is read as CEB214Message.
//
// Reading is namespace-aware (an element belongs to the standard when its prefix resolves to
// http://www.chinaport.gov.cn/ceb, whatever the prefix is called, or when it sits in that default
// namespace) and strict about the schema's element order, names, lengths and number formats, the
// way the national system's schema check is. Problems are reported at two levels:
//   * the message as a whole cannot be read (not XML, not UTF-8, unknown root, too big, too many
//     records, no BaseTransfer): DecodeFailure, answered with a CEB900;
//   * one record has bad fields: the record is still returned with its FieldErrors, so that it gets
//     its own negative receipt while the other records of the message go on.
// Writing produces canonical XML in schema order with the `ceb:` prefix; written receipts
// validate against spec/xsd/import-202205.xsd or export-202205.xsd (tests check every written
// receipt with libxml2).
//
// Thread safety: stateless functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "model/documents.h"

namespace kuajing::codec {

inline constexpr std::string_view kCebNamespace = "http://www.chinaport.gov.cn/ceb";
inline constexpr std::string_view kDsNamespace = "http://www.w3.org/2000/09/xmldsig#";

// How to read: limits on untrusted input. The record and line limits are the schema's maxOccurs;
// the byte and delivery-line limits are kuajing's own (the schema leaves them unbounded).
struct DecodeOptions {
  size_t max_message_bytes = 8 << 20;  // 100 inventories of 99 lines fit in about 4 MiB
  int max_records = 100;               // maxOccurs of Order, Payment, Inventory, ...
  int max_lines = 99;  // maxOccurs of the import OrderList, InventoryList, InvtRefundList (the
                       // export ones allow 100, as their schema says)
  // DeliveryList, ArrivalList, DepartureList, WayBillList, SummaryApplyList and
  // SummaryResultList are unbounded in the XSD.
  int max_unbounded_lines = 10000;
  // Declarations from enterprises must carry BaseTransfer; kuajing's own stored copies of single
  // records do not.
  bool require_base_transfer = true;
};

// A problem with one element of one record.
struct FieldError {
  std::string path;    // e.g. "Inventory[2].InventoryList[1].qty"
  std::string reason;  // e.g. "longer than 60 characters (63)"
};

struct DecodedMessage {
  model::Message message;
  // errors[i] lists the field problems of message.records[i]; empty if the record is well formed.
  std::vector<std::vector<FieldError>> errors;
};

// Why a whole message could not be read. `status` is the CEB900 returnStatus: "-1" (0001 报文格式
// 错误: not XML, not UTF-8, too big) or "-2" (0002 数据包不能通过schema验证: unknown root, wrong
// namespace, missing parts, too many records).
struct DecodeFailure {
  std::string status;
  std::string info;          // what is wrong and what to do, for the declarant
  std::string root_name;     // e.g. "CEB621Message", or "Unknown"
  std::string message_guid;  // the root guid attribute if it could be read
};

using DecodeResult = std::variant<DecodedMessage, DecodeFailure>;

// Reads a message. Messages in the plain form enterprises' systems write are read straight from
// the bytes; anything else (comments, references, prefixes, errors of any kind) through pugixml's
// tree, which also gives every refusal its reason. Both give the same result for the same bytes.
DecodeResult Decode(std::string_view bytes, const DecodeOptions& limits = {});

// For tests and benchmarks: Decode through the tree alone, and through the direct reader alone
// (nothing if it gives the message up to the tree).
DecodeResult DecodeThroughTree(std::string_view bytes, const DecodeOptions& limits = {});
std::optional<DecodedMessage> DecodeDirectOnly(std::string_view bytes,
                                               const DecodeOptions& limits = {});

// Canonical XML of a message (declaration, root with namespaces, records in order, transport).
std::string Encode(const model::Message& message);
// The same for a message of one record and no BaseTransfer (a receipt), without building the
// Message around it.
std::string EncodeOne(model::MessageType type, std::string_view guid, const model::Record& record);
// The same appended to `out` as the text of a JSON string, without its quotes: the bytes a JSON
// writer (boost::json, server/json_text.h's AppendJsonString) puts between them for EncodeOne's
// result, written in one pass (the API shows each receipt's XML in a JSON string).
void AppendOneAsJsonText(std::string& out, model::MessageType type, std::string_view guid,
                         const model::Record& record);

// A compact binary form of one record, for the engines' state rows (not a CEB format; never
// shown to anyone). Every field in schema order: text as a varint length and its bytes, numbers
// as zigzag varints of their exact value, optional numbers behind a presence byte; lines behind
// their count. Starts with kPackedMagic (never '<', so stored rows tell it from the canonical
// XML that older stores hold) and its whole length, so packed records can be concatenated.
// About a tenth of Encode's cost (bench/README.md "Where the time goes").
inline constexpr char kPackedMagic = '\x01';
std::string PackRecord(const model::Record& record);
void AppendPacked(std::string& out, const model::Record& record);
// The same for one alternative of model::Record, without copying it into the variant
// (instantiated in pack.cc for every alternative).
template <typename R>
std::string PackRecordOf(const R& record);
// The same appended to `out` (a state row that holds fields and then records).
template <typename R>
void AppendPackedOf(std::string& out, const R& record);
// The length of the packed record at the front of `bytes` as its header states it (magic and
// length included), or 0 if `bytes` does not start with a whole header.
size_t PackedSize(std::string_view bytes);
// The text of the field `name` of the packed record's head (for a list, of InventoryHead; for a
// receipt, of the record itself), as a view into `packed`, found without unpacking the record:
// the intake answer's brief receipts read a receipt's invtNo so. nullopt if the record's kind has
// no text field of that name, or `packed` is not a whole packed record.
std::optional<std::string_view> PackedHeadText(std::string_view packed, std::string_view name);
// Reads one packed record from the front of `bytes`; `*consumed` is set to its length.
// Internal error on anything malformed (a damaged store), never undefined behaviour.
StatusOr<model::Record> UnpackRecord(std::string_view bytes, size_t* consumed = nullptr);
// The same into `out`, whose strings and lines keep their capacity where it already holds a
// record of the same kind (a thread's scratch record: no allocation per record read). `out` is
// unspecified after an error.
Status UnpackRecordInto(std::string_view bytes, model::Record& out, size_t* consumed = nullptr);
// The same for a record known to be an R (another kind is an Internal error), read over `out`
// without a variant to move it through (instantiated in pack.cc for every alternative).
template <typename R>
Status UnpackRecordOfInto(std::string_view bytes, R& out);

// Escapes text for XML element content.
void AppendEscaped(std::string& out, std::string_view text);

// Number of Unicode code points in valid UTF-8 text.
size_t Utf8Length(std::string_view text);
bool IsValidUtf8(std::string_view text);

}  // namespace kuajing::codec
