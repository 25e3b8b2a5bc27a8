// The store: where accepted messages, their receipts, the engine's state and the quota ledger
// become durable.
//
// One narrow interface, so that the embedded SQLite store (one small machine) and a PostgreSQL
// store (later) are interchangeable. The contract every implementation keeps:
//  * Commit() is atomic: all of a batch (message, receipts, state rows, ledger entries) or none.
//  * Commit() is durable when it returns OK: the data survives a crash or power loss. Callers
//    acknowledge a message only after that.
//  * The raw bytes of every message are kept as received (the legal record, and the input of a
//    replay).
// Thread safety: an implementation is used by one writer thread; reads may come from the same.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clearance/engine.h"
#include "common/histogram.h"
#include "common/status.h"

namespace kuajing::storage {

struct StoredReceipt {
  std::string type;          // "CEB622"
  std::string answers_guid;  // the declaration's guid
  std::string status;        // returnStatus (816/818: tax bill status)
  // The complete receipt message; empty while the receipt is only `packed`.
  std::string xml;
  // The enterprises that may read it: the parties the declaration names, and the sender of the
  // message it answered.
  std::vector<std::string> audience;
  // Position in the store, increasing in commit order. 0 until stored: the store assigns it (the
  // journaled store assigns it before the SQL store sees it).
  int64_t id = 0;
  // The receipt record packed (codec::AppendPacked), where its XML has not been written yet: the
  // platform leaves a receipt so on the server's single writer, and the XML is written where it
  // is shown (RenderReceipt): with 16 connections the writer spent 22-34 µs less per clearance
  // and the syncer 8-11 more; a quarter less journal, receipt groups in SQLite 45 % smaller
  // (bench/README.md, "What changed"). Every receipt a store reads back has its `xml`.
  std::string packed;
};

// Writes `r.xml` from `r.packed` if it is not written yet (then clears `packed`).
// Internal if the packed record is damaged, or the type is not a message type.
Status RenderReceipt(StoredReceipt& r);
// The receipt's complete message, written from `packed` if need be, without changing `r`.
StatusOr<std::string> ReceiptXml(const StoredReceipt& r);
// The customs list number (invtNo) the receipt states, or empty: a view into its packed record,
// or into its XML (a message this platform wrote: the field as `<ceb:invtNo>`). The intake
// answer's brief receipts carry it (docs/API.md, "Answers").
std::string_view ReceiptInvtNo(const StoredReceipt& r);
// The same out of a receipt's XML alone (as an intake answer's "xml" carries it), or empty.
std::string_view ReceiptXmlInvtNo(std::string_view xml);
// The message of a receipt kept only `packed`, appended to `out` as the text of a JSON string:
// the bytes a JSON writer puts between the quotes for ReceiptXml(r), in one pass (the syncer
// answers intake so). InvalidArgument if `r` is not packed, Internal if it is damaged.
Status AppendReceiptXmlAsJsonText(std::string& out, const StoredReceipt& r);

// How a store keeps a receipt's message: its XML, or its packed record (first byte
// codec::kPackedMagic, which XML never starts with). Since layout 2 and journal frames of
// version 3.
std::string_view ReceiptBody(const StoredReceipt& r);
// Reads a body kept so back into `r` (`xml` or `packed`).
void SetReceiptBody(StoredReceipt& r, std::string&& body);

struct MessageRow {
  std::string guid;  // root guid attribute; may be empty for unreadable messages
  std::string type;  // "CEB621", "Unknown", or "DECISION" for an officer's decision
  std::string sender;
  int64_t received_ms = 0;
  bool accepted = false;  // false: answered with CEB900 only
  std::string raw;
  int64_t seq = 0;  // position in the store, increasing in commit order (0: the store assigns it)
  // How `raw` holds the bytes going in: 0 as received; else a storage::BlobFormat they were
  // already packed in (the server compresses each message on its I/O thread, so the journal's
  // frames and the projector skip the bytes as received). Rows read back are always 0.
  int64_t raw_format = 0;
};

struct CommitBatch {
  MessageRow message;
  std::vector<StoredReceipt> receipts;
  std::vector<clearance::StateChange> changes;
  std::vector<clearance::QuotaEntry> ledger;
};

class Store {
 public:
  virtual ~Store() = default;

  // Writes the batches atomically and durably, in order. Returns Unavailable on an I/O error, in
  // which case nothing of them is stored.
  Status Commit(const std::vector<const CommitBatch*>& batches) {
    KJ_RETURN_IF_ERROR(CommitUnsynced(batches));
    return Sync();
  }
  // Group commit with the flush to disk apart (the server: the single writer goes on deciding the
  // next messages while another thread waits for the disk): the batches are written atomically and
  // survive the process being killed, but survive power loss only once a later Sync() returns OK.
  // Nothing of them may be acknowledged before that.
  virtual Status CommitUnsynced(const std::vector<const CommitBatch*>& batches) = 0;
  // The same, allowed to take what it keeps: each batch's message, state changes and ledger
  // entries may be moved from (the receipts are left as they were). The journaled store keeps
  // the batches in memory until they are in SQLite, and copying them was 5 % of the single
  // writer's samples (bench/README.md). The default, for a store that keeps nothing, takes
  // nothing.
  virtual Status CommitUnsyncedTaking(const std::vector<CommitBatch*>& batches) {
    return CommitUnsynced(std::vector<const CommitBatch*>(batches.begin(), batches.end()));
  }
  Status CommitTaking(const std::vector<CommitBatch*>& batches) {
    KJ_RETURN_IF_ERROR(CommitUnsyncedTaking(batches));
    return Sync();
  }
  // The same, taking the receipts too: `kept` gets for each batch its receipts as the store
  // keeps them (numbered), shared instead of copied, or null where this store keeps none in
  // memory (the receipts are then left in the batch). The server's single writer answers from
  // them: copying each receipt for its answer was 3 % of that thread (bench/README.md).
  using SharedReceipts = std::shared_ptr<const std::vector<StoredReceipt>>;
  virtual Status CommitUnsyncedSharing(const std::vector<CommitBatch*>& batches,
                                       std::vector<SharedReceipts>* kept) {
    kept->assign(batches.size(), nullptr);
    return CommitUnsyncedTaking(batches);
  }
  // Makes everything committed so far durable (fdatasync). Safe to call from any thread, at the
  // same time as the writer commits.
  virtual Status Sync() = 0;

  // The receipts written when the message `guid` was first processed, or nullopt if it never was.
  virtual StatusOr<std::optional<std::vector<StoredReceipt>>> ReceiptsOfMessage(
      std::string_view guid) = 0;

  // For each of `guids`, whether ReceiptsOfMessage would find a message of it, as bytes (1 or 0):
  // the writer asks once for a group's messages and reads the receipts only of those found (a
  // resend). The SQL stores look up all of them in one read transaction: one per message, each
  // taking and dropping SQLite's read lock with system calls, was 5 % of the writer's time with
  // 10 documents per message (bench/README.md). This default asks ReceiptsOfMessage for each.
  virtual StatusOr<std::vector<char>> MessagesStored(const std::vector<std::string_view>& guids);

  // The sender recorded for the accepted message `guid`, or nullopt if there is none.
  virtual StatusOr<std::optional<std::string>> SenderOfMessage(std::string_view guid) = 0;

  // Every receipt that answers the declaration `guid`, oldest first.
  virtual StatusOr<std::vector<StoredReceipt>> ReceiptsAnswering(std::string_view guid) = 0;

  // Says whether a state row is read at start-up, from its kind and key alone; a row it is false
  // for is passed over without being read or unpacked.
  using StateWanted = std::function<bool(std::string_view kind, std::string_view key)>;
  // Calls `sink` with every stored state row (start-up) that `wanted` wants (every one when it is
  // empty), in (kind, key) order. `wanted` may be asked on another thread, ahead of `sink` (the
  // SQL store reads and unpacks the rows beside the caller), but only about a row of the kind
  // `sink` is being given: it is first asked about a kind once `sink` has taken every row before
  // it. So it may read what `sink` did with the rows of earlier kinds, never what it does with
  // rows of the same kind. `sink` is always called on the calling thread, in order.
  virtual Status LoadState(const std::function<Status(const clearance::StateChange&)>& sink,
                           const StateWanted& wanted) = 0;

  // The same for the rows whose kind starts with `prefix` (not empty), all of them; the rows of
  // other kinds are not read at all (a start-up from a snapshot, app/snapshot.h, reads only the
  // rows of the owners the snapshot does not cover).
  virtual Status LoadStateOfKinds(
      std::string_view prefix,
      const std::function<Status(const clearance::StateChange&)>& sink) = 0;

  // The number of the last frame committed to the store's journal (0: none yet), or nullopt for
  // a store without a journal: what a snapshot of the engines is checked against (app/snapshot.h).
  // Only while no commit is in flight.
  virtual std::optional<uint64_t> LastFrame() { return std::nullopt; }

  // The value of one state row as last committed (CommitUnsynced counts: the writer reads its own
  // commits), or nullopt if there is none or it was erased. The engine reads the clearances it
  // keeps out of memory with it (clearance::Engine::SetStateReader).
  virtual StatusOr<std::optional<std::string>> ReadState(std::string_view kind,
                                                         std::string_view key) = 0;

  // Sum of the quota ledger for one buyer and year (the audit view of the annual amount).
  virtual StatusOr<Decimal> LedgerSum(std::string_view buyer_id, int year) = 0;

  virtual StatusOr<int64_t> MessageCount() = 0;

  // What is committed but not yet in the store's query tables (the journaled store's projector
  // backlog; zero for a store without one): for /metrics.
  struct Backlog {
    int64_t frames = 0;
    int64_t bytes = 0;
  };
  virtual Backlog Unprojected() { return {}; }
  // How long the store's own work takes, for /metrics; null where a store does no such work.
  struct Timings {
    const DurationHistogram* journal_sync = nullptr;      // each flush of the journal
    const DurationHistogram* journal_rollover = nullptr;  // each change of journal segment
    const DurationHistogram* room_wait = nullptr;         // each wait of a commit for the projector
    const DurationHistogram* projection = nullptr;  // each projector transaction (commit included)
    const DurationHistogram* checkpoint = nullptr;  // each SQLite checkpoint (its sync included)
  };
  virtual Timings timings() const { return {}; }

  // The receipts `enterprise` may read with id > after_id, oldest first, at most `limit`: a feed a
  // client can resume from the last id it saw without missing or repeating any.
  virtual StatusOr<std::vector<StoredReceipt>> ReceiptsFor(std::string_view enterprise,
                                                           int64_t after_id, int limit) = 0;
  // The largest receipt id stored (0 if none).
  virtual StatusOr<int64_t> LastReceiptId() = 0;

  // Every stored message received before `to_ms`, in the order it was committed, with the
  // receipts written for it (the input and the expected output of a replay).
  virtual Status ForEachMessage(
      int64_t to_ms,
      const std::function<Status(const MessageRow&, const std::vector<StoredReceipt>&)>& sink) = 0;

  // The risk rules in force over time: each activation of a version is recorded (with its text)
  // when the first message is processed under it, so that a replay uses the rules each decision
  // was made with.
  struct RiskRulesVersion {
    std::string version;
    int64_t from_ms = 0;
    std::string text;
  };
  virtual Status RecordRiskRules(const RiskRulesVersion& v) = 0;
  virtual StatusOr<std::vector<RiskRulesVersion>> RiskRulesHistory() = 0;
};

}  // namespace kuajing::storage
