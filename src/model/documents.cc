#include "model/documents.h"

#include <array>

namespace kuajing::model {

namespace {
constexpr std::array<const char*, kMessageTypeCount> kNames = {
    "CEB311", "CEB312", "CEB411", "CEB412", "CEB511", "CEB512", "CEB513", "CEB514", "CEB621",
    "CEB622", "CEB623", "CEB624", "CEB625", "CEB626", "CEB711", "CEB712", "CEB816", "CEB818",
    "CEB900", "CEB303", "CEB304", "CEB403", "CEB404", "CEB505", "CEB506", "CEB507", "CEB508",
    "CEB509", "CEB510", "CEB603", "CEB604", "CEB605", "CEB606", "CEB607", "CEB608", "CEB213",
    "CEB214", "CEB215", "CEB216", "CEB701", "CEB702", "CEB792"};
}  // namespace

const char* MessageTypeName(MessageType t) { return kNames[static_cast<size_t>(t)]; }

std::optional<MessageType> MessageTypeFromRoot(std::string_view root) {
  constexpr std::string_view kSuffix = "Message";
  // The official CEB214 sample's root is "CEB214": accepted for that receipt only.
  if (root == "CEB214") return MessageType::kCEB214;
  if (root.size() != 6 + kSuffix.size() || root.substr(6) != kSuffix) return std::nullopt;
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (root.substr(0, 6) == kNames[i]) return static_cast<MessageType>(i);
  }
  return std::nullopt;
}

bool IsDeclaration(MessageType t) {
  switch (t) {
    case MessageType::kCEB311:
    case MessageType::kCEB411:
    case MessageType::kCEB511:
    case MessageType::kCEB513:
    case MessageType::kCEB621:
    case MessageType::kCEB623:
    case MessageType::kCEB625:
    case MessageType::kCEB711:
    case MessageType::kCEB303:
    case MessageType::kCEB403:
    case MessageType::kCEB505:
    case MessageType::kCEB507:
    case MessageType::kCEB509:
    case MessageType::kCEB603:
    case MessageType::kCEB605:
    case MessageType::kCEB607:
    case MessageType::kCEB213:
    case MessageType::kCEB215:
    case MessageType::kCEB701:
      return true;
    default:
      return false;
  }
}

bool IsExport(MessageType t) {
  return static_cast<int>(t) >= static_cast<int>(MessageType::kCEB303);
}

MessageType ReceiptTypeOf(MessageType d) {
  return static_cast<MessageType>(static_cast<int>(d) + 1);
}

const std::string& RecordGuid(RecordRef r) {
  return VisitRecord(
      [](const auto& x) -> const std::string& {
        if constexpr (requires { x.head.guid; }) {
          return x.head.guid;
        } else {
          return x.guid;
        }
      },
      r);
}

MessageType DeclarationTypeOf(RecordRef r) {
  return VisitRecord(
      [](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, Order>) return MessageType::kCEB311;
        if constexpr (std::is_same_v<T, Payment>) return MessageType::kCEB411;
        if constexpr (std::is_same_v<T, Logistics>) return MessageType::kCEB511;
        if constexpr (std::is_same_v<T, LogisticsStatus>) return MessageType::kCEB513;
        if constexpr (std::is_same_v<T, Inventory>) return MessageType::kCEB621;
        if constexpr (std::is_same_v<T, InvtCancel>) return MessageType::kCEB623;
        if constexpr (std::is_same_v<T, InvtRefund>) return MessageType::kCEB625;
        if constexpr (std::is_same_v<T, Delivery>) return MessageType::kCEB711;
        if constexpr (std::is_same_v<T, exp::Order>) return MessageType::kCEB303;
        if constexpr (std::is_same_v<T, exp::Receipts>) return MessageType::kCEB403;
        if constexpr (std::is_same_v<T, exp::Logistics>) return MessageType::kCEB505;
        if constexpr (std::is_same_v<T, exp::Arrival>) return MessageType::kCEB507;
        if constexpr (std::is_same_v<T, exp::Departure>) return MessageType::kCEB509;
        if constexpr (std::is_same_v<T, exp::Inventory>) return MessageType::kCEB603;
        if constexpr (std::is_same_v<T, exp::InvtCancel>) return MessageType::kCEB605;
        if constexpr (std::is_same_v<T, exp::WayBill>) return MessageType::kCEB607;
        if constexpr (std::is_same_v<T, exp::InvtRefund>) return MessageType::kCEB213;
        if constexpr (std::is_same_v<T, exp::InvtRefundDetail>) return MessageType::kCEB215;
        if constexpr (std::is_same_v<T, exp::SummaryApply>) return MessageType::kCEB701;
        return MessageType::kCEB900;
      },
      r);
}

}  // namespace kuajing::model
