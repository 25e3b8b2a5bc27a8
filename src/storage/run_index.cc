#include "storage/run_index.h"

#include <algorithm>
#include <limits>
#include <string>

namespace kuajing::storage {

namespace {

enum StmtId {
  kInsert,
  kInsertMerged,
  kFind,
  kFindTail,
  kCountRun,
  kNewTailRun,
  kNewMergedRun,
  kInsertRun,
  kSetState,
  kFirstRetired,
  kMergeTarget,
  kSources,
  kLastKey,
  kReadAfter,
  kRetireSources,
  kLevelToMerge,
  kMarkSources,
  kNthKey,
  kDeleteUpTo,
  kDeleteRun,
  kDropRun,
  kStmtCount
};

constexpr const char* kSql[kStmtCount] = {
    "INSERT INTO {I}(run, hash, id) VALUES(?,?,?)",
    // A key two sources share (never written so; harmless) is written once.
    "INSERT OR IGNORE INTO {I}(run, hash, id) VALUES(?,?,?)",
    // One seek per searched run (the IN list drives the primary key's first column).
    "SELECT id FROM {I} WHERE run IN (SELECT run FROM {R} WHERE state IN "
    "(0, 1)) AND hash = ? ORDER BY id",
    "SELECT run FROM {R} WHERE state = 0 ORDER BY run LIMIT 1",
    "SELECT COUNT(*) FROM {I} WHERE run = ?",
    "SELECT MIN(COALESCE(MIN(run), 0), 0) - 1 FROM {R}",
    "SELECT MAX(COALESCE(MAX(run), 0), 0) + 1 FROM {R}",
    "INSERT INTO {R}(run, level, state, into_run) VALUES(?,?,?,NULL)",
    "UPDATE {R} SET state = ?2 WHERE run = ?1",
    "SELECT run FROM {R} WHERE state = 3 ORDER BY run LIMIT 1",
    "SELECT run FROM {R} WHERE state = 2 ORDER BY run LIMIT 1",
    "SELECT run FROM {R} WHERE into_run = ? ORDER BY run",
    "SELECT hash, id FROM {I} WHERE run = ? ORDER BY hash DESC, id DESC "
    "LIMIT 1",
    "SELECT hash, id FROM {I} WHERE run = ?1 AND (hash, id) > (?2, ?3) "
    "ORDER BY hash, id LIMIT ?4",
    "UPDATE {R} SET state = 3, into_run = NULL WHERE into_run = ?",
    "SELECT level FROM {R} WHERE state = 1 GROUP BY level HAVING COUNT(*) >= ? ORDER BY "
    "level LIMIT 1",
    "UPDATE {R} SET into_run = ?1 WHERE run IN (SELECT run FROM {R} WHERE state "
    "= 1 AND level = ?2 ORDER BY run LIMIT ?3)",
    "SELECT hash, id FROM {I} WHERE run = ?1 ORDER BY hash, id LIMIT 1 "
    "OFFSET ?2",
    "DELETE FROM {I} WHERE run = ?1 AND (hash, id) <= (?2, ?3)",
    "DELETE FROM {I} WHERE run = ?",
    "DELETE FROM {R} WHERE run = ?",
};

// The statements above with {I} and {R} replaced by the index's tables.
std::string Named(std::string sql, const std::string& index, const std::string& runs) {
  for (size_t at; (at = sql.find("{I}")) != std::string::npos;) sql.replace(at, 3, index);
  for (size_t at; (at = sql.find("{R}")) != std::string::npos;) sql.replace(at, 3, runs);
  return sql;
}

}  // namespace

RunIndex::RunIndex(std::string name, RunIndexOptions options)
    : name_(std::move(name)), table_(name_ + "_index"), runs_(name_ + "_runs"), options_(options) {}

std::string RunIndex::Schema() const {
  return Named(R"sql(
CREATE TABLE IF NOT EXISTS {R}(
  run INTEGER PRIMARY KEY,
  level INTEGER NOT NULL,
  state INTEGER NOT NULL,
  into_run INTEGER);
CREATE TABLE IF NOT EXISTS {I}(
  run INTEGER NOT NULL,
  hash INTEGER NOT NULL,
  id INTEGER NOT NULL,
  PRIMARY KEY(run, hash, id)) WITHOUT ROWID;
)sql",
               table_, runs_);
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
  added_ = 0;
}

Status RunIndex::LoadTail() {
  auto tail = OneInt(stmts_[kFindTail], "find the tail");
  if (!tail.ok()) return tail.status();
  tail_ = *tail;
  tail_entries_ = 0;
  if (tail_) {
    Stmt& c = stmts_[kCountRun];
    c.Bind(1, *tail_);
    auto count = OneInt(c, "count the tail");
    if (!count.ok()) return count.status();
    tail_entries_ = count->value_or(0);
  }
  tail_known_ = true;
  return Status::Ok();
}

Status RunIndex::Add(int64_t hash, int64_t id) {
  if (!tail_known_) KJ_RETURN_IF_ERROR(LoadTail());
  if (!tail_) {
    auto run = CreateRun(0, kTail);
    if (!run.ok()) return run.status();
    tail_ = *run;
    tail_entries_ = 0;
  }
  Stmt& s = stmts_[kInsert];
  s.Bind(1, *tail_).Bind(2, hash).Bind(3, id);
  KJ_RETURN_IF_ERROR(Step(s, "insert"));
  ++tail_entries_;
  ++added_;
  return Status::Ok();
}

Status RunIndex::Maintain() {
  if (added_ == 0) return Status::Ok();
  int64_t budget = std::max(options_.min_work, added_ * options_.work_per_entry);
  added_ = 0;
  if (tail_ && tail_entries_ >= options_.tail_entries) {
    Stmt& s = stmts_[kSetState];
    s.Bind(1, *tail_).Bind(2, int64_t{kLive});
    KJ_RETURN_IF_ERROR(Step(s, "seal the tail"));
    tail_.reset();  // the next Add starts one
    tail_entries_ = 0;
  }
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
  Entry from{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min()};
  {
    Stmt& k = stmts_[kLastKey];
    k.Bind(1, target);
    const int rc = k.Step();
    if (rc == SQLITE_ROW) from = Entry{k.Int(0), k.Int(1)};
    k.Reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("find where the merge stands");
  }
  const int64_t chunk =
      std::max<int64_t>(64, budget / std::max<int64_t>(1, static_cast<int64_t>(sources.size())));
  merge_scratch_.clear();
  std::optional<Entry> bound;
  for (const int64_t run : sources) {
    Stmt& q = stmts_[kReadAfter];
    q.Bind(1, run).Bind(2, from.hash).Bind(3, from.id).Bind(4, chunk);
    int64_t got = 0;
    Entry last{};
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      last = Entry{q.Int(0), q.Int(1)};
      merge_scratch_.push_back(last);
      ++got;
    }
    q.Reset();
    if (rc != SQLITE_DONE) return Error("read a run being merged");
    if (got == chunk && (!bound || last < *bound)) bound = last;
  }
  std::sort(merge_scratch_.begin(), merge_scratch_.end());
  int64_t written = 0;
  for (const Entry& e : merge_scratch_) {
    if (bound && *bound < e) break;
    KJ_RETURN_IF_ERROR(AddTo(target, e.hash, e.id));
    ++written;
  }
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

// Deletes up to `budget` entries of a retired run, and the run once it is empty.
StatusOr<int64_t> RunIndex::DeleteSome(int64_t run, int64_t budget) {
  Stmt& n = stmts_[kNthKey];
  n.Bind(1, run).Bind(2, budget - 1);
  const int rc = n.Step();
  const Entry last = rc == SQLITE_ROW ? Entry{n.Int(0), n.Int(1)} : Entry{0, 0};
  n.Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("read a retired run");
  if (rc == SQLITE_ROW) {
    Stmt& d = stmts_[kDeleteUpTo];
    d.Bind(1, run).Bind(2, last.hash).Bind(3, last.id);
    KJ_RETURN_IF_ERROR(Step(d, "delete from a retired run"));
    return std::max<int64_t>(sqlite3_changes(db_), 1);
  }
  Stmt& d = stmts_[kDeleteRun];
  d.Bind(1, run);
  KJ_RETURN_IF_ERROR(Step(d, "delete a retired run"));
  const int64_t deleted = sqlite3_changes(db_);
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
  Stmt& w = stmts_[kInsertMerged];
  w.Bind(1, run).Bind(2, hash).Bind(3, id);
  return Step(w, "write a run");
}

StatusOr<std::vector<int64_t>> RunIndex::Find(int64_t hash) {
  Stmt& q = stmts_[kFind];
  q.Bind(1, hash);
  auto ids = Ints(q, "find");
  if (ids.ok()) ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
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
  Stmt e(db_, ("SELECT COUNT(*) FROM " + table_).c_str());
  if (e.Step() != SQLITE_ROW) return Error("describe");
  shape.entries = e.Int(0);
  return shape;
}

}  // namespace kuajing::storage
