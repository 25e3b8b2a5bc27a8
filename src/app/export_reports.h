// Reports of the export side for people: the export ledger as CSV for the tax office, and month
// arguments ("2024-06") as time ranges. Used by the CLI and the server alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clearance/export_engine.h"
#include "common/status.h"

namespace kuajing::app {

// "2024-06" or "202406" -> [first day 00:00 CST, first day of the next month), in ms.
StatusOr<std::pair<int64_t, int64_t>> MonthRange(std::string_view month);

// The ledger rows as RFC 4180 CSV with a header line (UTF-8, no BOM): date, invtNo, tradeMode,
// gnum, gcode, gname, qty, unit, price, amount, currency, country, kind (sale | return). The
// record 财税〔2018〕103号 asks the zone's online platform to keep for the invoice-free VAT
// exemption: date, goods name, HS code, quantity, unit price, amount.
std::string LedgerCsv(const std::vector<clearance::LedgerRow>& rows);

}  // namespace kuajing::app
