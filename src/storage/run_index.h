// An index of a 64-bit hash -> ids, kept in SQLite as sorted runs: a small log-structured merge
// tree on ranges of one table. Internal to the SQL store (sqlite_store.cc), which keeps two:
// - "receipt": the hash of the guid a receipt answers -> the id of a receipt in a group
//   (receipt_groups) holding receipts that answer it (repeats, GET .../receipts);
// - "quota": the hash of a buyer's ID and a year -> the ids of the buyer's quota_ledger rows of
//   that year (the quota a consumer asks about).
// The store reads what the ids point to and keeps what matches the key asked for (two keys may
// share a hash).
//
// Why not one B-tree keyed by the hash, as before: a hash is a random key, so once that tree
// outgrew SQLite's page cache every entry dirtied a page of its own, and each 16 KiB page was
// written to the log again in every transaction that touched it. At 4 M documents the receipts'
// tree was three quarters of what the projector wrote (121 KB per clearance, 27 KB without it),
// half of its time, and the scale curve's decline; the ledger's (buyer_id, year) index two thirds
// of the rest (bench/README.md, "Issue 7").
//
// So the entries are kept in sorted runs, ranges of one table (NAME_blocks, keyed by (run,
// first_hash, first_id); NAME_runs gives each run's level and state), and a run's entries are
// stored in **blocks** of up to 240 (16 bytes each, sorted by (hash, id), keyed by the first): a
// row per entry cost the projector a statement per entry per level, a fifth of its time at full
// load (bench/README.md, "Issue 7"), where a block is one statement for 240 entries.
// - new entries go into the **tail**, a run small enough (16,384 entries, ~70 blocks) that a
//   transaction dirties few pages however large the store; its blocks are numbered (0, 1, ...)
//   and hold the entries in the order they came, each transaction filling the last one up;
// - a full tail is sorted into a **live** run of level 0, and a new tail starts;
// - when 8 live runs share a level they are **merged** into one run of the next level, written
//   in key order (so appended, its pages filled), a share at a time in the writer's transactions
//   (in proportion to the entries they added), and resumed after a restart from the last key
//   written;
// - the merged runs are then **retired** (no longer searched) and deleted a share at a time.
// An entry is written about once per level (log8 of the entries / 16,384: 5 levels at 100 M
// documents), always in key order. A lookup reads the tail's blocks and seeks twice in each live
// run (under 40 runs at 100 M documents): the blocks whose first hash is the one looked for, and
// the block before them, which may end with it. Reading the tail whole (up to 256 KB) makes a
// lookup about 0.1-0.2 ms where seeking in a row per entry took tens of µs: lookups are repeats,
// GET .../receipts and a consumer's quota, far rarer than the entries written.
// Tails are numbered -1, -2, ... and merged runs 1, 2, ...: a run being merged into then has the
// largest key of the table, and SQLite appends to a B-tree's last page without splitting it in
// half.
// Stores of layouts 1 and 2 kept a row per entry (NAME_index, keyed by (run, hash, id));
// MigrateRowsToBlocks rewrites them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/sqlite_stmt.h"

namespace kuajing::storage {

struct RunIndexOptions {
  int64_t tail_entries = 16384;  // the tail becomes a run of level 0 at this many entries
  int fanout = 8;                // this many live runs of one level are merged into one
  // Entries merged or deleted per transaction, at most: this many per entry the transaction
  // added (an entry is merged and deleted about once per level), and at least `min_work`.
  int64_t work_per_entry = 16;
  int64_t min_work = 4096;
};

class RunIndex {
 public:
  // The index NAME: tables NAME_runs and NAME_index.
  explicit RunIndex(std::string name, RunIndexOptions options = {});
  RunIndex(const RunIndex&) = delete;
  RunIndex& operator=(const RunIndex&) = delete;

  // The tables (IF NOT EXISTS), for the store to create with its schema.
  std::string Schema() const;
  const std::string& table() const { return table_; }  // NAME_blocks

  // Prepares the statements on `db` (which must outlive this, or Close() first).
  Status Prepare(sqlite3* db);
  void Close() { stmts_.clear(); }

  // Writes (within the caller's write transaction):
  // An entry: `id` under `hash`, held in memory until Maintain writes it.
  Status Add(int64_t hash, int64_t id);
  // Writes what Add added into the tail, seals a full tail, and merges and deletes runs in
  // proportion to what Add added since the last call. Call once per transaction, before its
  // commit: until then, Find does not see what Add added.
  Status Maintain();
  // The transaction rolled back: what this object counted is read again.
  void Forget();
  // Migrations of stores made before the runs: a live run, at the level its size would have
  // reached by merging, for `entries` entries that the caller then writes in key order (AddTo,
  // in key order (AddTo, then EndRun). Within a transaction.
  StatusOr<int64_t> NewRun(int64_t entries);
  Status AddTo(int64_t run, int64_t hash, int64_t id);
  Status EndRun();  // writes the last block AddTo holds
  // Stores of layouts 1 and 2 (a row per entry in NAME_index): each run's rows become blocks and
  // the table goes. Within a transaction; nothing to do if there is no such table.
  Status MigrateRowsToBlocks();

  // The stored form of a block: each entry's hash and id, 8 bytes each, little-endian (tests).
  static std::string EncodeBlock(const std::vector<std::pair<int64_t, int64_t>>& entries);
  static constexpr int64_t kBlockEntries = 240;  // a block of 3,840 bytes stays in its page

  // Reads (one statement, so one snapshot): the ids of the entries of `hash`, ascending, from
  // the tail and the live runs (what Maintain wrote).
  StatusOr<std::vector<int64_t>> Find(int64_t hash);

  // What the runs look like (tests).
  struct Shape {
    int live_runs = 0;     // the tail included
    int max_level = 0;     // of the live runs
    bool merging = false;  // a merge is under way
    int retired_runs = 0;  // merged, not yet deleted
    int64_t entries = 0;   // in all runs, retired and merge targets included
  };
  StatusOr<Shape> Describe();

 private:
  enum RunState : int64_t { kTail = 0, kLive = 1, kMerging = 2, kRetired = 3 };
  struct Entry {
    int64_t hash;
    int64_t id;
    bool operator<(const Entry& o) const { return hash != o.hash ? hash < o.hash : id < o.id; }
    bool operator==(const Entry& o) const { return hash == o.hash && id == o.id; }
  };
  // Entries written as blocks of one run: sorted, each block keyed by its first entry; or, for
  // a tail (`numbered`), in the order given, block n keyed (run, n, 0).
  struct BlockWriter {
    int64_t run = 0;
    std::vector<Entry> block;
    bool numbered = false;
    int64_t next_number = 0;
  };
  Status Error(const char* what);
  Status Step(Stmt& s, const char* what);  // runs a statement that returns no row
  // The first column of the one row `s` (bound) reads, or none.
  StatusOr<std::optional<int64_t>> OneInt(Stmt& s, const char* what);
  // The first column of every row `s` (bound) reads.
  StatusOr<std::vector<int64_t>> Ints(Stmt& s, const char* what);
  StatusOr<int64_t> CreateRun(int64_t level, int64_t state);
  Status LoadTail();
  Status WriteTail();
  Status SealTail();
  Status Put(BlockWriter& w, const Entry& e);
  Status Flush(BlockWriter& w);
  // A block of `entries` keyed (run, first_hash, first_id), replacing one of that key if asked.
  Status InsertBlock(int64_t run, int64_t first_hash, int64_t first_id,
                     const std::vector<Entry>& entries, bool replace = false);
  StatusOr<int64_t> DeleteSome(int64_t run, int64_t budget);
  StatusOr<int64_t> MergeSome(int64_t target, int64_t budget);
  StatusOr<bool> StartMerge();
  static void Decode(std::string_view data, std::vector<Entry>* out);

  std::string name_;
  std::string table_;
  std::string runs_;
  RunIndexOptions options_;
  sqlite3* db_ = nullptr;
  std::vector<Stmt> stmts_;
  std::optional<int64_t> tail_;  // the tail's run (unknown, or none yet)
  bool tail_known_ = false;
  int64_t tail_entries_ = 0;
  int64_t tail_last_no_ = -1;            // the number of the tail's last block (-1: none)
  std::vector<Entry> tail_last_;         // its entries
  std::vector<Entry> pending_;           // added since the last Maintain
  std::optional<BlockWriter> open_run_;  // AddTo's
  std::vector<Entry> merge_scratch_;
  std::vector<Entry> read_scratch_;
  std::string block_bytes_;
};

}  // namespace kuajing::storage
