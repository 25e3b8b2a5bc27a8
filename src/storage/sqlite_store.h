// The SQL store: one SQLite database file (DIR/kuajing.db) in WAL mode. Tables: messages (raw
// bytes), receipt_groups (a message's receipts, one row), receipt_runs and receipt_blocks (receipts
// by a hash of the guid they answer, as sorted runs of blocks: storage/run_index.h),
// audience_blocks (the feed's index: per enterprise, its messages, a row per transaction), state,
// quota_ledger, risk_rules, meta. Raw bytes and receipt groups are stored compressed
// (storage/blob_codec.h).
//
// The platform does not use it alone: the journaled store (storage/journaled_store.h) makes each
// commit durable in its journal and writes it here afterwards, in large transactions, as a
// projection that can be rebuilt from the journal. On its own (OpenSqliteStore) it is a complete
// Store whose Sync() flushes SQLite's log.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "storage/store.h"

namespace kuajing::storage {

// What the journaled store needs of the SQL store beyond Store.
class SqlStore : public Store {
 public:
  // The number of the last journal frame committed here (0: none; stores made before the journal).
  virtual StatusOr<uint64_t> JournalApplied() = 0;
  // Writes `batches` (their message seqs and receipt ids already assigned) and records `frame` as
  // applied, in one transaction. Not flushed: Sync() does that.
  virtual Status CommitApplied(const std::vector<const CommitBatch*>& batches, uint64_t frame) = 0;
  // LedgerSum, and the last journal frame applied, read in one transaction (one snapshot).
  virtual StatusOr<std::pair<Decimal, uint64_t>> LedgerSumAndApplied(std::string_view buyer_id,
                                                                     int year) = 0;
  // The largest message seq stored (0 if none).
  virtual StatusOr<int64_t> LastMessageSeq() = 0;
  // The stored messages' guids after `after`, in order, at most `limit` of them (each once),
  // given to `sink`; returns how many. Read from the guid index alone, in one read transaction.
  virtual StatusOr<size_t> MessageGuidsAfter(std::string_view after, size_t limit,
                                             const std::function<void(std::string_view)>& sink) = 0;
};

// Opens (creating if needed) DIR/kuajing.db. Fails with Unavailable if the file cannot be opened
// or the schema cannot be created.
StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& dir);
// The same, as the journaled store's projection. One kWriter connection per database: it writes,
// runs the background checkpoint thread and has the larger page cache (256 MiB); kReader
// connections only read (64 MiB).
enum class SqlConnection { kWriter, kReader };
StatusOr<std::unique_ptr<SqlStore>> OpenSqlStore(const std::string& dir, SqlConnection role);

}  // namespace kuajing::storage
