// Builds realistic export declarations (order, receipt of payment, waybill, list, arrival,
// departure) for the tests, the month simulation and `kuajing generate --export`, through the
// same codec that reads them. The goods are Hunan's export lines (tea, porcelain, fireworks
// models, motors, garments); destinations and currencies vary; deterministic from the seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/decimal.h"

namespace kuajing::app {

struct ExportItem {
  std::string item_no, gcode, name, unit = "011", unit1 = "011";
  Decimal qty = Decimal::FromUnits(1), qty1 = Decimal::FromUnits(1), price;
};

struct ExportSpec {
  std::string order_no, logistics_no, cop_no;
  std::string trade_mode = "9610";  // 9610, 9710, 9810
  std::string statistics_flag = "B";
  std::string country = "502";   // country of arrival (USA)
  std::string currency = "502";  // USD
  std::string app_time = "20240603093000";
  std::string leave_time = "20240604080000";
  std::string ebp_code = "4304961002", ebc_code = "4304962002", agent_code = "4304963001",
              owner_code = "4304962002", logistics_code = "4304964001",
              operator_code = "4304965002", pay_code = "312226T001";
  std::string customs_code = "4900", port_code = "4900";
  std::vector<ExportItem> items;
  uint64_t seed = 0;
};

struct ExportMessages {
  std::string order, receipts, waybill, inventory, arrival, departure;  // 303 403 505 603 507 509
};

ExportMessages MakeExport(const ExportSpec& spec);

// `count` varied export lists (numbers from `first`) spread over the days of `year`/`month`:
// mixed modes (mostly 9610, some 9710 and 9810), a tenth simplified (A), several destinations and
// currencies, one to four lines from a fixed set of goods.
std::vector<ExportSpec> GeneratedExports(uint64_t first, uint64_t count, int year, int month);

}  // namespace kuajing::app
