// How each record kind sits in its message (schema wrapper element, head, lines): shared by the
// XML codec and the packed form of state rows. Internal to the codec layer.
#pragma once

#include <string_view>
#include <type_traits>
#include <vector>

#include "model/documents.h"

namespace kuajing::codec::layout {

using namespace kuajing::model;

// The element names of an entity in schema order (reading checks them, writing writes them).
template <typename E>
const std::vector<std::string_view>& FieldNames() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    E e{};
    VisitFields(e, [&](const FieldSpec& f, auto&) { out.push_back(f.name); });
    return out;
  }();
  return names;
}

struct NoLine {
  [[maybe_unused]] static constexpr const char* kName = "";
};

// kMaxLines: the schema's maxOccurs of the lines; kImportLines = DecodeOptions::max_lines,
// kUnbounded = DecodeOptions::max_unbounded_lines. kMinLines: the schema's minOccurs.
inline constexpr int kImportLines = -1;
inline constexpr int kUnbounded = 0;

template <typename R>
struct Layout {  // a record that is itself one entity (LogisticsStatus, InvtCancel, receipts)
  static constexpr const char* kWrapper = nullptr;
  using Head = R;
  using Line = NoLine;
  static constexpr int kMinLines = 0;
  static constexpr int kMaxLines = 0;
};
#define KJ_LAYOUT(R, WRAPPER, HEAD, LINE, MIN, MAX)        \
  template <>                                              \
  struct Layout<R> {                                       \
    static constexpr const char* kWrapper = WRAPPER;       \
    using Head = HEAD;                                     \
    using Line = LINE;                                     \
    [[maybe_unused]] static constexpr int kMinLines = MIN; \
    [[maybe_unused]] static constexpr int kMaxLines = MAX; \
  };
KJ_LAYOUT(Order, "Order", OrderHead, OrderList, 1, kImportLines)
KJ_LAYOUT(Payment, "Payment", PaymentHead, NoLine, 0, 0)
KJ_LAYOUT(Logistics, "Logistics", LogisticsHead, NoLine, 0, 0)
KJ_LAYOUT(Inventory, "Inventory", InventoryHead, InventoryList, 1, kImportLines)
KJ_LAYOUT(InvtRefund, "InvtRefund", InvtRefundHead, InvtRefundList, 1, kImportLines)
KJ_LAYOUT(Delivery, "Delivery", DeliveryHead, DeliveryList, 1, kUnbounded)
KJ_LAYOUT(Tax, "Tax", TaxHeadRd, TaxListRd, 1, kImportLines)
KJ_LAYOUT(TaxStatus, "Tax", TaxHeadStatus, NoLine, 0, 0)
KJ_LAYOUT(exp::Order, "Order", exp::OrderHead, exp::OrderList, 1, 100)
KJ_LAYOUT(exp::Arrival, "Arrival", exp::ArrivalHead, exp::ArrivalList, 0, kUnbounded)
KJ_LAYOUT(exp::Departure, "Departure", exp::DepartureHead, exp::DepartureList, 1, kUnbounded)
KJ_LAYOUT(exp::Inventory, "Inventory", exp::InventoryHead, exp::InventoryList, 1, 100)
KJ_LAYOUT(exp::WayBill, "WayBill", exp::WayBillHead, exp::WayBillList, 1, kUnbounded)
KJ_LAYOUT(exp::InvtRefund, "InvtRefund", exp::InvtRefundHead, exp::InvtRefundList, 1, 100)
KJ_LAYOUT(exp::SummaryApply, "SummaryApply", exp::SummaryApplyHead, exp::SummaryApplyList, 0,
          kUnbounded)
KJ_LAYOUT(exp::SummaryResult, "SummaryResult", exp::SummaryResultHead, exp::SummaryResultList, 0,
          kUnbounded)
#undef KJ_LAYOUT

template <typename R>
constexpr bool kWrapped = Layout<R>::kWrapper != nullptr;
template <typename R>
constexpr bool kHasLines = !std::is_same_v<typename Layout<R>::Line, NoLine>;

template <typename R>
auto& HeadOf(R& r) {
  if constexpr (kWrapped<R>)
    return r.head;
  else
    return r;
}

}  // namespace kuajing::codec::layout
