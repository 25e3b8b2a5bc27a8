#include "app/export_batch.h"

#include <array>

#include "codec/codec.h"
#include "common/hash.h"
#include "model/documents.h"

namespace kuajing::app {

using namespace kuajing::model;

namespace {

BaseTransfer Transfer(const std::string& code) {
  return BaseTransfer{code, "kuajing generated", "DXP", "DXPENT0000000001", ""};
}

template <typename R>
std::string One(MessageType type, R record, const std::string& sender, const std::string& seed) {
  Message m;
  m.type = type;
  m.guid = DeterministicGuid("xmsg/" + seed);
  m.records.push_back(std::move(record));
  m.base_transfer = Transfer(sender);
  return codec::Encode(m);
}

}  // namespace

ExportMessages MakeExport(const ExportSpec& s) {
  const std::string key = s.order_no + "/" + std::to_string(s.seed);
  auto guid = [&](const char* kind) { return DeterministicGuid(std::string(kind) + key); };
  const char* order_type = s.trade_mode == "9710" ? "B" : s.trade_mode == "9810" ? "W" : "E";
  ExportMessages out;

  exp::Order o;
  o.head = exp::OrderHead{guid("o"),  "1",
                          s.app_time, "2",
                          order_type, s.order_no,
                          s.ebp_code, "湘南优品跨境电商平台",
                          s.ebc_code, "衡阳雁城母婴用品进出口有限公司"};
  o.head.currency = s.currency;
  exp::Inventory inv;
  Decimal goods, gross;
  for (size_t i = 0; i < s.items.size(); ++i) {
    const ExportItem& it = s.items[i];
    const Decimal total = it.price.Times(it.qty);
    goods += total;
    gross += it.qty1;
    exp::OrderList ol;
    ol.gnum = static_cast<int64_t>(i + 1);
    ol.itemNo = it.item_no;
    ol.itemName = it.name;
    ol.unit = it.unit;
    ol.currency = s.currency;
    ol.qty = it.qty;
    ol.price = it.price;
    ol.totalPrice = total;
    o.lists.push_back(ol);
    exp::InventoryList il;
    il.gnum = ol.gnum;
    il.itemNo = it.item_no;
    il.itemName = it.name;
    il.gcode = it.gcode;
    il.gname = it.name;
    il.gmodel = it.name + " 出口规格";
    il.barCode = "无";
    il.country = s.country;
    il.currency = s.currency;
    il.qty = it.qty;
    il.qty1 = it.qty1;
    il.unit = it.unit;
    il.unit1 = it.unit1;
    il.price = it.price;
    il.totalPrice = total;
    inv.lists.push_back(il);
  }
  o.head.goodsValue = goods;
  out.order = One(MessageType::kCEB303, o, s.ebc_code, "o" + key);

  exp::Receipts r;
  r.guid = guid("r");
  r.appType = "1";
  r.appTime = s.app_time;
  r.appStatus = "2";
  r.ebpCode = s.ebp_code;
  r.ebpName = "湘南优品跨境电商平台";
  r.ebcCode = s.ebc_code;
  r.ebcName = "衡阳雁城母婴用品进出口有限公司";
  r.orderNo = s.order_no;
  r.payCode = s.pay_code;
  r.payName = "支付宝（中国）网络技术有限公司";
  r.payNo = "PAY-" + s.order_no;
  r.charge = goods;
  r.currency = s.currency;
  r.accountingDate = s.app_time;
  out.receipts = One(MessageType::kCEB403, r, s.pay_code, "r" + key);

  // Weights: one kilogram of gross weight per legal unit, a tenth of it packing.
  if (gross.e5 == 0) gross = Decimal::FromUnits(1);
  const Decimal net = Decimal::FromE5(gross.e5 * 9 / 10);
  exp::Logistics w;
  w.guid = guid("w");
  w.appType = "1";
  w.appTime = s.app_time;
  w.appStatus = "2";
  w.logisticsCode = s.logistics_code;
  w.logisticsName = "湘南国际物流有限公司";
  w.logisticsNo = s.logistics_no;
  w.currency = s.currency;
  w.grossWeight = gross;
  w.packNo = 1;
  w.goodsInfo = s.items.empty() ? "出口商品" : s.items[0].name;
  out.waybill = One(MessageType::kCEB505, w, s.logistics_code, "w" + key);

  auto& h = inv.head;
  h.guid = guid("i");
  h.appType = "1";
  h.appTime = s.app_time;
  h.appStatus = "2";
  h.customsCode = s.customs_code;
  h.ebpCode = s.ebp_code;
  h.ebpName = "湘南优品跨境电商平台";
  h.orderNo = s.order_no;
  h.logisticsCode = s.logistics_code;
  h.logisticsName = "湘南国际物流有限公司";
  h.logisticsNo = s.logistics_no;
  h.copNo = s.cop_no;
  h.ieFlag = "E";
  h.portCode = s.port_code;
  h.ieDate = s.app_time.substr(0, 8);
  h.statisticsFlag = s.statistics_flag;
  h.agentCode = s.agent_code;
  h.agentName = "衡阳综保区报关服务有限公司";
  h.ebcCode = s.ebc_code;
  h.ebcName = "衡阳雁城母婴用品进出口有限公司";
  h.ownerCode = s.owner_code;
  h.ownerName = "衡阳雁城母婴用品进出口有限公司";
  h.tradeMode = s.trade_mode;
  h.trafMode = "5";
  h.country = s.country;
  h.POD = s.country;
  h.fCurrency = s.currency;
  h.fFlag = "3";
  h.iCurrency = s.currency;
  h.iFlag = "3";
  h.wrapType = "2";
  h.packNo = 1;
  h.grossWeight = gross;
  h.netWeight = net;
  out.inventory = One(MessageType::kCEB603, inv, s.agent_code, "i" + key);

  exp::Arrival a;
  a.head.guid = guid("a");
  a.head.appType = "1";
  a.head.appTime = s.app_time;
  a.head.appStatus = "2";
  a.head.customsCode = s.customs_code;
  a.head.copNo = "A-" + s.cop_no;
  a.head.operatorCode = s.operator_code;
  a.head.operatorName = "衡阳跨境电商监管中心运营有限公司";
  a.head.ieFlag = "E";
  a.head.trafMode = "5";
  a.head.domesticTrafNo = "湘D12345";
  a.head.logisticsCode = s.logistics_code;
  a.head.logisticsName = "湘南国际物流有限公司";
  a.head.msgCount = 1;
  a.head.msgSeqNo = 1;
  a.lists.push_back(exp::ArrivalList{1, s.logistics_no});
  out.arrival = One(MessageType::kCEB507, a, s.operator_code, "a" + key);

  exp::Departure d;
  d.head.guid = guid("d");
  d.head.appType = "1";
  d.head.appTime = s.leave_time;
  d.head.appStatus = "2";
  d.head.customsCode = s.customs_code;
  d.head.copNo = "D-" + s.cop_no;
  d.head.logisticsCode = s.logistics_code;
  d.head.logisticsName = "湘南国际物流有限公司";
  d.head.trafMode = "5";
  d.head.trafName = "CA1234";
  d.head.voyageNo = "CA1234";
  d.head.billNo = "999-" + s.cop_no.substr(s.cop_no.size() > 8 ? s.cop_no.size() - 8 : 0);
  d.head.leaveTime = s.leave_time;
  d.head.msgCount = 1;
  d.head.msgSeqNo = 1;
  d.lists.push_back(exp::DepartureList{1, "", s.logistics_no});
  out.departure = One(MessageType::kCEB509, d, s.logistics_code, "d" + key);
  return out;
}

std::vector<ExportSpec> GeneratedExports(uint64_t first, uint64_t count, int year, int month) {
  struct Goods {
    const char* gcode;
    const char* name;
    const char* unit;
    const char* unit1;  // legal unit
    int64_t price_fen;  // unit price in the list currency
  };
  static constexpr std::array<Goods, 8> kGoods = {{
      {"0902301000", "安化黑茶", "035", "035", 2000},
      {"0902109000", "湖南绿茶", "035", "035", 3500},
      {"6912001000", "醴陵瓷器茶具", "011", "011", 4550},
      {"9503008900", "浏阳烟花模型", "011", "011", 1200},
      {"8501109990", "微型电动机", "011", "011", 150000},
      {"6109100021", "棉制针织T恤衫", "011", "011", 899},
      {"4202920000", "旅行箱包", "011", "011", 6500},
      {"8517629990", "无线通信模块", "011", "011", 25000},
  }};
  static constexpr std::array<const char*, 5> kCountries = {"502", "303", "116", "132", "601"};
  std::vector<ExportSpec> out;
  char ym[16];
  std::snprintf(ym, sizeof ym, "%04d%02d", year % 10000, month % 100);
  for (uint64_t n = first; n < first + count; ++n) {
    const uint64_t h = Hash64("export/" + std::to_string(n));
    ExportSpec s;
    s.seed = n;
    s.order_no = "HYX" + std::to_string(n);
    s.logistics_no = "XNE" + std::to_string(n);
    s.cop_no = "C" + std::to_string(n);
    const int day = 1 + static_cast<int>(h % 26);  // departs by the 27th at the latest
    char t[48];
    std::snprintf(t, sizeof t, "%s%02d09%02d00", ym, day, static_cast<int>(h / 7 % 60));
    s.app_time = t;
    std::snprintf(t, sizeof t, "%s%02d20%02d00", ym, day + 1, static_cast<int>(h / 11 % 60));
    s.leave_time = t;
    const int mode = static_cast<int>(h / 13 % 20);
    s.trade_mode = mode < 15 ? "9610" : mode < 18 ? "9710" : "9810";
    s.statistics_flag = h / 17 % 10 == 0 ? "A" : "B";
    s.country = kCountries[h / 19 % kCountries.size()];
    s.currency = h / 23 % 3 == 0 ? "142" : "502";
    const size_t lines = 1 + h / 29 % 4;
    for (size_t i = 0; i < lines; ++i) {
      const Goods& g = kGoods[(h / 31 + i * 3) % kGoods.size()];
      ExportItem it;
      it.item_no = std::string("SKU-") + g.gcode;
      it.gcode = g.gcode;
      it.name = g.name;
      it.unit = g.unit;
      it.unit1 = g.unit1;
      it.qty = Decimal::FromUnits(static_cast<int64_t>(1 + (h >> (i * 4)) % 12));
      it.qty1 = it.qty;
      it.price = Decimal::FromFen(g.price_fen);
      s.items.push_back(it);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace kuajing::app
