// The risk prevention and control system (风险防控体系) of the pilot zone: declarative rules,
// loaded from a versioned rules file, that score each retail-import list once its documents
// match, and say why.
//
// Each rule yields a score and a reason a customs officer (and, where allowed, the declarant) can
// read; the sum decides: below `review` the list goes on, from `review` it waits for manual review
// (300), from `inspect` for inspection (500), from `reject` it is refused. Rule kinds (docs/RISK.md
// lists each with its source):
//   goods_list       HS codes (by prefix) that are prohibited or restricted
//   party_list       blacklisted buyer IDs, phones, addresses or enterprises
//   velocity         one buyer ID, phone or address over N lists or an amount within a window
//   shared_contact   many buyer IDs behind one address or phone within a window (fake orders,
//                    ID renting)
//   split_orders     one buyer's lists of one day, platform and address that together pass the
//                    single limit while each stays under it (limit evasion)
//   under_valuation  a declared unit price below a share of the reference price of its tariff line
//   payment_before_order, consignee_not_buyer, weight_per_unit   document anomalies
//
// Deterministic: the same lists, times and rules give the same verdicts; the velocity state is
// rebuilt from the stored lists at start (Observe), so a restart or a replay sees the same past.
// Thread safety: not thread-safe; driven by the clearance engine's one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/decimal.h"
#include "common/status.h"
#include "common/varint.h"
#include "model/documents.h"

namespace kuajing::risk {

enum class Action : uint8_t { kRelease = 0, kReview = 1, kInspect = 2, kReject = 3 };
const char* ActionName(Action a);

struct Rule {
  std::string id;      // unique in the file, named in every reason
  std::string kind;    // see above
  int score = 0;       // added when the rule fires
  std::string reason;  // what the officer reads; the facts are appended
  // goods_list: HS code prefixes. party_list: the values of `field`.
  std::vector<std::string> values;
  // party_list: buyer_id | phone | address | enterprise; velocity / shared_contact: buyer_id |
  // phone | address.
  std::string field;
  int64_t window_ms = 0;  // velocity, shared_contact
  int max_count = 0;      // velocity: lists; shared_contact: distinct buyer IDs
  Decimal max_amount;     // velocity (0 = no amount limit); split_orders: the single limit
  Decimal ratio;          // under_valuation: share of the reference price
  std::unordered_map<std::string, Decimal> reference_prices;  // under_valuation: hs (prefix) ->
                                                              // unit price, CNY
  Decimal max_kg_per_unit, min_kg_per_unit;                   // weight_per_unit (0 = not checked)
  // A list this rule helps to reject puts its buyer on the discredited list (docs/CREDIT.md):
  // for the patterns of fake orders and rented IDs.
  bool discredit_buyer = false;
};

struct Rules {
  std::string version;  // the file's own version, plus a hash of its content
  std::string text;     // the file as read (kept with every version used, for replay)
  int review = 40, inspect = 70, reject = 100;
  std::vector<Rule> rules;
  // How long the engine keeps the lists it observed: the longest window of these rules (two days
  // for split_orders, which looks at one CST day), or the file's `keep_days` if that is longer
  // (for a longer window loaded later; at most 400 days). Lists older than this are forgotten.
  int64_t keep_ms = 0;
};

// Parses a rules file (TOML; config/risk-rules.toml is the shipped example). Fails with
// InvalidArgument naming the rule and the key.
StatusOr<Rules> ParseRules(std::string_view toml_text);
StatusOr<Rules> LoadRules(const std::string& path);

// What the risk engine sees of one matched list.
struct ListFacts {
  const model::Inventory* inventory = nullptr;
  const model::Order* order = nullptr;
  const model::Payment* payment = nullptr;
  const model::Logistics* waybill = nullptr;
  Decimal dutiable;  // goods + freight + insurance, CNY
};

struct Finding {
  std::string rule_id;
  int score = 0;
  std::string reason;
  bool discredit_buyer = false;  // the rule's flag
};

struct Verdict {
  Action action = Action::kRelease;
  int score = 0;
  std::vector<Finding> findings;
  std::string rules_version;
  // "[rule-id] reason; [rule-id] reason (score 85, rules v3#1a2b)" — for receipts and officers.
  std::string Explain() const;
};

class RiskEngine {
 public:
  explicit RiskEngine(std::shared_ptr<const Rules> rules);

  // Scores a list against the rules and the lists observed so far. Changes nothing.
  Verdict Assess(const ListFacts& facts, int64_t now_ms) const;

  // Records a list that reached the risk decision, at `at_ms`, into the windows of the velocity
  // rules (also at start, from the stored lists, in any order).
  void Observe(const model::InventoryHead& head, Decimal dutiable, int64_t at_ms);

  // Swaps in new rules (a reload). The observed past is kept.
  void SetRules(std::shared_ptr<const Rules> rules) { rules_ = std::move(rules); }
  const Rules& rules() const { return *rules_; }

  // The windows as they are (what Observe kept), for the engine's snapshot (app/snapshot.h);
  // LoadFrom replaces the observed past with what SaveTo wrote, and marks `in` bad if it is not
  // that. The rules are not part of it.
  void SaveTo(std::string& out) const;
  void LoadFrom(VarintReader& in);

  // Identities (buyer IDs, phones, addresses) with observed lists.
  size_t keys() const { return size_; }
  // The newest time observed; lists older than it by more than rules().keep_ms are forgotten.
  int64_t latest_ms() const { return latest_ms_; }

 private:
  // 24 bytes: identities are kept as hashes (Hash64), not as text.
  struct Event {
    int64_t at_ms;
    uint64_t buyer;       // buyer ID (shared_contact counts distinct ones)
    uint32_t amount_fen;  // the dutiable price in fen, at most 42,949,672.95 CNY (saturated)
    uint32_t place;       // 32-bit hash of platform and consignee address (split_orders)
  };
  // One identity (Hash64 of the buyer ID, the phone or the address, seeded by kind): its only
  // event inline, as most identities have one, or its events in spill_. 40 bytes.
  struct Slot {
    uint64_t key = 0;  // 0: empty
    Event first{};
    uint32_t spill = 0;  // n > 1: spill_[spill] holds the events, oldest first
    uint32_t n = 0;
  };
  std::span<const Event> Events(uint64_t key) const;
  Slot& SlotFor(uint64_t key);  // inserts an empty identity if needed
  void Grow();                  // first forgets identities whose newest list is past the horizon
  bool Expired(const Slot& s) const;
  static uint32_t Place(const model::InventoryHead& h);

  // An open-addressing table (linear probing, grown by half when 85 % full): a buyer seen once
  // costs three slots, about 3 x 50 bytes (bench/README.md), against 3 x 110 with a node map.
  std::vector<Slot> slots_;
  size_t size_ = 0;
  std::vector<std::vector<Event>> spill_;
  std::vector<uint32_t> free_spill_;  // spill_ entries of forgotten identities, to reuse
  int64_t latest_ms_ = 0;
  std::shared_ptr<const Rules> rules_;
};

}  // namespace kuajing::risk
