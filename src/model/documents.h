// The documents and receipts of the CEB import standard, and the message that carries them.
//
// A CEB message (e.g. CEB621Message) carries 1..100 records of one kind plus transport data
// (BaseTransfer, BaseSubscribe, ExtendMessage, ds:Signature). The leaf entities (heads, lists,
// receipts) are generated from the XSD in ceb_entities.h; this file groups them the way the
// schema's wrapper elements do (Order = OrderHead + OrderList 1..99, ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/ceb_entities.h"

namespace kuajing::model {

enum class MessageType : uint8_t {
  kCEB311,
  kCEB312,  // order and its receipt
  kCEB411,
  kCEB412,  // payment
  kCEB511,
  kCEB512,  // waybill (logistics)
  kCEB513,
  kCEB514,  // waybill status
  kCEB621,
  kCEB622,  // inventory list
  kCEB623,
  kCEB624,  // inventory cancellation
  kCEB625,
  kCEB626,  // return (refund)
  kCEB711,
  kCEB712,  // warehouse entry detail (delivery)
  kCEB816,  // electronic tax bill
  kCEB818,  // tax bill status
  kCEB900,  // format-check receipt
};
inline constexpr int kMessageTypeCount = 19;

// "CEB311" etc.
const char* MessageTypeName(MessageType t);
// Parses the root element's local name, "CEB311Message" -> kCEB311.
std::optional<MessageType> MessageTypeFromRoot(std::string_view root_local_name);
// True for the eight declarations an enterprise sends (311, 411, 511, 513, 621, 623, 625, 711).
bool IsDeclaration(MessageType t);
// The receipt message type answering a declaration (311 -> 312, ...).
MessageType ReceiptTypeOf(MessageType declaration);

struct Order {
  OrderHead head;
  std::vector<OrderList> lists;
  bool operator==(const Order&) const = default;
};
struct Payment {
  PaymentHead head;
  bool operator==(const Payment&) const = default;
};
struct Logistics {
  LogisticsHead head;
  bool operator==(const Logistics&) const = default;
};
struct Inventory {
  InventoryHead head;
  std::vector<InventoryList> lists;
  bool operator==(const Inventory&) const = default;
};
struct InvtRefund {
  InvtRefundHead head;
  std::vector<InvtRefundList> lists;
  bool operator==(const InvtRefund&) const = default;
};
struct Delivery {
  DeliveryHead head;
  std::vector<DeliveryList> lists;
  bool operator==(const Delivery&) const = default;
};
struct Tax {
  TaxHeadRd head;
  std::vector<TaxListRd> lists;
  bool operator==(const Tax&) const = default;
};
struct TaxStatus {
  TaxHeadStatus head;
  bool operator==(const TaxStatus&) const = default;
};

// One business record of a message. The alternative is fixed by the message type.
using Record = std::variant<Order, Payment, Logistics, LogisticsStatus, Inventory, InvtCancel,
                            InvtRefund, Delivery,  // declarations
                            OrderReturn, PaymentReturn, LogisticsReturn, LogisticsStatusReturn,
                            InventoryReturn, InvtCancelReturn, InvtRefundReturn, DeliveryReturn,
                            Tax, TaxStatus, MessageReturn>;  // receipts

struct Message {
  MessageType type = MessageType::kCEB311;
  std::string guid;  // root attribute guid (36 characters)
  std::string version = "1.0";
  std::vector<Record> records;
  // Transport part; present on declarations only.
  std::optional<BaseTransfer> base_transfer;
  std::vector<BaseSubscribe> base_subscribe;
  std::string extend_message_xml;  // kept verbatim (ExtendMessage carries any XML)
  std::string signature_xml;       // ds:Signature kept verbatim for later verification

  bool operator==(const Message&) const = default;
};

// The guid of a declaration record's head (OrderHead.guid, ...), or of a receipt.
const std::string& RecordGuid(const Record& r);

}  // namespace kuajing::model
