// Field rules of single documents, beyond the schema's facets: code lists, check digits, the
// amounts that must add up inside one document, and the mode-dependent required fields.
// Cross-document rules (three-document matching, limits) live in engine.cc.
#pragma once

#include <string>
#include <vector>

#include "clearance/rules.h"
#include "codec/codec.h"
#include "model/documents.h"

namespace kuajing::clearance {

struct Finding {
  const char* code;    // negative returnStatus
  std::string detail;  // "InventoryHead.buyerIdNumber: ..." for the declarant
};

// Returns the problems of one declaration record; empty if it passes. Stateless; thread-safe.
std::vector<Finding> ValidateRecord(const model::Record& record, const RulesConfig& rules);

}  // namespace kuajing::clearance
