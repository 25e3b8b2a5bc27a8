#include "storage/run_index.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

namespace kuajing::storage {

namespace {

// Blocks are stored little-endian (EncodeBlock): the hosts we build for are.
static_assert(std::endian::native == std::endian::little);

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

enum StmtId {
  kInsertBlock,
  kReplaceBlock,
  kFind,
  kFindTail,
  kTailSize,
  kTailLast,
  kRunBlocks,
  kDeleteRunBlocks,
  kNewTailRun,
  kNewMergedRun,
  kInsertRun,
  kSetState,
  kFirstRetired,
  kMergeTarget,
  kSources,
  kLastBlock,
  kBlockAtOrBefore,
  kBlocksFrom,
  kRetireSources,
  kLevelToMerge,
  kMarkSources,
  kNthBlock,
  kDeleteUpTo,
  kDropRun,
  kStmtCount
};

constexpr const char* kSql[kStmtCount] = {
    "INSERT INTO {B}(run, first_hash, first_id, data) VALUES(?,?,?,?)",
    "INSERT OR REPLACE INTO {B}(run, first_hash, first_id, data) VALUES(?,?,?,?)",
    // The tail's blocks whole; in each live run, the blocks that start with the hash (a seek)
    // and the one before them (a seek backwards), which may end with it.
    "SELECT data FROM {B} WHERE run IN (SELECT run FROM {R} WHERE state = 0) "
    "UNION ALL "
    "SELECT data FROM {B} WHERE run IN (SELECT run FROM {R} WHERE state = 1) AND first_hash = ?1 "
    "UNION ALL "
    "SELECT (SELECT data FROM {B} WHERE run = r.run AND first_hash < ?1 ORDER BY first_hash "
    "DESC, first_id DESC LIMIT 1) FROM {R} AS r WHERE r.state = 1",
    "SELECT run FROM {R} WHERE state = 0 ORDER BY run LIMIT 1",
    "SELECT COALESCE(SUM(length(data)), 0) / 16 FROM {B} WHERE run = ?",
    "SELECT first_hash, data FROM {B} WHERE run = ? ORDER BY first_hash DESC, first_id DESC "
    "LIMIT 1",
    "SELECT data FROM {B} WHERE run = ?",
    "DELETE FROM {B} WHERE run = ?",
    "SELECT MIN(COALESCE(MIN(run), 0), 0) - 1 FROM {R}",
    "SELECT MAX(COALESCE(MAX(run), 0), 0) + 1 FROM {R}",
    "INSERT INTO {R}(run, level, state, into_run) VALUES(?,?,?,NULL)",
    "UPDATE {R} SET state = ?2 WHERE run = ?1",
    "SELECT run FROM {R} WHERE state = 3 ORDER BY run LIMIT 1",
    "SELECT run FROM {R} WHERE state = 2 ORDER BY run LIMIT 1",
    "SELECT run FROM {R} WHERE into_run = ? ORDER BY run",
    "SELECT data FROM {B} WHERE run = ? ORDER BY first_hash DESC, first_id DESC LIMIT 1",
    "SELECT first_hash, first_id FROM {B} WHERE run = ?1 AND (first_hash, first_id) <= (?2, ?3) "
    "ORDER BY first_hash DESC, first_id DESC LIMIT 1",
    "SELECT data FROM {B} WHERE run = ?1 AND (first_hash, first_id) >= (?2, ?3) "
    "ORDER BY first_hash, first_id",
    "UPDATE {R} SET state = 3, into_run = NULL WHERE into_run = ?",
    "SELECT level FROM {R} WHERE state = 1 GROUP BY level HAVING COUNT(*) >= ? ORDER BY "
    "level LIMIT 1",
    "UPDATE {R} SET into_run = ?1 WHERE run IN (SELECT run FROM {R} WHERE state "
    "= 1 AND level = ?2 ORDER BY run LIMIT ?3)",
    "SELECT first_hash, first_id FROM {B} WHERE run = ?1 ORDER BY first_hash, first_id LIMIT 1 "
    "OFFSET ?2",
    "DELETE FROM {B} WHERE run = ?1 AND (first_hash, first_id) <= (?2, ?3)",
    "DELETE FROM {R} WHERE run = ?",
};

// The statements above with {B} and {R} replaced by the index's tables.
std::string Named(std::string sql, const std::string& blocks, const std::string& runs) {
  for (size_t at; (at = sql.find("{B}")) != std::string::npos;) sql.replace(at, 3, blocks);
  for (size_t at; (at = sql.find("{R}")) != std::string::npos;) sql.replace(at, 3, runs);
  return sql;
}

void PutInt(std::string& out, int64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}

int64_t GetInt(const char* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

RunIndex::RunIndex(std::string name, RunIndexOptions options)
    : name_(std::move(name)),
      table_(name_ + "_blocks"),
      runs_(name_ + "_runs"),
      options_(options) {}

std::string RunIndex::Schema() const {
  return Named(R"sql(
CREATE TABLE IF NOT EXISTS {R}(
  run INTEGER PRIMARY KEY,
  level INTEGER NOT NULL,
  state INTEGER NOT NULL,
  into_run INTEGER);
CREATE TABLE IF NOT EXISTS {B}(
  run INTEGER NOT NULL,
  first_hash INTEGER NOT NULL,
  first_id INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY(run, first_hash, first_id)) WITHOUT ROWID;
)sql",
               table_, runs_);
}

std::string RunIndex::EncodeBlock(const std::vector<std::pair<int64_t, int64_t>>& entries) {
  std::string out;
  for (const auto& [hash, id] : entries) {
    PutInt(out, hash);
    PutInt(out, id);
  }
  return out;
}

void RunIndex::Decode(std::string_view data, std::vector<Entry>* out) {
  for (size_t at = 0; at + 16 <= data.size(); at += 16) {
    out->push_back(Entry{GetInt(data.data() + at), GetInt(data.data() + at + 8)});
  }
}

Status RunIndex::Error(const char* what) {
  return Unavailable("the " + name_ + " index: " + what + ": " + sqlite3_errmsg(db_));
}

Status RunIndex::Step(Stmt& s, const char* what) {
  const int rc = s.Step();
  s.Reset();
  return rc == SQLITE_DONE ? Status::Ok() : Error(what);
}

StatusOr<std::optional<int64_t>> RunIndex::OneInt(Stmt& s, const char* what) {
  const int rc = s.Step();
  std::optional<int64_t> v;
  if (rc == SQLITE_ROW) v = s.Int(0);
  s.Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(what);
  return v;
}

StatusOr<std::vector<int64_t>> RunIndex::Ints(Stmt& s, const char* what) {
  std::vector<int64_t> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(s.Int(0));
  s.Reset();
  if (rc != SQLITE_DONE) return Error(what);
  return out;
}

// Tails are numbered -1, -2, ..., other runs 1, 2, ... (run_index.h).
StatusOr<int64_t> RunIndex::CreateRun(int64_t level, int64_t state) {
  auto run = OneInt(stmts_[state == kTail ? kNewTailRun : kNewMergedRun], "number a run");
  if (!run.ok()) return run.status();
  if (!*run) return Error("number a run");
  Stmt& r = stmts_[kInsertRun];
  r.Bind(1, **run).Bind(2, level).Bind(3, state);
  KJ_RETURN_IF_ERROR(Step(r, "add a run"));
  return **run;
}

Status RunIndex::Prepare(sqlite3* db) {
  db_ = db;
  stmts_.clear();
  stmts_.resize(kStmtCount);
  for (int i = 0; i < kStmtCount; ++i) {
    stmts_[i] = Stmt(db_, Named(kSql[i], table_, runs_).c_str());
    if (!stmts_[i].ok()) return Error("prepare");
  }
  Forget();
  return Status::Ok();
}

void RunIndex::Forget() {
  tail_known_ = false;
  tail_.reset();
  tail_entries_ = 0;
  tail_last_no_ = -1;
  tail_last_.clear();
  pending_.clear();
  open_run_.reset();
}

Status RunIndex::InsertBlock(int64_t run, int64_t first_hash, int64_t first_id,
                             const std::vector<Entry>& entries, bool replace) {
  block_bytes_.clear();
  for (const Entry& e : entries) {
    PutInt(block_bytes_, e.hash);
    PutInt(block_bytes_, e.id);
  }
  Stmt& s = stmts_[replace ? kReplaceBlock : kInsertBlock];
  s.Bind(1, run).Bind(2, first_hash).Bind(3, first_id).BindBlob(4, block_bytes_);
  return Step(s, "write a block");
}

Status RunIndex::Put(BlockWriter& w, const Entry& e) {
  w.block.push_back(e);
  if (static_cast<int64_t>(w.block.size()) >= kBlockEntries) return Flush(w);
  return Status::Ok();
}

Status RunIndex::Flush(BlockWriter& w) {
  if (w.block.empty()) return Status::Ok();
  KJ_RETURN_IF_ERROR(w.numbered
                         ? InsertBlock(w.run, w.next_number++, 0, w.block)
                         : InsertBlock(w.run, w.block.front().hash, w.block.front().id, w.block));
  w.block.clear();
  return Status::Ok();
}

Status RunIndex::LoadTail() {
  auto tail = OneInt(stmts_[kFindTail], "find the tail");
  if (!tail.ok()) return tail.status();
  tail_ = *tail;
  tail_entries_ = 0;
  tail_last_no_ = -1;
  tail_last_.clear();
  if (tail_) {
    Stmt& c = stmts_[kTailSize];
    c.Bind(1, *tail_);
    auto count = OneInt(c, "count the tail");
    if (!count.ok()) return count.status();
    tail_entries_ = count->value_or(0);
    Stmt& l = stmts_[kTailLast];
    l.Bind(1, *tail_);
    const int rc = l.Step();
    if (rc == SQLITE_ROW) {
      tail_last_no_ = l.Int(0);
      Decode(l.View(1), &tail_last_);
    }
    l.Reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("read the tail");
  }
  tail_known_ = true;
  return Status::Ok();
}

Status RunIndex::Add(int64_t hash, int64_t id) {
  pending_.push_back(Entry{hash, id});
  return Status::Ok();
}

// The tail's blocks are numbered in the order they were started, keyed (run, number, 0); the last
// one is filled up before another starts, so a transaction of a few entries rewrites one block.
Status RunIndex::WriteTail() {
  if (!tail_known_) KJ_RETURN_IF_ERROR(LoadTail());
  if (!tail_) {
    auto run = CreateRun(0, kTail);
    if (!run.ok()) return run.status();
    tail_ = *run;
    tail_entries_ = 0;
    tail_last_no_ = -1;
    tail_last_.clear();
  }
  size_t at = 0;
  while (at < pending_.size()) {
    const bool fill = tail_last_no_ >= 0 && static_cast<int64_t>(tail_last_.size()) < kBlockEntries;
    if (!fill) {
      ++tail_last_no_;
      tail_last_.clear();
    }
    const size_t take =
        std::min(pending_.size() - at, static_cast<size_t>(kBlockEntries) - tail_last_.size());
    tail_last_.insert(tail_last_.end(), pending_.begin() + static_cast<ptrdiff_t>(at),
                      pending_.begin() + static_cast<ptrdiff_t>(at + take));
    at += take;
    KJ_RETURN_IF_ERROR(InsertBlock(*tail_, tail_last_no_, 0, tail_last_, /*replace=*/fill));
  }
  tail_entries_ += static_cast<int64_t>(pending_.size());
  return Status::Ok();
}

// A full tail becomes a live run of level 0: its entries sorted into blocks keyed by their first.
Status RunIndex::SealTail() {
  const int64_t run = *tail_;
  merge_scratch_.clear();
  {
    Stmt& q = stmts_[kRunBlocks];
    q.Bind(1, run);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) Decode(q.View(0), &merge_scratch_);
    q.Reset();
    if (rc != SQLITE_DONE) return Error("read the tail");
  }
  std::sort(merge_scratch_.begin(), merge_scratch_.end());
  merge_scratch_.erase(std::unique(merge_scratch_.begin(), merge_scratch_.end()),
                       merge_scratch_.end());
  Stmt& d = stmts_[kDeleteRunBlocks];
  d.Bind(1, run);
  KJ_RETURN_IF_ERROR(Step(d, "clear the tail"));
  BlockWriter w{run, {}};
  for (const Entry& e : merge_scratch_) KJ_RETURN_IF_ERROR(Put(w, e));
  KJ_RETURN_IF_ERROR(Flush(w));
  Stmt& s = stmts_[kSetState];
  s.Bind(1, run).Bind(2, int64_t{kLive});
  KJ_RETURN_IF_ERROR(Step(s, "seal the tail"));
  tail_.reset();  // the next Maintain starts one
  tail_entries_ = 0;
  tail_last_no_ = -1;
  tail_last_.clear();
  return Status::Ok();
}

Status RunIndex::Maintain() {
  if (pending_.empty()) return Status::Ok();
  KJ_RETURN_IF_ERROR(WriteTail());
  int64_t budget =
      std::max(options_.min_work, static_cast<int64_t>(pending_.size()) * options_.work_per_entry);
  pending_.clear();
  if (tail_ && tail_entries_ >= options_.tail_entries) KJ_RETURN_IF_ERROR(SealTail());
  while (budget > 0) {
    // Deleting what a finished merge left comes first: retired runs are dead weight.
    auto retired = OneInt(stmts_[kFirstRetired], "find a retired run");
    if (!retired.ok()) return retired.status();
    auto target = *retired ? StatusOr<std::optional<int64_t>>(std::nullopt)
                           : OneInt(stmts_[kMergeTarget], "find a merge");
    if (!target.ok()) return target.status();
    if (*retired || *target) {
      auto done = *retired ? DeleteSome(**retired, budget) : MergeSome(**target, budget);
      if (!done.ok()) return done.status();
      budget -= *done;
      continue;
    }
    auto started = StartMerge();
    if (!started.ok()) return started.status();
    if (!*started) break;  // nothing to merge
  }
  return Status::Ok();
}

StatusOr<bool> RunIndex::StartMerge() {
  Stmt& l = stmts_[kLevelToMerge];
  l.Bind(1, int64_t{options_.fanout});
  auto level = OneInt(l, "find a level to merge");
  if (!level.ok()) return level.status();
  if (!*level) return false;
  auto target = CreateRun(**level + 1, kMerging);
  if (!target.ok()) return target.status();
  Stmt& m = stmts_[kMarkSources];
  m.Bind(1, *target).Bind(2, **level).Bind(3, int64_t{options_.fanout});
  KJ_RETURN_IF_ERROR(Step(m, "choose the runs to merge"));
  return true;
}

// Writes the next entries of the merge into `target`, in key order, from where it stands (the
// largest key written: a restart resumes there). Each source gives up to `chunk` entries after
// that key; what is certain to come next is every entry up to the smallest last key among the
// sources that gave a full chunk (the others have no more).
StatusOr<int64_t> RunIndex::MergeSome(int64_t target, int64_t budget) {
  Stmt& s = stmts_[kSources];
  s.Bind(1, target);
  auto read = Ints(s, "read the runs being merged");
  if (!read.ok()) return read.status();
  const std::vector<int64_t>& sources = *read;
  Entry from{kMin, kMin};
  {
    Stmt& k = stmts_[kLastBlock];
    k.Bind(1, target);
    const int rc = k.Step();
    if (rc == SQLITE_ROW) {
      const std::string_view data = k.View(0);
      if (data.size() >= 16)
        from = Entry{GetInt(data.data() + data.size() - 16), GetInt(data.data() + data.size() - 8)};
    }
    k.Reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("find where the merge stands");
  }
  const int64_t chunk =
      std::max<int64_t>(64, budget / std::max<int64_t>(1, static_cast<int64_t>(sources.size())));
  merge_scratch_.clear();
  std::optional<Entry> bound;
  for (const int64_t run : sources) {
    // The block that holds `from` (the last one starting at or before it), and those after it.
    Entry start{kMin, kMin};
    {
      Stmt& b = stmts_[kBlockAtOrBefore];
      b.Bind(1, run).Bind(2, from.hash).Bind(3, from.id);
      const int rc = b.Step();
      if (rc == SQLITE_ROW) start = Entry{b.Int(0), b.Int(1)};
      b.Reset();
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("read a run being merged");
    }
    Stmt& q = stmts_[kBlocksFrom];
    q.Bind(1, run).Bind(2, start.hash).Bind(3, start.id);
    int64_t got = 0;
    Entry last{};
    int rc = SQLITE_DONE;
    while (got < chunk && (rc = q.Step()) == SQLITE_ROW) {
      read_scratch_.clear();
      Decode(q.View(0), &read_scratch_);
      for (const Entry& e : read_scratch_) {
        if (!(from < e)) continue;
        merge_scratch_.push_back(e);
        last = e;
        if (++got == chunk) break;
      }
    }
    if (got < chunk && rc != SQLITE_DONE) {
      q.Reset();
      return Error("read a run being merged");
    }
    q.Reset();
    if (got == chunk && (!bound || last < *bound)) bound = last;
  }
  std::sort(merge_scratch_.begin(), merge_scratch_.end());
  // A key two sources share (never written so; harmless) is written once.
  merge_scratch_.erase(std::unique(merge_scratch_.begin(), merge_scratch_.end()),
                       merge_scratch_.end());
  int64_t written = 0;
  BlockWriter w{target, {}};
  for (const Entry& e : merge_scratch_) {
    if (bound && *bound < e) break;
    KJ_RETURN_IF_ERROR(Put(w, e));
    ++written;
  }
  KJ_RETURN_IF_ERROR(Flush(w));
  if (!bound) {  // every source is exhausted: the merged run replaces them
    Stmt& f = stmts_[kSetState];
    f.Bind(1, target).Bind(2, int64_t{kLive});
    KJ_RETURN_IF_ERROR(Step(f, "finish a merge"));
    Stmt& r = stmts_[kRetireSources];
    r.Bind(1, target);
    KJ_RETURN_IF_ERROR(Step(r, "retire the merged runs"));
  }
  return std::max<int64_t>(written, 1);
}

// Deletes up to `budget` entries' worth of a retired run's blocks, and the run once it is empty.
StatusOr<int64_t> RunIndex::DeleteSome(int64_t run, int64_t budget) {
  const int64_t blocks = std::max<int64_t>(1, budget / kBlockEntries);
  Stmt& n = stmts_[kNthBlock];
  n.Bind(1, run).Bind(2, blocks - 1);
  const int rc = n.Step();
  const Entry last = rc == SQLITE_ROW ? Entry{n.Int(0), n.Int(1)} : Entry{0, 0};
  n.Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("read a retired run");
  if (rc == SQLITE_ROW) {
    Stmt& d = stmts_[kDeleteUpTo];
    d.Bind(1, run).Bind(2, last.hash).Bind(3, last.id);
    KJ_RETURN_IF_ERROR(Step(d, "delete from a retired run"));
    return std::max<int64_t>(sqlite3_changes(db_) * kBlockEntries, 1);
  }
  Stmt& d = stmts_[kDeleteRunBlocks];
  d.Bind(1, run);
  KJ_RETURN_IF_ERROR(Step(d, "delete a retired run"));
  const int64_t deleted = sqlite3_changes(db_) * kBlockEntries;
  Stmt& x = stmts_[kDropRun];
  x.Bind(1, run);
  KJ_RETURN_IF_ERROR(Step(x, "drop a retired run"));
  return std::max<int64_t>(deleted, 1);
}

StatusOr<int64_t> RunIndex::NewRun(int64_t entries) {
  int64_t level = 0;  // the level a run of this size would have reached by merging
  for (int64_t size = options_.tail_entries; size < entries; size *= options_.fanout) ++level;
  return CreateRun(level, kLive);
}

Status RunIndex::AddTo(int64_t run, int64_t hash, int64_t id) {
  if (open_run_ && open_run_->run != run) KJ_RETURN_IF_ERROR(EndRun());
  if (!open_run_) open_run_ = BlockWriter{run, {}};
  return Put(*open_run_, Entry{hash, id});
}

Status RunIndex::EndRun() {
  if (!open_run_) return Status::Ok();
  Status st = Flush(*open_run_);
  open_run_.reset();
  return st;
}

Status RunIndex::MigrateRowsToBlocks() {
  const std::string rows = name_ + "_index";
  {
    Stmt has(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    has.Bind(1, rows);
    const int rc = has.Step();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc != SQLITE_ROW) return Error("read the schema");
  }
  std::vector<std::pair<int64_t, int64_t>> runs;  // (run, state)
  {
    Stmt q(db_, ("SELECT run, state FROM " + runs_ + " ORDER BY run").c_str());
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) runs.emplace_back(q.Int(0), q.Int(1));
    if (rc != SQLITE_DONE) return Error("read the runs");
  }
  Stmt q(db_, ("SELECT hash, id FROM " + rows + " WHERE run = ? ORDER BY hash, id").c_str());
  if (!q.ok()) return Error("read the rows");
  for (const auto& [run, state] : runs) {
    q.Bind(1, run);
    BlockWriter w{run, {}, state == kTail};  // a tail's blocks are numbered (WriteTail)
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) KJ_RETURN_IF_ERROR(Put(w, Entry{q.Int(0), q.Int(1)}));
    q.Reset();
    if (rc != SQLITE_DONE) return Error("read the rows");
    KJ_RETURN_IF_ERROR(Flush(w));
  }
  char* err = nullptr;
  if (sqlite3_exec(db_, ("DROP TABLE " + rows).c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    return Error("drop the rows");
  }
  Forget();
  return Status::Ok();
}

StatusOr<std::vector<int64_t>> RunIndex::Find(int64_t hash) {
  Stmt& q = stmts_[kFind];
  q.Bind(1, hash);
  std::vector<int64_t> ids;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    const std::string_view data = q.View(0);
    for (size_t at = 0; at + 16 <= data.size(); at += 16) {
      if (GetInt(data.data() + at) == hash) ids.push_back(GetInt(data.data() + at + 8));
    }
  }
  q.Reset();
  if (rc != SQLITE_DONE) return Error("find");
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

StatusOr<RunIndex::Shape> RunIndex::Describe() {
  Shape shape;
  Stmt q(db_, ("SELECT state, COUNT(*), MAX(level) FROM " + runs_ + " GROUP BY state").c_str());
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    const int64_t state = q.Int(0);
    const int count = static_cast<int>(q.Int(1));
    if (state == kTail || state == kLive) {
      shape.live_runs += count;
      shape.max_level = std::max(shape.max_level, static_cast<int>(q.Int(2)));
    }
    if (state == kMerging) shape.merging = true;
    if (state == kRetired) shape.retired_runs += count;
  }
  if (rc != SQLITE_DONE) return Error("describe");
  Stmt e(db_, ("SELECT COALESCE(SUM(length(data)), 0) / 16 FROM " + table_).c_str());
  if (e.Step() != SQLITE_ROW) return Error("describe");
  shape.entries = e.Int(0);
  return shape;
}

}  // namespace kuajing::storage
