#include "clearance/receipts.h"

#include <algorithm>
#include <array>

#include "codec/codec.h"
#include "common/civil_time.h"
#include "common/hash.h"

namespace kuajing::clearance {

using namespace kuajing::model;

namespace {
constexpr std::string_view kNone = "无";

// The receipts are filled by assigning into their members (AppendPackedReceipt keeps one receipt
// of each type per thread, whose strings keep their room), not by making strings to move in.
void AssignOrNone(std::string& m, std::string_view s) { m.assign(s.empty() ? kNone : s); }

// preNo is exactly 18 characters in the receipts' XSD; a declaration without one gets a
// placeholder from its guid until kuajing has assigned one.
void AssignPreNoOr(std::string& m, std::string_view pre_no, const std::string& guid) {
  if (pre_no.size() == 18) {
    m.assign(pre_no);
    return;
  }
  m = "B" + std::to_string(Hash64(guid) % 100000000000000000ULL);
  m.resize(18, '0');
}

// The first `max_chars` characters of UTF-8 text, as a view into it.
std::string_view CutUtf8View(std::string_view text, size_t max_chars) {
  if (text.size() <= max_chars) return text;  // no more characters than bytes
  size_t chars = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) break;
      ++chars;
    }
  }
  return text.substr(0, i);
}

// Every member to its empty value, the strings keeping their room.
template <typename R>
void Clear(R& r) {
  VisitFields(r, [](const FieldSpec&, auto& m) {
    using M = std::decay_t<decltype(m)>;
    if constexpr (std::is_same_v<M, std::string>) {
      m.clear();
    } else {
      m = M{};
    }
  });
}

// A receipt copies its keys from a declaration that may itself be wrong (too long, empty, a guid
// of the wrong length). The receipt must still be schema-valid, so each text field is fitted to
// its facets: cut to the maximum, an empty required field becomes "无", and a guid of the wrong
// length is replaced by one derived from it.
template <typename R>
void FitToSchema(R& r) {
  VisitFields(r, [](const FieldSpec& f, auto& m) {
    if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::string>) {
      const bool fixed = f.min_len == f.max_len;
      // A text has at most as many characters as bytes, and one if it has any: when its bytes fit
      // the maximum and, against the minimum, are fewer or the minimum is one, its bytes decide
      // every test below as its characters would, and they are not counted (most fields of a
      // receipt are codes copied from the declaration; counting each was a third of making it).
      const bool bytes_decide = m.size() <= f.max_len && (m.size() < f.min_len || f.min_len <= 1);
      size_t len = bytes_decide ? m.size() : codec::Utf8Length(m);
      if (!fixed && len > f.max_len) {
        m.resize(CutUtf8View(m, f.max_len).size());
        len = f.max_len;
      }
      if ((len >= f.min_len && len <= f.max_len) || (len == 0 && !f.required)) return;
      if (std::string_view(f.name) == "guid") {
        m = DeterministicGuid(m);
      } else if (!f.required) {
        m.clear();  // e.g. a customsCode that is not 4 characters
      } else if (f.min_len <= 1) {
        m = kNone;
      }
    }
  });
}

// The receipt's copNo (required, an..20): the enterprise's own, else its order number.
template <typename H>
const std::string& CopNo(const H& h) {
  return h.copNo.empty() ? h.orderNo : h.copNo;
}

// The receipt type answering each declaration (XSDs import-202205 and export-202205).
template <typename D>
struct ReceiptTypeOf {
  using type = void;
};
#define KJ_RECEIPT(D, R)    \
  template <>               \
  struct ReceiptTypeOf<D> { \
    using type = R;         \
  };
KJ_RECEIPT(Order, OrderReturn)
KJ_RECEIPT(Payment, PaymentReturn)
KJ_RECEIPT(Logistics, LogisticsReturn)
KJ_RECEIPT(LogisticsStatus, LogisticsStatusReturn)
KJ_RECEIPT(Inventory, InventoryReturn)
KJ_RECEIPT(InvtCancel, InvtCancelReturn)
KJ_RECEIPT(InvtRefund, InvtRefundReturn)
KJ_RECEIPT(Delivery, DeliveryReturn)
KJ_RECEIPT(exp::Order, exp::OrderReturn)
KJ_RECEIPT(exp::Receipts, exp::ReceiptsReturn)
KJ_RECEIPT(exp::Logistics, exp::LogisticsReturn)
KJ_RECEIPT(exp::Arrival, exp::ArrivalReturn)
KJ_RECEIPT(exp::Departure, exp::DepartureReturn)
KJ_RECEIPT(exp::Inventory, exp::InventoryReturn)
KJ_RECEIPT(exp::InvtCancel, exp::InvtCancelReturn)
KJ_RECEIPT(exp::WayBill, exp::WayBillReturn)
KJ_RECEIPT(exp::InvtRefund, exp::RefundReturn)
KJ_RECEIPT(exp::InvtRefundDetail, exp::InvtRefundDetailReturn)
KJ_RECEIPT(exp::SummaryApply, exp::SummaryReturn)
#undef KJ_RECEIPT

// Copies every field of `src` into the field of `dst` with the same element name and type: the
// export receipts carry the keys of their declaration under the declaration's own names.
template <typename Src, typename Dst>
void CopyByName(const Src& src, Dst& dst) {
  VisitFields(dst, [&](const FieldSpec& df, auto& dm) {
    VisitFields(src, [&](const FieldSpec& sf, const auto& sm) {
      if (std::string_view(df.name) != sf.name) return;
      using DM = std::decay_t<decltype(dm)>;
      using SM = std::decay_t<decltype(sm)>;
      if constexpr (std::is_same_v<DM, SM>) {
        dm = sm;
      } else if constexpr (std::is_same_v<DM, int64_t> &&
                           std::is_same_v<SM, std::optional<int64_t>>) {
        dm = sm.value_or(1);  // msgSeqNo: "未拆分的不填" reads as the only part, 1
      }
    });
  });
}

template <typename R>
void Fill(R& r, std::string_view status, std::string_view info, int64_t now_ms) {
  r.returnStatus.assign(status);
  AssignReturnTime(r.returnTime, now_ms);
  r.returnInfo.assign(CutUtf8View(info.empty() ? std::string_view("无") : info, 1000));
  FitToSchema(r);
}

// The receipt answering a declaration of type D: void for the receipts themselves (never
// answered).
template <typename D>
using ReceiptOf = typename ReceiptTypeOf<D>::type;

// A declaration's head, where its keys are; the declaration itself for those without one.
template <typename D>
const auto& HeadOf(const D& d) {
  if constexpr (requires { d.head; }) {
    return d.head;
  } else {
    return d;
  }
}

// Writes the receipt answering `d` into `r`, every member assigned.
template <typename D, typename R>
void FillReceipt(const D& d, R& r, std::string_view status, std::string_view info, int64_t now_ms,
                 std::string_view pre_no, std::string_view invt_no) {
  Clear(r);
  if constexpr (std::is_same_v<D, Order>) {
    r.guid = d.head.guid;
    AssignOrNone(r.ebpCode, d.head.ebpCode);
    AssignOrNone(r.ebcCode, d.head.ebcCode);
    AssignOrNone(r.orderNo, d.head.orderNo);
  } else if constexpr (std::is_same_v<D, Payment>) {
    r.guid = d.head.guid;
    AssignOrNone(r.payCode, d.head.payCode);
    AssignOrNone(r.payTransactionId, d.head.payTransactionId);
  } else if constexpr (std::is_same_v<D, Logistics>) {
    r.guid = d.head.guid;
    AssignOrNone(r.logisticsCode, d.head.logisticsCode);
    AssignOrNone(r.logisticsNo, d.head.logisticsNo);
  } else if constexpr (std::is_same_v<D, LogisticsStatus>) {
    r.guid = d.guid;
    AssignOrNone(r.logisticsCode, d.logisticsCode);
    AssignOrNone(r.logisticsNo, d.logisticsNo);
    r.logisticsStatus = "S";
  } else if constexpr (std::is_same_v<D, Inventory> || std::is_same_v<D, InvtCancel> ||
                       std::is_same_v<D, InvtRefund>) {
    const auto& h = HeadOf(d);  // a cancellation's keys are its own fields
    r.guid = h.guid;
    r.customsCode = h.customsCode;
    r.agentCode = h.agentCode;
    r.ebpCode = h.ebpCode;
    r.ebcCode = h.ebcCode;
    r.copNo = CopNo(h);
    AssignPreNoOr(r.preNo, pre_no, h.guid);
    if constexpr (std::is_same_v<D, Inventory>) {
      r.invtNo.assign(invt_no);  // the list's, once numbered
    } else {
      r.invtNo = h.invtNo;  // the one the cancellation or return names
    }
  } else if constexpr (std::is_same_v<D, Delivery>) {
    const auto& h = d.head;
    r.guid = h.guid;
    r.customsCode = h.customsCode;
    r.operatorCode = h.operatorCode;
    r.copNo = h.copNo;
    r.preNo.assign(pre_no);
    r.rkdNo = h.rkdNo;
  } else {  // an export declaration: its keys under the same element names
    CopyByName(HeadOf(d), r);
    if constexpr (requires { r.preNo; }) {
      if (!pre_no.empty() || r.preNo.size() != 18) AssignPreNoOr(r.preNo, pre_no, r.guid);
    }
    if constexpr (requires { r.invtNo; }) {
      if (!invt_no.empty()) r.invtNo.assign(invt_no);
    }
  }
  Fill(r, status, info, now_ms);
}
}  // namespace

namespace {
// The receipt's own message guid: the hash of these pieces in this order (stored receipts are
// written out again with it: never change it), hashed where they are, not joined first.
std::string ReceiptGuid(model::MessageType type, std::string_view answers_guid,
                        std::string_view status, const model::Record& record) {
  std::array<std::string_view, 8> seed;  // 3, then at most 1 + 2 + 2
  size_t n = 0;
  seed[n++] = model::MessageTypeName(type);
  seed[n++] = answers_guid;
  seed[n++] = status;
  std::visit(
      [&](const auto& r) {
        if constexpr (requires { r.returnTime; }) seed[n++] = r.returnTime;
        if constexpr (requires { r.head.returnTime; }) {
          seed[n++] = r.head.returnTime;
          seed[n++] = r.head.taxNo;
        }
        if constexpr (requires { r.head.declSeqNo; }) {
          seed[n++] = r.head.guid;
          seed[n++] = r.head.opDate;
        }
      },
      record);
  return DeterministicGuid(seed.data(), n);
}
}  // namespace

std::string ReceiptMessageXml(model::MessageType type, std::string_view answers_guid,
                              std::string_view status, const model::Record& record) {
  return codec::EncodeOne(type, ReceiptGuid(type, answers_guid, status, record), record);
}

void AppendReceiptMessageJsonText(std::string& out, model::MessageType type,
                                  std::string_view answers_guid, std::string_view status,
                                  const model::Record& record) {
  codec::AppendOneAsJsonText(out, type, ReceiptGuid(type, answers_guid, status, record), record);
}

std::string CutUtf8(std::string_view text, size_t max_chars) {
  return std::string(CutUtf8View(text, max_chars));
}

Record MakeReceipt(RecordRef declaration, std::string_view status, std::string_view info,
                   int64_t now_ms, std::string_view pre_no, std::string_view invt_no) {
  return VisitRecord(
      [&](const auto& d) -> Record {
        using R = ReceiptOf<std::decay_t<decltype(d)>>;
        if constexpr (!std::is_void_v<R>) {
          R r;
          FillReceipt(d, r, status, info, now_ms, pre_no, invt_no);
          return r;
        } else {
          // Receipts are never answered; the engines do not call this for them.
          MessageReturn r{RecordGuid(declaration)};
          Fill(r, status, info, now_ms);
          return r;
        }
      },
      declaration);
}

void AppendPackedReceipt(std::string& out, RecordRef declaration, std::string_view status,
                         std::string_view info, int64_t now_ms, std::string_view pre_no,
                         std::string_view invt_no) {
  VisitRecord(
      [&](const auto& d) {
        using R = ReceiptOf<std::decay_t<decltype(d)>>;
        if constexpr (!std::is_void_v<R>) {
          // One receipt of each type per thread, refilled: its strings keep their room, where a
          // receipt made for each answer allocated most of its fields (a guid, its times and
          // numbers are longer than a string holds in place) and freed them after packing.
          thread_local R r;
          FillReceipt(d, r, status, info, now_ms, pre_no, invt_no);
          codec::AppendPackedOf(out, r);
        } else {
          out += codec::PackRecord(MakeReceipt(declaration, status, info, now_ms, pre_no, invt_no));
        }
      },
      declaration);
}

namespace {

// Calls `add` with each enterprise code the declaration names, in the order PartiesOf gives them
// (repeats, empty codes and "无" included: the callers filter).
template <typename Add>
void VisitPartyCodes(RecordRef declaration, const Add& add) {
  VisitRecord(
      [&](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, Order>) {
          for (const auto* c : {&d.head.ebpCode, &d.head.ebcCode, &d.head.payCode}) add(*c);
        } else if constexpr (std::is_same_v<T, Payment>) {
          for (const auto* c : {&d.head.payCode, &d.head.ebpCode}) add(*c);
        } else if constexpr (std::is_same_v<T, Logistics>) {
          add(d.head.logisticsCode);
        } else if constexpr (std::is_same_v<T, LogisticsStatus>) {
          add(d.logisticsCode);
        } else if constexpr (std::is_same_v<T, Inventory>) {
          const auto& h = d.head;
          for (const auto* c :
               {&h.agentCode, &h.ebcCode, &h.ebpCode, &h.logisticsCode, &h.areaCode, &h.assureCode})
            add(*c);
        } else if constexpr (std::is_same_v<T, InvtCancel>) {
          for (const auto* c : {&d.agentCode, &d.ebcCode, &d.ebpCode, &d.logisticsCode}) add(*c);
        } else if constexpr (std::is_same_v<T, InvtRefund>) {
          const auto& h = d.head;
          for (const auto* c : {&h.agentCode, &h.ebcCode, &h.ebpCode, &h.logisticsCode}) add(*c);
        } else if constexpr (std::is_same_v<T, Delivery>) {
          for (const auto* c : {&d.head.operatorCode, &d.head.logisticsCode}) add(*c);
        } else if constexpr (std::is_same_v<T, exp::Order>) {
          for (const auto* c : {&d.head.ebpCode, &d.head.ebcCode}) add(*c);
        } else if constexpr (std::is_same_v<T, exp::Receipts>) {
          for (const auto* c : {&d.payCode, &d.ebcCode, &d.ebpCode}) add(*c);
        } else if constexpr (std::is_same_v<T, exp::Logistics>) {
          for (const auto* c : {&d.logisticsCode, &d.ebcCode}) add(*c);
        } else if constexpr (std::is_same_v<T, exp::Arrival>) {
          for (const auto* c : {&d.head.operatorCode, &d.head.logisticsCode}) add(*c);
        } else if constexpr (std::is_same_v<T, exp::Departure>) {
          add(d.head.logisticsCode);
        } else if constexpr (std::is_same_v<T, exp::Inventory>) {
          const auto& h = d.head;
          for (const auto* c :
               {&h.agentCode, &h.ebcCode, &h.ebpCode, &h.logisticsCode, &h.ownerCode, &h.iacCode})
            add(*c);
        } else if constexpr (std::is_same_v<T, exp::InvtCancel>) {
          for (const auto* c : {&d.agentCode, &d.ebcCode}) add(*c);
        } else if constexpr (std::is_same_v<T, exp::WayBill>) {
          for (const auto* c : {&d.head.agentCode, &d.head.logisticsCode}) add(*c);
        } else if constexpr (std::is_same_v<T, exp::InvtRefund>) {
          const auto& h = d.head;
          for (const auto* c : {&h.agentCode, &h.ebcCode, &h.ebpCode, &h.logisticsCode}) add(*c);
        } else if constexpr (std::is_same_v<T, exp::InvtRefundDetail>) {
          for (const auto* c : {&d.operatorCode, &d.logisticsCode}) add(*c);
        } else if constexpr (std::is_same_v<T, exp::SummaryApply>) {
          for (const auto* c : {&d.head.agentCode, &d.head.ebcCode, &d.head.declAgentCode}) add(*c);
        }
      },
      declaration);
}

// "无" (a foreign platform) and "NO" (an unregistered producer) name nobody. By length first: an
// enterprise code is 10 or 18 characters.
bool NamesSomebody(const std::string& code) {
  switch (code.size()) {
    case 0:
      return false;
    case 2:
      return code != "NO";
    case kNone.size():
      return code != kNone;
    default:
      return true;
  }
}

}  // namespace

std::vector<std::string> PartiesOf(RecordRef declaration) {
  std::vector<std::string> out;
  out.reserve(6);  // the most a declaration names (an inventory list): one allocation, no moves
  VisitPartyCodes(declaration, [&](const std::string& code) {
    if (NamesSomebody(code) && std::find(out.begin(), out.end(), code) == out.end())
      out.push_back(code);
  });
  return out;
}

const std::string* FirstParty(RecordRef declaration,
                              const std::function<bool(const std::string&)>& accept) {
  const std::string* first = nullptr;
  VisitPartyCodes(declaration, [&](const std::string& code) {
    if (first == nullptr && NamesSomebody(code) && accept(code)) first = &code;
  });
  return first;
}

namespace {
// Writes the bill into `t`, every member assigned (AppendPackedTaxBill refills one per thread).
void FillTaxBill(Tax& t, const Inventory& inv, const TaxAssessment& tax, std::string_view invt_no,
                 std::string_view tax_no, int64_t now_ms) {
  const auto& h = inv.head;
  TaxHeadRd& b = t.head;
  b.guid = h.guid;
  AssignReturnTime(b.returnTime, now_ms);
  b.invtNo.assign(invt_no);
  b.taxNo.assign(tax_no);
  b.customsTax = tax.customs_tax;
  b.valueAddedTax = tax.value_added_tax;
  b.consumptionTax = tax.consumption_tax;
  b.status = "1";  // 已生成
  b.entDutyNo.clear();
  b.note = tax.full_tax ? "general-trade full tax (财关税〔2018〕49号 §2)"
                        : "retail-import rate: duty 0, VAT and consumption tax at 70 %";
  b.assureCode = h.assureCode;
  b.ebcCode = h.ebcCode;
  b.logisticsCode = h.logisticsCode;
  b.agentCode = h.agentCode;
  b.customsCode.assign(h.customsCode.size() == 4 ? std::string_view(h.customsCode) : "");
  t.lists.resize(tax.lines.size());
  for (size_t i = 0; i < tax.lines.size(); ++i) {
    const LineTax& l = tax.lines[i];
    TaxListRd& r = t.lists[i];
    r.gnum = l.gnum;
    r.gcode = l.gcode;
    r.taxPrice = l.tax_price;
    r.customsTax = l.customs_tax;
    r.valueAddedTax = l.value_added_tax;
    r.consumptionTax = l.consumption_tax;
  }
}
}  // namespace

Tax MakeTaxBill(const Inventory& inv, const TaxAssessment& tax, std::string_view invt_no,
                std::string_view tax_no, int64_t now_ms) {
  Tax t;
  FillTaxBill(t, inv, tax, invt_no, tax_no, now_ms);
  return t;
}

void AppendPackedTaxBill(std::string& out, const Inventory& inv, const TaxAssessment& tax,
                         std::string_view invt_no, std::string_view tax_no, int64_t now_ms) {
  thread_local Tax t;
  FillTaxBill(t, inv, tax, invt_no, tax_no, now_ms);
  codec::AppendPackedOf(out, t);
}

TaxStatus MakeTaxStatus(const Inventory& inv, std::string_view invt_no, std::string_view tax_no,
                        std::string_view status, int64_t now_ms) {
  TaxStatus s;
  s.head.guid = inv.head.guid;
  s.head.returnTime = FormatReturnTime(now_ms);
  s.head.invtNo = std::string(invt_no);
  s.head.taxNo = std::string(tax_no);
  s.head.status = std::string(status);
  s.head.assureCode = inv.head.assureCode;
  return s;
}

MessageReturn MakeFormatReceipt(std::string_view message_guid, std::string_view status,
                                std::string_view info, std::string_view root_name,
                                std::string_view raw, int64_t now_ms) {
  MessageReturn r;
  r.guid = message_guid.size() == 36 ? std::string(message_guid) : DeterministicGuid(raw);
  r.returnStatus = std::string(status);
  r.returnInfo = CutUtf8(info, 5000);
  r.returnTime = FormatReturnTime(now_ms);
  r.oriCopMsgId = "";
  r.oriMessageType = CutUtf8(root_name, 15);
  // The original is echoed only when it is valid UTF-8 text of modest size; otherwise a note.
  r.oriBizMessage =
      raw.size() <= 64 * 1024 && codec::IsValidUtf8(raw)
          ? std::string(raw)
          : "(original message not echoed: " + std::to_string(raw.size()) + " bytes, or not UTF-8)";
  return r;
}

}  // namespace kuajing::clearance
