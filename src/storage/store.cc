#include "storage/store.h"

#include "clearance/receipts.h"
#include "codec/codec.h"

namespace kuajing::storage {

namespace {
// Reads a packed receipt into this thread's scratch record (its strings keep their room from one
// receipt to the next: a receipt's record was a third of writing it out) and gives its type.
StatusOr<model::MessageType> UnpackReceipt(const StoredReceipt& r, model::Record** record) {
  thread_local model::Record scratch;
  size_t used = 0;
  KJ_RETURN_IF_ERROR(codec::UnpackRecordInto(r.packed, scratch, &used));
  const auto type = model::MessageTypeFromRoot(r.type + "Message");
  if (used != r.packed.size() || !type) {
    return Internal("receipt " + std::to_string(r.id) + " (" + r.type + ") is damaged");
  }
  *record = &scratch;
  return *type;
}
}  // namespace

StatusOr<std::string> ReceiptXml(const StoredReceipt& r) {
  if (!r.xml.empty() || r.packed.empty()) return r.xml;
  model::Record* record = nullptr;
  auto type = UnpackReceipt(r, &record);
  if (!type.ok()) return type.status();
  return clearance::ReceiptMessageXml(*type, r.answers_guid, r.status, *record);
}

Status AppendReceiptXmlAsJsonText(std::string& out, const StoredReceipt& r) {
  if (!r.xml.empty() || r.packed.empty()) return InvalidArgument("not a packed receipt");
  model::Record* record = nullptr;
  auto type = UnpackReceipt(r, &record);
  if (!type.ok()) return type.status();
  clearance::AppendReceiptMessageJsonText(out, *type, r.answers_guid, r.status, *record);
  return Status::Ok();
}

Status RenderReceipt(StoredReceipt& r) {
  if (!r.xml.empty() || r.packed.empty()) return Status::Ok();
  auto xml = ReceiptXml(r);
  if (!xml.ok()) return xml.status();
  r.xml = std::move(*xml);
  r.packed.clear();
  r.packed.shrink_to_fit();
  return Status::Ok();
}

StatusOr<std::vector<char>> Store::MessagesStored(const std::vector<std::string_view>& guids) {
  std::vector<char> out(guids.size(), 0);
  for (size_t i = 0; i < guids.size(); ++i) {
    auto seen = ReceiptsOfMessage(guids[i]);
    if (!seen.ok()) return seen.status();
    out[i] = seen->has_value() ? 1 : 0;
  }
  return out;
}

std::string_view ReceiptInvtNo(const StoredReceipt& r) {
  if (!r.packed.empty()) return codec::PackedHeadText(r.packed, "invtNo").value_or("");
  return ReceiptXmlInvtNo(r.xml);
}

std::string_view ReceiptXmlInvtNo(std::string_view xml) {
  constexpr std::string_view kOpen = "<ceb:invtNo>";
  const size_t at = xml.find(kOpen);
  if (at == std::string_view::npos) return {};
  const size_t from = at + kOpen.size(), to = xml.find('<', from);
  if (to == std::string_view::npos) return {};
  return xml.substr(from, to - from);
}

std::string_view ReceiptBody(const StoredReceipt& r) { return r.xml.empty() ? r.packed : r.xml; }

void SetReceiptBody(StoredReceipt& r, std::string&& body) {
  if (!body.empty() && body.front() == codec::kPackedMagic) {
    r.packed = std::move(body);
  } else {
    r.xml = std::move(body);
  }
}

}  // namespace kuajing::storage
