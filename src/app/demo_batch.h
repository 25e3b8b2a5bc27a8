// Builds realistic import declarations (order, payment, waybill, inventory list) for the demo
// batch, the benchmarks and the tests, through the same codec that reads them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/decimal.h"

namespace kuajing::app {

struct GoodsItem {
  std::string gcode;  // 10 digits
  std::string name;
  std::string unit = "007";  // 个
  Decimal qty = Decimal::FromUnits(1);
  Decimal price;
  std::string country = "116";  // origin: Japan
};

// One complete clearance: the four documents share these facts.
struct ClearanceSpec {
  std::string order_no;
  std::string logistics_no;
  std::string buyer_name = "张三";
  std::string buyer_id = "430404199001011237";
  std::string buyer_phone = "13800000000";
  std::string payer_name;  // empty: the buyer pays
  std::string payer_id;
  std::string consignee_address = "湖南省衡阳市蒸湘区解放大道1号";
  std::string waybill_address;  // empty: same as the order's
  std::vector<GoodsItem> items;
  Decimal freight;
  Decimal insured_fee;
  std::string trade_mode = "1210";  // bonded (Hengyang comprehensive bonded zone)
  std::string app_time = "20240611093000";
  std::string ebp_code = "4304961001", ebc_code = "4304962001", agent_code = "4304963001",
              logistics_code = "4304964001", pay_code = "312226T001", area_code = "4304965001";
  std::string customs_code = "4900", port_code = "4900";
  uint64_t seed = 0;  // makes the guids
};

struct ClearanceMessages {
  std::string order, payment, waybill, inventory;  // CEB311, CEB411, CEB511, CEB621 XML
  std::string inventory_guid;
};

ClearanceMessages MakeClearance(const ClearanceSpec& spec);

// A cancellation (CEB623) or a return of the whole list (CEB625) of a released clearance, by the
// declaring agent, with the invtNo the platform gave it.
std::string MakeCancel(const ClearanceSpec& spec, const std::string& invt_no,
                       const std::string& app_time, const std::string& reason);
std::string MakeReturn(const ClearanceSpec& spec, const std::string& invt_no,
                       const std::string& app_time, const std::string& reason);

// Several clearances batched into one message per document type (up to 100 each).
struct BatchMessages {
  std::string orders, payments, waybills, inventories;
};
BatchMessages MakeBatch(const std::vector<ClearanceSpec>& specs);

// A valid GB 11643 resident ID for a sequence number (for generated buyers).
std::string MakeResidentId(uint64_t n);

// `count` varied, valid clearances (goods from the positive list at plausible prices, one buyer per
// clearance, numbers from `first`), for benchmarks and load. Deterministic.
std::vector<ClearanceSpec> GeneratedClearances(uint64_t first, uint64_t count);

// The shipped demo: a morning at the Hengyang zone, with what a zone really sees (clean orders,
// an over-limit order, a buyer near the annual limit, a document mismatch, goods off the positive
// list, a single expensive item held for review).
std::vector<ClearanceSpec> DemoClearances();

}  // namespace kuajing::app
