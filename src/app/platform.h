// Platform: the one code path from message bytes to durable receipts.
//
// Both the offline `kuajing ingest` and the server (later) call Submit(). For each message it
//   1. reads it (codec); an unreadable message is answered with CEB900;
//   2. answers a message already processed (same root guid) with its original receipts;
//   3. lets the engine decide (clearance);
//   4. commits the raw bytes, the receipts, the state rows and the quota ledger in one durable
//      transaction (storage), and only then returns the receipts.
// On start it loads the engine's state from the store, so a restart loses nothing that was
// acknowledged and counts no quota twice.
//
// If a commit fails the engine's memory is ahead of the disk; the platform then refuses every
// further call with Unavailable until it is reopened (which reloads the state from disk).
// Thread safety: not thread-safe; one caller at a time.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "clearance/engine.h"
#include "clearance/export_engine.h"
#include "codec/codec.h"
#include "credit/credit.h"
#include "reference/reference_data.h"
#include "storage/store.h"

namespace kuajing::app {

struct PlatformOptions {
  std::string data_dir;       // the store lives here
  std::string reference_dir;  // enterprises.csv, goods.csv
  clearance::RulesConfig rules;
  codec::DecodeOptions limits;
  credit::Config credit;  // [credit] (docs/CREDIT.md)
  // Where the risk rules came from (config `risk.rules` or --risk-rules); ReloadRiskRules reads
  // it again. Empty: no risk rules.
  std::string risk_rules_path;
};

struct Answer {
  std::vector<storage::StoredReceipt> receipts;
  bool repeated = false;  // the message was processed before; these are the original receipts
  // The new receipts as the store keeps them (numbered, packed), shared rather than copied, where
  // CommitPrepared was asked not to render (the server); they come before `receipts`, which then
  // holds none of them. Null otherwise.
  storage::Store::SharedReceipts stored;
};

class Platform {
 public:
  static StatusOr<std::unique_ptr<Platform>> Open(const PlatformOptions& options);

  // Processes one message received at `now_ms`. `sender` is the enterprise the connection is
  // authenticated as; empty means "trust BaseTransfer.copCode" (offline ingest of files).
  // Returns Unavailable if the store failed.
  StatusOr<Answer> Submit(std::string_view raw, std::string_view sender, int64_t now_ms);

  // Submit in two phases, so that several messages share one durable commit (group commit):
  // Prepare runs the engine on a message; CommitPrepared makes a group of prepared messages
  // durable in one transaction and returns their answers, in order. Nothing of a prepared message
  // may be shown to anyone before CommitPrepared returns OK. A message whose guid is already
  // prepared and not yet committed comes back with `commit_first` set: commit the group, then
  // prepare it again (it is then a repeat).
  struct Prepared {
    std::optional<Answer> ready;  // answered from the store (a repeat): nothing to commit
    bool commit_first = false;
    storage::CommitBatch batch;
    std::vector<std::string> resend_guids;
  };
  StatusOr<Prepared> Prepare(std::string_view raw, std::string_view sender, int64_t now_ms);
  // The same with the message already read (codec::Decode with limits()): the server reads each
  // message on the connection's I/O thread, outside the single writer (bench/README.md).
  StatusOr<Prepared> Prepare(std::string_view raw, const codec::DecodeResult& decoded,
                             std::string_view sender, int64_t now_ms);
  // The message's bytes as the store keeps them, packed by the caller already (the server packs
  // each message on its I/O thread): `format` a storage::BlobFormat, 0 if not packed.
  struct StoredRaw {
    std::string bytes;
    int64_t format = 0;
  };
  // The same, taking the message's bytes and its documents instead of copying them (a copy of
  // every message in the single writer, bench/README.md): `raw` and `decoded` are moved from when
  // a batch to commit comes back, and left as they were for a repeat and for `commit_first`. With
  // `stored` packed, an accepted message's row takes `stored->bytes` instead
  // (storage::MessageRow::raw_format) and `raw` is left as it was; a message refused for its form
  // keeps the bytes as received.
  // `unstored`: the caller asked the store for this message's guid (storage::Store::
  // MessagesStored, the server's writer for its whole group at once) and it was not there, and
  // nothing was committed since: the store is not asked again. Pass false for a message
  // prepared again after `commit_first`, and for every message after a commit.
  StatusOr<Prepared> Prepare(std::string&& raw, codec::DecodeResult&& decoded,
                             std::string_view sender, int64_t now_ms, StoredRaw* stored = nullptr,
                             bool unstored = false);
  const codec::DecodeOptions& limits() const { return options_.limits; }
  // With `sync` false the group is committed but not flushed to disk (storage::Store::
  // CommitUnsynced): the caller must have store().Sync() return OK before showing the answers to
  // anyone, and call MarkBroken() if it does not.
  // The group's batches are handed to the store (storage::Store::CommitUnsyncedTaking): after
  // the call they may be empty, and their receipts are in the answers.
  // With `render` false the answers' new receipts are left packed (storage::StoredReceipt::
  // packed) for the caller to write out of this call (the server's single writer: its syncer
  // writes them into the responses), and with `sync` false too they are shared with the store
  // (Answer::stored) where it keeps them; else every receipt has its XML and is in `receipts`.
  StatusOr<std::vector<Answer>> CommitPrepared(std::vector<Prepared>& group, bool sync = true,
                                               bool render = true);
  // The disk lost what memory holds (a failed flush): refuse everything until reopened.
  void MarkBroken() { broken_ = true; }

  // Applies an officer's decision on a held list, durably.
  StatusOr<Answer> Decide(const clearance::OfficerDecision& decision, int64_t now_ms);

  // The monthly summary run ("清单核放、汇总申报", domain-reference 5.2): for every declaring agent
  // and consignor with closed, unsummarised lists (statisticsFlag B) that departed in the month,
  // a summary application is made on their behalf and processed, durably; its CEB702 and CEB792
  // go to the agent and the consignor. `summary_flag` "1" or "2", `item_name_flag` "1" or "".
  struct SummaryRun {
    int year = 0, month = 0;
    std::string summary_flag = "1", item_name_flag = "1";
  };
  StatusOr<std::vector<Answer>> SummarizeMonth(const SummaryRun& run, int64_t now_ms);

  // Reads the risk rules file again and uses it for every list decided from now on (no restart;
  // every decision records the version it was made with). Returns the new version; on a bad file
  // the rules in force stay.
  StatusOr<std::string> ReloadRiskRules();
  // Uses these risk rules from now on (replay, tests); null turns risk assessment off.
  void SetRiskRules(std::shared_ptr<const risk::Rules> rules);

  // Processes a summary application made on an agent's behalf (the monthly run, and its replay),
  // durably, stored as a message of type SUMMARY.
  StatusOr<Answer> ApplySummary(const model::exp::SummaryApply& apply, int64_t now_ms);

  // An officer's correction of the credit system (docs/CREDIT.md), durable and audited as a stored
  // message of type CREDIT (replayed like every other): pin an enterprise's grade or clear the
  // pin, put a buyer on the discredited list or take one off.
  struct CreditCorrection {
    enum class Kind { kGrade, kAddBuyer, kRemoveBuyer };
    Kind kind = Kind::kGrade;
    std::string subject;                 // enterprise code, or buyer ID number
    std::optional<credit::Grade> grade;  // kGrade: nullopt clears the pin
    std::string buyer_name;              // kAddBuyer
    std::string reason;                  // required: what the history shows
    std::string officer;
  };
  // InvalidArgument (unknown enterprise, invalid ID, no reason) or NotFound (removing a buyer
  // who is not listed); nothing changes then.
  Status CorrectCredit(const CreditCorrection& c, int64_t now_ms);
  // The stored form of a correction ("grade\tCODE\tA\treason", ...) and back; for replay.
  static std::string EncodeCorrection(const CreditCorrection& c);
  static std::optional<CreditCorrection> ParseCorrection(std::string_view raw,
                                                         std::string_view officer);
  // Writes the engines' snapshot (app/snapshot.h), so that the next Open need not read every
  // stored list; nothing if the one on disk is of this state already. Call it when stopping, with
  // nothing prepared and not committed (the server once its writer has stopped).
  Status SaveSnapshot();
  // How Open rebuilt the engines' state: from the snapshot, or from every stored row and why.
  const std::string& start_note() const { return start_note_; }

  const credit::Book& credit() const { return *credit_; }
  // The statistics (docs/METRICS.md), kept up to date by both engines, rebuilt at start.
  const stats::Aggregates& stats() const { return *stats_; }

  clearance::QuotaView Quota(std::string_view buyer_id, int year) const;
  const clearance::Engine& engine() const { return *engine_; }
  const clearance::ExportEngine& export_engine() const { return *export_engine_; }
  const reference::ReferenceData& reference() const { return *reference_; }
  // For registration changes made at run time; the engine sees them at once.
  reference::ReferenceData& mutable_reference() { return *reference_; }
  storage::Store& store() { return *store_; }

 private:
  Platform() = default;
  // Both Prepares: with `owned` (the bytes `raw` views) the row takes them instead of a copy.
  // `owned_decoded`: `decoded` itself, given up by the caller (null: it is only read). The import
  // engine then moves the documents it keeps out of it rather than copying them.
  StatusOr<Prepared> PrepareMessage(std::string_view raw, std::string* owned, StoredRaw* stored,
                                    const codec::DecodeResult& decoded,
                                    codec::DecodeResult* owned_decoded, std::string_view sender,
                                    int64_t now_ms, bool unstored = false);
  // `own_guids`: the records of the message being answered, sorted; their sender joins the
  // audience.
  Prepared BuildBatch(storage::MessageRow row, clearance::StepResult step,
                      const std::vector<std::string_view>& own_guids);

  void MakeEngines();  // new, empty engines, credit book and statistics
  Status StartFromSnapshot();

  PlatformOptions options_;
  std::unique_ptr<reference::ReferenceData> reference_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<credit::Book> credit_;  // shared by both engines
  std::unique_ptr<stats::Aggregates> stats_;
  std::unique_ptr<clearance::Engine> engine_;
  std::unique_ptr<clearance::ExportEngine> export_engine_;
  bool broken_ = false;
  // The risk rules version last recorded in the store's history ("" = none recorded yet).
  std::string recorded_risk_version_;
  Status RecordRiskRulesInUse(int64_t now_ms);
  std::set<std::string> pending_guids_;     // prepared, not yet committed
  std::optional<uint64_t> snapshot_frame_;  // the journal frame of the snapshot on disk, if known
  std::string start_note_;
};

// The XML of one receipt as its own message (receipt guid derived from its content).
storage::StoredReceipt EncodeReceipt(const clearance::Emitted& e);

}  // namespace kuajing::app
