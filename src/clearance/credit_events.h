// How the clearance engines feed the credit book (docs/CREDIT.md): which enterprise a document's
// events are charged to, and which kind of event a refusal is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "clearance/engine.h"
#include "credit/credit.h"

namespace kuajing::clearance {

// The enterprise answerable for a declaration: the first party it names (PartiesOf: the
// platform for an order, the payment company for a payment, the carrier for a waybill, the
// declaring agent for a list, cancellation or return, the operator for an arrival or tally),
// if it is registered; else the sender if registered; else nobody (""), so that made-up codes
// never grow the book.
std::string ResponsibleParty(model::RecordRef declaration, std::string_view sender,
                             const reference::ReferenceData& ref);

// The kind of a refusal with returnStatus `status` of a declaration of type `declaration`.
credit::Event RejectionEvent(model::MessageType declaration, std::string_view status);

// Charges `e` for `declaration`; a no-op without a book.
void Charge(credit::Book* book, const reference::ReferenceData& ref, model::RecordRef declaration,
            std::string_view sender, credit::Event e, int64_t now_ms, std::string_view detail = {});
inline void Charge(credit::Book* book, const reference::ReferenceData& ref,
                   const model::Record& declaration, std::string_view sender, credit::Event e,
                   int64_t now_ms, std::string_view detail = {}) {
  Charge(book, ref, model::RefOf(declaration), sender, e, now_ms, detail);
}

// Moves the book's changed rows into a step's state changes (kinds credit, credit_change,
// credit_buyer), so they commit with the message that caused them.
void FlushCredit(credit::Book* book, std::vector<StateChange>* out);

}  // namespace kuajing::clearance
