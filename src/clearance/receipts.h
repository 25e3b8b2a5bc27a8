// Builders of the standard's receipts (import CEB312 ... CEB712, CEB816, CEB818, CEB900; export
// CEB304 ... CEB702).
//
// A receipt carries the guid of the declaration it answers, so that an enterprise can match it,
// and the business keys the XSD asks for. Required receipt fields that the declaration left empty
// are written as "无" (the standard's own word for "none") so the receipt stays schema-valid.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "clearance/tax.h"
#include "model/documents.h"

namespace kuajing::clearance {

// Returns the receipt answering `declaration` (any declaration record, import or export; an
// export receipt copies the keys of its declaration under the same element names).
// `info` is cut to the schema's 1000 characters on a UTF-8 boundary.
model::Record MakeReceipt(model::RecordRef declaration, std::string_view status,
                          std::string_view info, int64_t now_ms, std::string_view pre_no = {},
                          std::string_view invt_no = {});
inline model::Record MakeReceipt(const model::Record& declaration, std::string_view status,
                                 std::string_view info, int64_t now_ms,
                                 std::string_view pre_no = {}, std::string_view invt_no = {}) {
  return MakeReceipt(model::RefOf(declaration), status, info, now_ms, pre_no, invt_no);
}

// MakeReceipt's receipt packed (codec::PackRecord), appended to `out`: the same bytes, made
// without a Record (the engines' answers go straight into their packed form).
void AppendPackedReceipt(std::string& out, model::RecordRef declaration, std::string_view status,
                         std::string_view info, int64_t now_ms, std::string_view pre_no = {},
                         std::string_view invt_no = {});

// The complete message of a receipt the engines emitted (codec::Encode of one record), under a
// guid of its own derived from its type, the guid it answers, its status and its time, so that a
// replay, or rendering the record again later, writes the same bytes.
std::string ReceiptMessageXml(model::MessageType type, std::string_view answers_guid,
                              std::string_view status, const model::Record& record);
// The same appended to `out` as the text of a JSON string (codec::AppendOneAsJsonText).
void AppendReceiptMessageJsonText(std::string& out, model::MessageType type,
                                  std::string_view answers_guid, std::string_view status,
                                  const model::Record& record);

// CEB816 electronic tax bill for a released inventory. Status 1 = generated (已生成).
model::Tax MakeTaxBill(const model::Inventory& inv, const TaxAssessment& tax,
                       std::string_view invt_no, std::string_view tax_no, int64_t now_ms);

// The same packed (codec::PackRecord), appended to `out`, made in a bill kept per thread.
void AppendPackedTaxBill(std::string& out, const model::Inventory& inv, const TaxAssessment& tax,
                         std::string_view invt_no, std::string_view tax_no, int64_t now_ms);

// CEB818 tax bill status; status 3 = void (作废) after a cancellation or return.
model::TaxStatus MakeTaxStatus(const model::Inventory& inv, std::string_view invt_no,
                               std::string_view tax_no, std::string_view status, int64_t now_ms);

// CEB900 format-check receipt for a message that could not be read.
model::MessageReturn MakeFormatReceipt(std::string_view message_guid, std::string_view status,
                                       std::string_view info, std::string_view root_name,
                                       std::string_view raw, int64_t now_ms);

// The enterprise codes a declaration names, each once: who may read it and its receipts
// ("one declaration, many departments" within the rule that each sees only its own).
std::vector<std::string> PartiesOf(model::RecordRef declaration);
inline std::vector<std::string> PartiesOf(const model::Record& declaration) {
  return PartiesOf(model::RefOf(declaration));
}

// The first of PartiesOf(declaration) for which `accept` is true (a code inside the declaration),
// or null; without building the list (the credit record asks this of every declaration).
const std::string* FirstParty(model::RecordRef declaration,
                              const std::function<bool(const std::string&)>& accept);

// Cuts UTF-8 text to at most `max_chars` characters.
std::string CutUtf8(std::string_view text, size_t max_chars);

}  // namespace kuajing::clearance
