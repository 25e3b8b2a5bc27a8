#include "app/demo_batch.h"

#include "codec/codec.h"
#include "common/hash.h"
#include "model/documents.h"

namespace kuajing::app {

using namespace kuajing::model;

namespace {

std::string Guid(const ClearanceSpec& s, const char* kind) {
  return DeterministicGuid(std::to_string(s.seed) + kind + s.order_no);
}

BaseTransfer Transfer(const std::string& code, const std::string& name) {
  return BaseTransfer{code, name, "DXP", "DXPENT" + code.substr(0, 10), ""};
}

Decimal GoodsValue(const ClearanceSpec& s) {
  Decimal v;
  for (const auto& i : s.items) v += i.price.Times(i.qty);
  return v;
}

Decimal LineTotal(const GoodsItem& i) { return i.price.Times(i.qty); }

// The tax an enterprise collects in advance (taxTotal): an estimate at the common 9.1 % composite
// rate (13 % VAT x 70 %), rounded to the fen. Customs assesses the real amount.
Decimal EstimatedTax(const ClearanceSpec& s) {
  return Decimal::FromE5(
      RoundHalfUpToFenE5(static_cast<__int128>((GoodsValue(s) + s.freight).e5) * 91, 1000));
}

Order MakeOrder(const ClearanceSpec& s) {
  Order o;
  OrderHead& h = o.head;
  h.guid = Guid(s, "order");
  h.appType = "1";
  h.appTime = s.app_time;
  h.appStatus = "2";
  h.orderType = "I";
  h.orderNo = s.order_no;
  h.ebpCode = s.ebp_code;
  h.ebpName = "衡阳跨境购平台";
  h.ebcCode = s.ebc_code;
  h.ebcName = "衡阳海外优选电子商务有限公司";
  h.goodsValue = GoodsValue(s);
  h.freight = s.freight;
  h.discount = Decimal{};
  h.taxTotal = EstimatedTax(s);
  h.acturalPaid = h.goodsValue + h.freight + h.taxTotal - h.discount;
  h.currency = "142";
  h.buyerRegNo = "u" + std::to_string(Hash64(s.buyer_id) % 10000000);
  h.buyerName = s.buyer_name;
  h.buyerTelephone = s.buyer_phone;
  h.buyerIdType = "1";
  h.buyerIdNumber = s.buyer_id;
  h.payCode = s.pay_code;
  h.payName = "支付宝（中国）网络技术有限公司";
  h.payTransactionId = "P" + s.order_no;
  h.consignee = s.buyer_name;
  h.consigneeTelephone = s.buyer_phone;
  h.consigneeAddress = s.consignee_address;
  h.consigneeDistrict = "430408";
  int64_t gnum = 0;
  for (const GoodsItem& i : s.items) {
    OrderList l;
    l.gnum = ++gnum;
    l.itemNo = "SKU" + i.gcode.substr(0, 6);
    l.itemName = i.name;
    l.gmodel = i.name + " 1件装";
    l.unit = i.unit;
    l.qty = i.qty;
    l.price = i.price;
    l.totalPrice = LineTotal(i);
    l.currency = "142";
    l.country = i.country;
    o.lists.push_back(std::move(l));
  }
  return o;
}

Payment MakePayment(const ClearanceSpec& s, const Order& o) {
  Payment p;
  PaymentHead& h = p.head;
  h.guid = Guid(s, "payment");
  h.appType = "1";
  h.appTime = s.app_time;
  h.appStatus = "2";
  h.payCode = s.pay_code;
  h.payName = o.head.payName;
  h.payTransactionId = o.head.payTransactionId;
  h.orderNo = s.order_no;
  h.ebpCode = s.ebp_code;
  h.ebpName = o.head.ebpName;
  h.payerIdType = "1";
  h.payerIdNumber = s.payer_id.empty() ? s.buyer_id : s.payer_id;
  h.payerName = s.payer_name.empty() ? s.buyer_name : s.payer_name;
  h.telephone = s.buyer_phone;
  h.amountPaid = o.head.acturalPaid;
  h.currency = "142";
  h.payTime = s.app_time;
  return p;
}

Logistics MakeWaybill(const ClearanceSpec& s) {
  Logistics l;
  LogisticsHead& h = l.head;
  h.guid = Guid(s, "waybill");
  h.appType = "1";
  h.appTime = s.app_time;
  h.appStatus = "2";
  h.logisticsCode = s.logistics_code;
  h.logisticsName = "湘南国际物流有限公司";
  h.logisticsNo = s.logistics_no;
  h.orderNo = s.order_no;
  h.freight = s.freight;
  h.insuredFee = s.insured_fee;
  h.currency = "142";
  h.weight = Decimal::FromE5(120000 * static_cast<int64_t>(s.items.size()));
  h.packNo = 1;
  h.consignee = s.buyer_name;
  h.consigneeAddress = s.waybill_address.empty() ? s.consignee_address : s.waybill_address;
  h.consigneeTelephone = s.buyer_phone;
  return l;
}

// The keys a list and what follows it (cancellation, return) carry: order, platform, e-commerce
// enterprise, waybill.
template <typename H>
void FillListKeys(H& h, const ClearanceSpec& s) {
  h.orderNo = s.order_no;
  h.ebpCode = s.ebp_code;
  h.ebpName = "衡阳跨境购平台";
  h.ebcCode = s.ebc_code;
  h.ebcName = "衡阳海外优选电子商务有限公司";
  h.logisticsNo = s.logistics_no;
  h.logisticsCode = s.logistics_code;
  h.logisticsName = "湘南国际物流有限公司";
  h.copNo = s.order_no.substr(0, 20);
}

Inventory MakeInventory(const ClearanceSpec& s) {
  Inventory v;
  InventoryHead& h = v.head;
  h.guid = Guid(s, "inventory");
  h.appType = "1";
  h.appTime = s.app_time;
  h.appStatus = "2";
  FillListKeys(h, s);
  h.assureCode = s.agent_code;
  h.ieFlag = "I";
  h.declTime = s.app_time.substr(0, 8);
  h.customsCode = s.customs_code;
  h.portCode = s.port_code;
  h.buyerIdType = "1";
  h.buyerIdNumber = s.buyer_id;
  h.buyerName = s.buyer_name;
  h.buyerTelephone = s.buyer_phone;
  h.consigneeAddress = s.consignee_address;
  h.agentCode = s.agent_code;
  h.agentName = "衡阳综保区报关服务有限公司";
  h.tradeMode = s.trade_mode;
  const bool bonded = s.trade_mode != "9610";
  if (bonded) {
    h.emsNo = "T4900W000001";
    h.areaCode = s.area_code;
    h.areaName = "衡阳综合保税区仓储有限公司";
    h.trafMode = "Y";
    h.country = "142";
  } else {
    h.trafMode = "5";
    h.trafNo = "CZ3456";
    h.voyageNo = "20240610";
    h.billNo = "784-12345675";
    h.country = "116";
  }
  h.freight = s.freight;
  h.insuredFee = s.insured_fee;
  h.currency = "142";
  h.packNo = 1;
  h.grossWeight = Decimal::FromE5(120000 * static_cast<int64_t>(s.items.size()));
  h.netWeight = Decimal::FromE5(100000 * static_cast<int64_t>(s.items.size()));
  int64_t gnum = 0;
  for (const GoodsItem& i : s.items) {
    InventoryList l;
    l.gnum = ++gnum;
    if (bonded) l.itemRecordNo = "R" + i.gcode;
    l.itemNo = "SKU" + i.gcode.substr(0, 6);
    l.itemName = i.name;
    l.gcode = i.gcode;
    l.gname = i.name;
    l.gmodel = i.name + " 1件装";
    l.barCode = "无";
    l.country = i.country;
    l.currency = "142";
    l.qty = i.qty;
    l.unit = i.unit;
    l.qty1 = i.qty;
    l.unit1 = i.unit;
    l.price = i.price;
    l.totalPrice = LineTotal(i);
    v.lists.push_back(std::move(l));
  }
  return v;
}

std::string Wrap(MessageType type, const ClearanceSpec& s, std::vector<Record> records,
                 const std::string& cop_code, const char* cop_name) {
  Message m;
  m.type = type;
  m.guid = DeterministicGuid(std::string(MessageTypeName(type)) + std::to_string(s.seed) +
                             s.order_no + std::to_string(records.size()));
  m.records = std::move(records);
  m.base_transfer = Transfer(cop_code, cop_name);
  return codec::Encode(m);
}

}  // namespace

std::string MakeResidentId(uint64_t n) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  // Hengyang districts (4304xx), birth dates 1960-2004, a 3-digit sequence.
  static constexpr const char* kAreas[] = {"430405", "430406", "430407",
                                           "430408", "430412", "430421"};
  char body[18];
  int year = 1960 + static_cast<int>(n % 45), month = 1 + static_cast<int>((n / 45) % 12),
      day = 1 + static_cast<int>((n / 540) % 28);
  std::snprintf(body, sizeof body, "%s%04d%02d%02d%03d", kAreas[n % 6], year, month, day,
                static_cast<int>((n / 15120) % 1000));
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (body[i] - '0') * kWeights[i];
  return std::string(body, 17) + "10X98765432"[sum % 11];
}

ClearanceMessages MakeClearance(const ClearanceSpec& s) {
  Order o = MakeOrder(s);
  Payment p = MakePayment(s, o);
  ClearanceMessages out;
  out.order = Wrap(MessageType::kCEB311, s, {o}, s.ebp_code, "衡阳跨境购平台");
  out.payment = Wrap(MessageType::kCEB411, s, {p}, s.pay_code, "支付宝（中国）网络技术有限公司");
  out.waybill =
      Wrap(MessageType::kCEB511, s, {MakeWaybill(s)}, s.logistics_code, "湘南国际物流有限公司");
  Inventory inv = MakeInventory(s);
  out.inventory_guid = inv.head.guid;
  out.inventory = Wrap(MessageType::kCEB621, s, {inv}, s.agent_code, "衡阳综保区报关服务有限公司");
  return out;
}

namespace {

// The head both a cancellation and a return carry: the list's keys and its buyer.
template <typename H>
void FillAfterRelease(H& h, const ClearanceSpec& s, const std::string& invt_no,
                      const std::string& app_time, const std::string& reason, const char* kind) {
  h.guid = DeterministicGuid(std::to_string(s.seed) + kind + s.order_no + app_time);
  h.appType = "1";
  h.appTime = app_time;
  h.appStatus = "2";
  h.customsCode = s.customs_code;
  FillListKeys(h, s);
  h.invtNo = invt_no;
  h.buyerIdType = "1";
  h.buyerIdNumber = s.buyer_id;
  h.buyerName = s.buyer_name;
  h.buyerTelephone = s.buyer_phone;
  h.agentCode = s.agent_code;
  h.agentName = "衡阳综保区报关服务有限公司";
  h.reason = reason;
}

}  // namespace

std::string MakeCancel(const ClearanceSpec& s, const std::string& invt_no,
                       const std::string& app_time, const std::string& reason) {
  InvtCancel c;
  FillAfterRelease(c, s, invt_no, app_time, reason, "cancel");
  return Wrap(MessageType::kCEB623, s, {c}, s.agent_code, "衡阳综保区报关服务有限公司");
}

std::string MakeReturn(const ClearanceSpec& s, const std::string& invt_no,
                       const std::string& app_time, const std::string& reason) {
  InvtRefund r;
  FillAfterRelease(r.head, s, invt_no, app_time, reason, "return");
  int64_t gnum = 0;
  for (const GoodsItem& i : s.items) {
    InvtRefundList l;
    l.gnum = ++gnum;
    l.gcode = i.gcode;
    l.gname = i.name;
    l.qty = i.qty;
    l.unit = i.unit;
    r.lists.push_back(std::move(l));
  }
  return Wrap(MessageType::kCEB625, s, {r}, s.agent_code, "衡阳综保区报关服务有限公司");
}

BatchMessages MakeBatch(const std::vector<ClearanceSpec>& specs) {
  std::vector<Record> o, p, w, i;
  for (const ClearanceSpec& s : specs) {
    Order order = MakeOrder(s);
    p.push_back(MakePayment(s, order));
    o.push_back(std::move(order));
    w.push_back(MakeWaybill(s));
    i.push_back(MakeInventory(s));
  }
  const ClearanceSpec& first = specs.front();
  BatchMessages b;
  b.orders = Wrap(MessageType::kCEB311, first, std::move(o), first.ebp_code, "衡阳跨境购平台");
  b.payments = Wrap(MessageType::kCEB411, first, std::move(p), first.pay_code,
                    "支付宝（中国）网络技术有限公司");
  b.waybills =
      Wrap(MessageType::kCEB511, first, std::move(w), first.logistics_code, "湘南国际物流有限公司");
  b.inventories = Wrap(MessageType::kCEB621, first, std::move(i), first.agent_code,
                       "衡阳综保区报关服务有限公司");
  return b;
}

std::vector<ClearanceSpec> GeneratedClearances(uint64_t first, uint64_t count) {
  struct Goods {
    const char* gcode;
    const char* name;
    const char* unit;
    int64_t price_fen;
    const char* country;
  };
  static constexpr Goods kGoods[] = {
      {"3304990099", "保湿面霜", "142", 32800, "116"},
      {"1901101000", "婴幼儿配方奶粉", "122", 26800, "609"},
      {"9619001100", "婴儿纸尿裤", "125", 12900, "116"},
      {"2106909090", "复合维生素片", "140", 19800, "601"},
      {"2204210000", "红葡萄酒", "142", 39800, "305"},
      {"3303000000", "淡香水", "142", 68000, "305"},
      {"4202210090", "真皮手提包", "011", 249900, "307"},
      {"9102110000", "石英手表", "008", 158000, "116"},
      {"6403990090", "皮革休闲鞋", "025", 89900, "502"},
      {"3305100000", "洗发水", "142", 8900, "116"},
  };
  std::vector<ClearanceSpec> out;
  out.reserve(count);
  for (uint64_t n = first; n < first + count; ++n) {
    ClearanceSpec s;
    s.seed = n;
    char no[32];
    std::snprintf(no, sizeof no, "HYG%011llu", static_cast<unsigned long long>(n));
    s.order_no = no;
    s.logistics_no = std::string("XN") + (no + 3);
    s.buyer_id = MakeResidentId(n);
    s.buyer_phone = "139" + std::to_string(10000000 + n % 89999999);
    uint64_t h = Hash64(s.order_no);
    // Each buyer at an address of their own, as real buyers are (the risk rules look for many
    // buyer IDs behind one address).
    static constexpr const char* kDistricts[] = {"蒸湘区", "雁峰区", "石鼓区", "珠晖区", "南岳区"};
    s.consignee_address = std::string("湖南省衡阳市") + kDistricts[n % 5] + "解放大道" +
                          std::to_string(1 + n % 997) + "号" + std::to_string(1 + n / 997 % 40) +
                          "栋" + std::to_string(101 + n / 39880 % 30) + "室";
    const int lines = 1 + static_cast<int>(h % 3);
    for (int i = 0; i < lines; ++i) {
      const Goods& g = kGoods[(h >> (8 * i)) % 10];
      // Two of the cheaper goods now and then; an expensive one alone.
      const int64_t qty = g.price_fen < 100000 ? 1 + static_cast<int64_t>((h >> 20) % 2) : 1;
      s.items.push_back(GoodsItem{g.gcode, g.name, g.unit, Decimal::FromUnits(qty),
                                  Decimal::FromFen(g.price_fen), g.country});
    }
    s.freight = Decimal::FromFen(static_cast<int64_t>(h % 3) * 1000);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<ClearanceSpec> DemoClearances() {
  auto item = [](const char* gcode, const char* name, int64_t price_fen, int64_t qty = 1,
                 const char* unit = "007", const char* country = "116") {
    return GoodsItem{gcode,  name, unit, Decimal::FromUnits(qty), Decimal::FromFen(price_fen),
                     country};
  };
  std::vector<ClearanceSpec> v;
  auto add = [&](std::string no, std::vector<GoodsItem> items, int64_t freight_fen,
                 uint64_t buyer) {
    ClearanceSpec s;
    s.order_no = "HY20240611" + no;
    s.logistics_no = "XN" + no + "8847";
    s.items = std::move(items);
    s.freight = Decimal::FromFen(freight_fen);
    s.buyer_id = MakeResidentId(buyer);
    static constexpr const char* kNames[] = {"王芳", "李娜", "张伟", "刘洋", "陈静",
                                             "杨磊", "赵敏", "黄磊", "周婷", "吴昊"};
    s.buyer_name = kNames[buyer % 10];
    s.buyer_phone = "1380734" + std::to_string(1000 + buyer % 9000);
    v.push_back(std::move(s));
    return &v.back();
  };
  add("0001", {item("3304990099", "雪肌精面霜", 100000, 1, "142")}, 0, 1);
  add("0002",
      {item("1901101000", "婴幼儿配方奶粉", 26800, 3, "122", "609"),
       item("9619001100", "婴儿纸尿裤", 12900, 2, "125")},
      2000, 2);
  add("0003", {item("2204210000", "法国红葡萄酒", 39800, 2, "142", "305")}, 1500, 3);
  add("0004", {item("4202210090", "真皮手提包", 600000)}, 0, 4);  // single item over 5,000: held
  add("0005", {item("3304990099", "精华液", 260000, 2, "142")}, 3000,
      5);  // 5,230 in two items: rejected
  add("0006", {item("2106909090", "益生菌粉", 18800, 2, "140", "601")}, 1000, 6)->payer_id =
      MakeResidentId(99);
  v.back().payer_name = "王建国";  // paid by someone else: buyer is not the payer
  add("0007", {item("2402200000", "卷烟", 39900)}, 0, 7);  // tobacco: not on the retail-import list
  add("0008", {item("9102110000", "石英手表", 218000)}, 2500, 8);
  add("0009", {item("6403990090", "皮革运动鞋", 89900, 1, "025", "502")}, 2000, 9);
  add("0010", {item("3303000000", "香水", 98000, 1, "142", "305")}, 0, 10)->waybill_address =
      "湖南省衡阳市石鼓区人民路8号";
  return v;
}

}  // namespace kuajing::app
