// The import clearance engine: the customs-side state machine of cross-border retail imports
// (9610 direct mail, 1210/1239 bonded).
//
// It takes decoded declarations (order CEB311, payment CEB411, waybill CEB511, waybill status
// CEB513, inventory list CEB621, cancellation CEB623, return CEB625, warehouse entry CEB711) in any
// order, keeps the documents by their business keys, matches order + payment + waybill with the
// inventory list (三单对碰), applies the retail-import rules (positive list, 5,000 / 26,000 CNY
// limits, 70 % tax), decides, and answers every record with the standard receipt.
//
// The engine is deterministic: the same records with the same times give the same receipts, guids
// and numbers. It does no I/O of its own. Each call returns the receipts to send, the state rows
// that changed and the quota ledger entries; the caller (app::Platform) makes them durable in one
// transaction before anything is acknowledged, and feeds the stored rows back through Restore() on
// start.
//
// Decided clearances leave memory (issue 7, goal 4): given a StateReader, once the caller has
// committed a step it calls Evict(), and the released, closed, returned and rejected lists of that
// step go, with their order, payment and waybill; what stays is the quota book and a fingerprint of
// their order, payment and waybill keys (ColdKeys). A later document that names one of those keys
// reads the clearance back through the reader before anything else looks at it, so every answer is
// the same as if it had stayed (engine_eviction_test: the same traffic with and without eviction).
//
// Thread safety: not thread-safe; one engine is driven by one thread (the store's writer).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "clearance/rules.h"
#include "clearance/tax.h"
#include "codec/codec.h"
#include "common/status.h"
#include "common/varint.h"
#include "credit/credit.h"
#include "reference/reference_data.h"
#include "stats/aggregates.h"

namespace kuajing::clearance {

// One receipt to send.
struct Emitted {
  model::MessageType type;   // CEB312 ... CEB712, CEB816, CEB818
  std::string answers_guid;  // guid of the declaration it answers (816/818: the inventory's)
  std::string status;        // returnStatus (816/818: the tax bill status)
  // The receipt's record, packed (codec::PackRecord) as it is made: moving a record through the
  // step's results, a variant of every kind of document, cost more than packing it.
  std::string receipt;
  // The enterprises the declaration names (ebpCode, ebcCode, agentCode, ...): who may read it.
  std::vector<std::string> parties;
};

// A state row that changed: (kind, key) -> value, or erased.
struct StateChange {
  std::string kind;  // "order", "payment", "waybill", "inventory", "delivery", "meta"
  std::string key;
  std::string value;  // opaque to the store
  bool erase = false;
};

// One movement of a buyer's annual amount (append-only audit of the quota).
struct QuotaEntry {
  std::string buyer_id;
  int year = 0;
  Decimal delta;  // + counted on acceptance, - restored on rejection, cancellation, return
  std::string invt_no;
  std::string reason;
  int64_t at_ms = 0;
};

struct StepResult {
  std::vector<Emitted> receipts;
  // Records that repeat an earlier declaration (same guid and appTime, or same business key and
  // appTime): the caller answers them with the stored receipts of these guids.
  std::vector<std::string> resend_guids;
  std::vector<StateChange> changes;
  std::vector<QuotaEntry> ledger;
  // Not OK if a clearance kept out of memory could not be read back: the step's answers cannot be
  // trusted, and nothing of it may be committed (the caller stops, as on a failed commit).
  Status status = Status::Ok();
};

// Reads the state row (kind, key) as last committed; nullopt if there is none (storage::Store::
// ReadState).
using StateReader = std::function<StatusOr<std::optional<std::string>>(std::string_view kind,
                                                                       std::string_view key)>;

// An officer's decision on a held inventory (manual review 300 or inspection 500): release it,
// send a reviewed one to inspection, or reject it.
struct OfficerDecision {
  enum class Action { kRelease, kInspect, kReject };
  std::string invt_no;
  Action action = Action::kRelease;
  std::string reason;
  std::string officer;
};

// The answer to record `i` of a decoded declaration if it is not well formed: its field problems,
// the schema's facets (codec) first, then the field rules (validation), under the type's code.
// Shared by the import and the export engine. nullopt: the record may go on.
std::optional<Emitted> FieldRejection(const codec::DecodedMessage& m, size_t i,
                                      const RulesConfig& rules, int64_t now_ms);

struct QuotaView {
  Decimal used;
  Decimal remaining;
};

class Engine {
 public:
  // `credit` (may be null: no credit system) is the zone's credit book, shared with the export
  // engine and owned by the caller: the engine charges events to it and takes the grades of a
  // list's declarants for random inspection (docs/CREDIT.md).
  Engine(const reference::ReferenceData* reference, RulesConfig rules,
         credit::Book* credit = nullptr);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Processes every record of a decoded declaration message received at `now_ms` from the
  // enterprise `sender` (the code the connection is authenticated as; offline, BaseTransfer's
  // copCode). Records with field errors are answered with the type's negative code.
  StepResult Process(const codec::DecodedMessage& message, std::string_view sender, int64_t now_ms);
  // The same, moving the documents the engine keeps (orders, payments, waybills, lists) out of
  // `message` instead of copying them: its records are moved from afterwards.
  StepResult Process(codec::DecodedMessage&& message, std::string_view sender, int64_t now_ms);

  // Applies an officer's decision. Returns FailedPrecondition if the inventory is unknown or not
  // held; nothing changes then.
  StatusOr<StepResult> Decide(const OfficerDecision& decision, int64_t now_ms);

  // The statistics the engine keeps up to date as lists are released, cancelled and returned
  // (docs/METRICS.md); set before Restore, which adds the stored lists. Null: none are kept.
  void SetStats(stats::Aggregates* stats);

  // Loads one stored state row (from a previous StepResult) at start-up. With a StateReader,
  // decided clearances are only counted and fingerprinted; the rows must then come in (kind, key)
  // order, as storage::Store::LoadState gives them, so that a list's row precedes its documents'.
  Status Restore(const StateChange& row);
  // False for a row Restore would pass over unread, known from its kind and key alone: the links
  // (read only for clearances out of memory) and the orders and waybills of settled clearances.
  // Asked before the row's turn, so that start-up need not read and unpack those rows. It reads
  // only what Restore did with rows of earlier kinds (an order's or a waybill's answer comes from
  // the lists and fingerprints the list rows left), never what Restore does with rows of the kind
  // asked about: the store may ask it on its own thread meanwhile (Store::LoadState).
  bool RestoreWants(std::string_view kind, std::string_view key) const;

  // What start-up would otherwise rebuild from every stored list (app/snapshot.h): the annual
  // amounts and names, the fingerprints and phase counts of the clearances out of memory, the
  // risk windows and the numbering, with the keys of the rows held in memory. Call it only
  // between steps, with every step committed and Evict() called. After each large part, `flush`
  // is given `out` to write and clear, so the whole is never held in memory at once.
  void SaveSnapshot(std::string& out, const std::function<void(std::string&)>& flush) const;
  // Loads what SaveSnapshot wrote instead of Restore()ing every stored row: then only the rows
  // named in `resident` are given to Restore, in that order ((kind, key) order), and Restore does
  // not count them again. FailedPrecondition if the risk rules keep another span than when it was
  // made (the windows would differ from a full restore's), Internal if it is not a snapshot. On
  // any error the engine must be discarded. Call it first, on a new engine with its reader set.
  using RowKeys = std::vector<std::pair<std::string, std::string>>;  // (kind, key)
  Status LoadSnapshot(VarintReader& in, RowKeys* resident);

  // Where the engine reads the clearances it keeps out of memory. Set before Restore; without a
  // reader every clearance stays in memory.
  void SetStateReader(StateReader reader);

  // Lets the decided clearances of the steps since the last call leave memory. Call it only once
  // those steps' changes are committed (the reader must find them).
  void Evict();

  // New risk rules from now on (a reload); null turns risk assessment off. Lists already decided
  // keep the rules version they were decided with.
  void SetRiskRules(std::shared_ptr<const risk::Rules> rules);

  QuotaView Quota(std::string_view buyer_id, int year) const;

  // True if `name` is the buyer name on a list of `buyer_id` that counted toward a year: the
  // public quota query needs both, so an ID number alone reveals nothing.
  bool BuyerKnownAs(std::string_view buyer_id, std::string_view name) const;

  // A list waiting for an officer: manual review (300) or inspection (500).
  struct HeldList {
    std::string invt_no, guid, order_no, ebp_code, ebc_code, agent_code, buyer_name, status, reason;
    std::string risk_version;  // the rules version that decided the hold ("" if not risk)
    int risk_score = 0;
    std::string agent_grade, ebc_grade;  // credit grades now ("" without a credit system)
    Decimal dutiable, tax;
    int line_count = 0;
  };
  // The guid of the document stored under a business key: kind "order" (ebpCode, orderNo),
  // "payment" (payCode, payTransactionId), "waybill" (logisticsCode, logisticsNo), "inventory"
  // (ebpCode, orderNo) or "invtNo" (invtNo, ""). Empty if there is none.
  std::string GuidOf(std::string_view kind, std::string_view a, std::string_view b) const;

  // Held lists, oldest invtNo first, at most `limit`.
  std::vector<HeldList> Held(size_t limit) const;

  // A list's documents as stored, by its invtNo, for the officer to see side by side: the list
  // and the order, payment and waybill it was matched with (each absent if there is none).
  struct ClearanceDocuments {
    std::optional<model::Inventory> inventory;
    std::optional<model::Order> order;
    std::optional<model::Payment> payment;
    std::optional<model::Logistics> waybill;
  };
  ClearanceDocuments DocumentsOf(std::string_view invt_no) const;

  // Counts for reports and tests.
  struct Counts {
    // orders ... inventories: held in memory. waiting, held, released: all lists. in_store_only:
    // settled and rejected clearances kept out of memory.
    size_t orders = 0, payments = 0, waybills = 0, inventories = 0, waiting = 0, held = 0,
           released = 0, in_store_only = 0;
  };
  Counts counts() const;

 private:
  struct State;
  // A stored row of a clearance out of memory whose key `tag` (ColdKeys; 0: a key without a
  // fingerprint, always read) is `key`.
  std::optional<std::string> ReadStored(char tag, const char* kind, const std::string& key) const;
  template <typename Message>
  StepResult ProcessRecords(Message& message, std::string_view sender, int64_t now_ms);
  std::unique_ptr<State> s_;
};

}  // namespace kuajing::clearance
