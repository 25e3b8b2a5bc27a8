#include "clearance/credit_events.h"

#include "clearance/receipts.h"
#include "clearance/rules.h"

namespace kuajing::clearance {

std::string ResponsibleParty(model::RecordRef declaration, std::string_view sender,
                             const reference::ReferenceData& ref) {
  if (const std::string* code = FirstParty(
          declaration, [&](const std::string& c) { return ref.FindEnterprise(c) != nullptr; }))
    return *code;
  if (!sender.empty() && ref.FindEnterprise(sender) != nullptr) return std::string(sender);
  return {};
}

credit::Event RejectionEvent(model::MessageType declaration, std::string_view status) {
  if (status == kInventoryMatchFailed || status == kExportMatchFailed)
    return credit::Event::kRejectedMismatch;
  if (status == kOverSingleLimit || status == kOverAnnualLimit)
    return credit::Event::kRejectedLimit;
  if (status == CodesFor(declaration).invalid) return credit::Event::kRejectedFormat;
  return credit::Event::kRejectedOther;
}

void Charge(credit::Book* book, const reference::ReferenceData& ref, model::RecordRef declaration,
            std::string_view sender, credit::Event e, int64_t now_ms, std::string_view detail) {
  if (book == nullptr || !book->config().enabled) return;
  const std::string who = ResponsibleParty(declaration, sender, ref);
  if (!who.empty()) book->Record(who, e, now_ms, model::RecordGuid(declaration), detail);
}

void FlushCredit(credit::Book* book, std::vector<StateChange>* out) {
  if (book == nullptr) return;
  std::vector<credit::Row> rows;
  book->TakeDirty(&rows);
  for (credit::Row& r : rows)
    out->push_back(StateChange{std::move(r.kind), std::move(r.key), std::move(r.value), r.erase});
}

}  // namespace kuajing::clearance
