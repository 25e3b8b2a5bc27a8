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
#include "model/ceb_export_entities.h"

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
  // Export (spec chapter 2; xsd/export-202205.xsd).
  kCEB303,
  kCEB304,  // export order (orderType E, B2B B, overseas-warehouse booking W)
  kCEB403,
  kCEB404,  // receipt of payment (收款单)
  kCEB505,
  kCEB506,  // export waybill
  kCEB507,
  kCEB508,  // arrival at the supervised site (运抵单)
  kCEB509,
  kCEB510,  // departure (离境单)
  kCEB603,
  kCEB604,  // export inventory list (申报清单)
  kCEB605,
  kCEB606,  // export inventory cancellation
  kCEB607,
  kCEB608,  // master/house bill link (清单总分单)
  kCEB213,
  kCEB214,  // export return (退货申请单)
  kCEB215,
  kCEB216,  // return tally at arrival (退货理货单)
  kCEB701,
  kCEB702,  // summary application (汇总申请单)
  kCEB792,  // summary result (汇总结果单)
};
inline constexpr int kMessageTypeCount = 42;

// "CEB311" etc.
const char* MessageTypeName(MessageType t);
// Parses the root element's local name, "CEB311Message" -> kCEB311. The bare "CEB214" that the
// official CEB214 sample uses as its root is accepted too (a documented tolerance, docs/EXPORT.md).
std::optional<MessageType> MessageTypeFromRoot(std::string_view root_local_name);
// True for the declarations an enterprise sends: import 311, 411, 511, 513, 621, 623, 625, 711;
// export 303, 403, 505, 507, 509, 603, 605, 607, 213, 215, 701.
bool IsDeclaration(MessageType t);
// True for the messages of the export standard (303 ... 792).
bool IsExport(MessageType t);
// The receipt message type answering a declaration (311 -> 312, 701 -> 702, ...).
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

// The export records: wrapper elements of the export schema. Receipts (收款单), Logistics,
// InvtCancel and InvtRefundDetail are single entities and used as they are.
namespace exp {
struct Order {
  OrderHead head;
  std::vector<OrderList> lists;  // 1..100
  bool operator==(const Order&) const = default;
};
struct Arrival {
  ArrivalHead head;
  std::vector<ArrivalList> lists;  // 0..unbounded
  bool operator==(const Arrival&) const = default;
};
struct Departure {
  DepartureHead head;
  std::vector<DepartureList> lists;  // 1..unbounded
  bool operator==(const Departure&) const = default;
};
struct Inventory {
  InventoryHead head;
  std::vector<InventoryList> lists;  // 1..100
  bool operator==(const Inventory&) const = default;
};
struct WayBill {
  WayBillHead head;
  std::vector<WayBillList> lists;  // 1..unbounded
  bool operator==(const WayBill&) const = default;
};
struct InvtRefund {
  InvtRefundHead head;
  std::vector<InvtRefundList> lists;  // 1..100
  bool operator==(const InvtRefund&) const = default;
};
struct SummaryApply {
  SummaryApplyHead head;
  std::vector<SummaryApplyList> lists;  // 0..unbounded (empty when a time window is given)
  bool operator==(const SummaryApply&) const = default;
};
struct SummaryResult {
  SummaryResultHead head;
  std::vector<SummaryResultList> lists;  // 0..unbounded
  bool operator==(const SummaryResult&) const = default;
};
}  // namespace exp

// One business record of a message. The alternative is fixed by the message type.
using Record = std::variant<
    // import declarations
    Order, Payment, Logistics, LogisticsStatus, Inventory, InvtCancel, InvtRefund, Delivery,
    // import receipts
    OrderReturn, PaymentReturn, LogisticsReturn, LogisticsStatusReturn, InventoryReturn,
    InvtCancelReturn, InvtRefundReturn, DeliveryReturn, Tax, TaxStatus, MessageReturn,
    // export declarations
    exp::Order, exp::Receipts, exp::Logistics, exp::Arrival, exp::Departure, exp::Inventory,
    exp::InvtCancel, exp::WayBill, exp::InvtRefund, exp::InvtRefundDetail, exp::SummaryApply,
    // export receipts
    exp::OrderReturn, exp::ReceiptsReturn, exp::LogisticsReturn, exp::ArrivalReturn,
    exp::DepartureReturn, exp::InventoryReturn, exp::InvtCancelReturn, exp::WayBillReturn,
    exp::RefundReturn, exp::InvtRefundDetailReturn, exp::SummaryReturn, exp::SummaryResult>;

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

// A record by address: the same alternatives as Record, as const pointers. The engines answer
// the documents they hold through it, without copying a document into a Record first.
template <typename V>
struct ConstPointersTo;
template <typename... Ts>
struct ConstPointersTo<std::variant<Ts...>> {
  using type = std::variant<const Ts*...>;
};
using RecordRef = ConstPointersTo<Record>::type;

inline RecordRef RefOf(const Record& r) {
  return std::visit([](const auto& x) -> RecordRef { return &x; }, r);
}

// Calls `f` with the record `ref` points to.
template <typename F>
decltype(auto) VisitRecord(F&& f, RecordRef ref) {
  return std::visit([&](const auto* p) -> decltype(auto) { return f(*p); }, ref);
}

// The guid of a declaration record's head (OrderHead.guid, ...), or of a receipt.
const std::string& RecordGuid(RecordRef r);
inline const std::string& RecordGuid(const Record& r) { return RecordGuid(RefOf(r)); }

// The message type a declaration record travels in (Order -> CEB311, exp::Order -> CEB303, ...).
// Receipt records give CEB900.
MessageType DeclarationTypeOf(RecordRef r);
inline MessageType DeclarationTypeOf(const Record& r) { return DeclarationTypeOf(RefOf(r)); }

}  // namespace kuajing::model
