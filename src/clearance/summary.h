// Summary declaration of export lists ("清单核放、汇总申报", domain-reference 5.2): the lines of a
// period's closed export lists grouped into the lines of customs declarations.
//
// What the message standard confirms [V]: a summary is asked for per declaring agent and consignor
// (SummaryApplyHead agentCode, ebcCode), optionally also per producer (summaryFlag 2); item names
// come from the lists' itemName (itemNameFlag 1) or from the classification name; CEB792 maps each
// list line (invtNo, gnum) to a line of the summary (gseqno). What customs is recalled to apply
// [U]: one declaration per consignor, producer (if asked), transport mode, country of arrival,
// customs office of exit and trade mode; one declaration line per 10-digit HS code, final
// destination country, currency and units; at most 50 lines per declaration (more start another).
//
// Pure and deterministic: the same lists in any order give the same declarations.
#pragma once

#include <string>
#include <vector>

#include "common/decimal.h"
#include "model/documents.h"

namespace kuajing::clearance {

struct SummarySource {
  const model::exp::Inventory* list = nullptr;
  std::string invt_no;
};

struct SummaryOptions {
  bool per_owner = false;    // summaryFlag 2
  bool by_item_name = true;  // itemNameFlag 1: the lists' itemName (else gname)
  int max_lines = 50;        // lines per declaration
};

// One list line behind a summary line.
struct SummaryLineSource {
  std::string invt_no, logistics_no, gcode;
  int64_t gnum = 0;
};

struct SummaryLine {
  int gseqno = 0;  // 1, 2, 3 ... within its declaration
  std::string gcode, name, country, currency, unit, unit1, unit2;
  Decimal qty, qty1, qty2, amount;  // sums of the list lines (exact)
  std::vector<SummaryLineSource> sources;
};

struct SummaryDeclaration {
  std::string agent_code, agent_name, ebc_code, ebc_name, owner_code, owner_name, customs_code,
      port_code, trade_mode, traf_mode, country;
  std::vector<SummaryLine> lines;
  // The weights and packages of the lists whose first line is in this declaration, so that the
  // declarations of one summary add up to its lists.
  Decimal gross_weight, net_weight;
  int64_t pack_no = 0;
  std::vector<std::string> invt_nos;  // every list with a line here, each once, sorted
};

std::vector<SummaryDeclaration> Summarize(std::vector<SummarySource> sources,
                                          const SummaryOptions& options);

}  // namespace kuajing::clearance
