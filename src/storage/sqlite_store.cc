#include "storage/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "common/files.h"
#include "common/hash.h"
#include "common/thread_name.h"
#include "common/varint.h"
#include "storage/blob_codec.h"
#include "storage/pointer_table.h"
#include "storage/run_index.h"
#include "storage/sqlite_stmt.h"

namespace kuajing::storage {

namespace {

// synchronous=NORMAL: in WAL mode SQLite then keeps the database consistent (it syncs at each
// checkpoint) but does not flush the log at each commit; Sync() does that, with fdatasync of the
// log file, before anything is acknowledged: together what synchronous=FULL does, with the flush
// movable to another thread (store.h: CommitUnsynced).
// page_size (new stores only; an existing store keeps its own): SQLite writes each dirty page with
// its own system call, and these machines pay dearly for each. 16 KiB pages cut the server's
// system calls per clearance by 60 % and its CPU by a fifth with 100 documents per message, and
// cost nothing measurable with one (64 KiB: a third slower there). cache_size: 256 MiB of pages
// for the connection that writes (SQLite's default is 2 MiB; 64 MiB gave 43 % fewer reads of the
// file and +5-10 % throughput; 256 MiB moves the scale curve's drop, where the random-key indexes
// outgrow the cache and the projector falls behind, from 0.6-0.8 M to about 1.1 M documents),
// 64 MiB for a connection that only reads. bench/README.md.
constexpr const char* kSchema = R"sql(
PRAGMA page_size=16384;
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA cache_size=-262144;
CREATE TABLE IF NOT EXISTS messages(
  seq INTEGER PRIMARY KEY,
  guid TEXT NOT NULL,
  type TEXT NOT NULL,
  sender TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  accepted INTEGER NOT NULL,
  raw BLOB NOT NULL,
  raw_format INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS messages_guid ON messages(guid);
CREATE TABLE IF NOT EXISTS receipt_groups(
  message_seq INTEGER PRIMARY KEY,
  first_id INTEGER NOT NULL,
  count INTEGER NOT NULL,
  data BLOB NOT NULL,
  format INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS receipt_groups_first ON receipt_groups(first_id);
CREATE TABLE IF NOT EXISTS audience_blocks(
  enterprise TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  seqs BLOB NOT NULL,
  PRIMARY KEY(enterprise, first_seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state(
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  format INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(kind, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quota_ledger(
  id INTEGER PRIMARY KEY,
  buyer_id TEXT NOT NULL,
  year INTEGER NOT NULL,
  delta_e5 INTEGER NOT NULL,
  invt_no TEXT NOT NULL,
  reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS risk_rules(
  version TEXT NOT NULL,
  from_ms INTEGER NOT NULL,
  text BLOB NOT NULL,
  PRIMARY KEY(from_ms, version));
)sql";

// The receipt index (run_index.h) finds receipts by a 64-bit hash of the guid they answer, not
// by the guid's 36 characters: entries of ~14 bytes instead of ~47. Two guids of one hash only
// cost reading the other's receipts, which ReceiptsAnswering drops.
int64_t AnswersHash(std::string_view guid) { return static_cast<int64_t>(Hash64(guid)); }
// The quota index finds a buyer's ledger rows of a year by a hash of both (stored: never change
// it); rows of another buyer or year under the same hash are read and dropped by LedgerSum.
int64_t QuotaHash(std::string_view buyer_id, int year) {
  return static_cast<int64_t>(Hash64(buyer_id, static_cast<uint64_t>(year)));
}

// The layout of the store this build writes, stamped in the database file (PRAGMA user_version).
// 0: a store from before the stamp, whose layout the migrations below recognise by its tables.
// 1: receipt groups, the receipt and quota indexes as runs (run_index.h), rows with a format
// column (2026-12-03).
// 2: a receipt in a group is kept as its XML or as its packed record (ReceiptBody, store.h;
// 2026-12-03); nothing to migrate, as XML still reads.
// 3: the two indexes' runs kept in blocks of entries instead of a row per entry (run_index.h;
// 2026-12-06); MigrateIndexBlocks rewrites them.
// 4: the feed's index kept in blocks, a row per enterprise and transaction holding the seqs of
// its messages (audience_blocks), instead of a row per enterprise and message (message_audience;
// 2026-12-07); MigrateAudience rewrites them.
// A store stamped with a later layout was written by a newer kuajing and is refused rather than
// read wrongly (an older build would show a packed record as the receipt's XML); each change of
// layout adds one and a migration from the last.
constexpr int64_t kStoreLayout = 4;

class SqliteStore final : public SqlStore {
 public:
  ~SqliteStore() override {
    {
      std::lock_guard<std::mutex> lock(checkpoint_mu_);
      checkpoint_stop_ = true;
    }
    checkpoint_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
    sqlite3_close(checkpoint_db_);
    stmts_.clear();
    receipt_index_.Close();
    quota_index_.Close();
    sqlite3_close(db_);
  }

  static StatusOr<std::unique_ptr<SqlStore>> Open(const std::string& dir, SqlConnection role) {
    const bool writer = role == SqlConnection::kWriter;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Unavailable("cannot create the data folder " + dir + ": " + ec.message());
    auto s = std::unique_ptr<SqliteStore>(new SqliteStore);
    const std::string path = dir + "/kuajing.db";
    s->db_path_ = path;
    s->wal_path_ = path + "-wal";
    // NOMUTEX (SQLite's multi-thread mode for this connection): no mutex taken and released in
    // every call (bind, step, column, reset). The store's calls never overlap: each connection
    // is used under its owner's lock (storage::JournaledStore's sql_mu_ and reader_mu_, the
    // platform's for a store of its own), and the checkpointer has a connection of its own.
    ConfigureSqliteOnce();
    if (sqlite3_open_v2(path.c_str(), &s->db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      return Unavailable("cannot open " + path + ": " + sqlite3_errmsg(s->db_));
    }
    sqlite3_busy_timeout(s->db_, 5000);
    int64_t layout = 0;
    {
      Stmt q(s->db_, "PRAGMA user_version");
      if (q.Step() != SQLITE_ROW) {
        return Unavailable("cannot read " + path + ": " + sqlite3_errmsg(s->db_));
      }
      layout = q.Int(0);
    }
    if (layout > kStoreLayout) {
      return FailedPrecondition(path + " is a store of layout " + std::to_string(layout) +
                                ", written by a newer kuajing; this one reads layouts up to " +
                                std::to_string(kStoreLayout) +
                                ": run the newer kuajing (or one at least as new) on it");
    }
    char* err = nullptr;
    if (sqlite3_exec(s->db_, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      return Unavailable("cannot create the schema in " + path + ": " + msg);
    }
    for (const RunIndex* index : {&s->receipt_index_, &s->quota_index_}) {
      if (sqlite3_exec(s->db_, index->Schema().c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "?";
        sqlite3_free(err);
        return Unavailable("cannot create " + index->table() + " in " + path + ": " + msg);
      }
    }
    KJ_RETURN_IF_ERROR(s->Migrate());
    KJ_RETURN_IF_ERROR(s->Prepare());
    KJ_RETURN_IF_ERROR(s->MigrateIndexBlocks());
    KJ_RETURN_IF_ERROR(s->MigrateReceipts());
    KJ_RETURN_IF_ERROR(s->MigrateIndexes());
    KJ_RETURN_IF_ERROR(s->MigrateAudience());
    if (layout < kStoreLayout) {
      const std::string stamp = "PRAGMA user_version = " + std::to_string(kStoreLayout);
      KJ_RETURN_IF_ERROR(s->Exec(stamp.c_str()));
    }
    if (!writer) sqlite3_exec(s->db_, "PRAGMA cache_size=-65536", nullptr, nullptr, nullptr);
    // Checkpoints (copying the log into the database file, and syncing it) run on a thread of
    // their own with its own connection, so that commits do not wait for them: they took a
    // sixth of the single writer's time with small messages (bench/README.md). The writer's
    // automatic checkpoint stays as a backstop, at 4,096 pages (64 MiB of log), should this
    // thread fall behind.
    if (writer && sqlite3_open(path.c_str(), &s->checkpoint_db_) == SQLITE_OK) {
      sqlite3_busy_timeout(s->checkpoint_db_, 5000);
      // SQLite opens the file lazily: until a statement has run on this connection it has not
      // seen the log, and a checkpoint on it does nothing (it did nothing for two stops: the
      // writer's backstop did every checkpoint; bench/README.md).
      sqlite3_exec(s->checkpoint_db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", nullptr,
                   nullptr, nullptr);
      sqlite3_exec(s->db_, "PRAGMA wal_autocheckpoint=4096", nullptr, nullptr, nullptr);
      s->checkpointer_ = std::thread([raw = s.get()] { raw->CheckpointLoop(); });
    }
    return std::unique_ptr<SqlStore>(std::move(s));
  }

  StatusOr<uint64_t> JournalApplied() override {
    Stmt q(db_, "SELECT value FROM meta WHERE key = 'journal_applied'");
    const int rc = q.Step();
    if (rc == SQLITE_ROW) return static_cast<uint64_t>(q.Int(0));
    if (rc == SQLITE_DONE) return uint64_t{0};
    return Error("journal applied");
  }

  StatusOr<std::pair<Decimal, uint64_t>> LedgerSumAndApplied(std::string_view buyer_id,
                                                             int year) override {
    KJ_RETURN_IF_ERROR(Done(stmts_[kBeginRead], "begin a read"));
    auto sum = LedgerSum(buyer_id, year);
    auto applied = sum.ok() ? JournalApplied() : StatusOr<uint64_t>(sum.status());
    Status end = Done(stmts_[kCommitRead], "end a read");  // ends the snapshot
    if (!applied.ok()) return applied.status();
    KJ_RETURN_IF_ERROR(end);
    return std::make_pair(*sum, *applied);
  }

  StatusOr<size_t> MessageGuidsAfter(std::string_view after, size_t limit,
                                     const std::function<void(std::string_view)>& sink) override {
    Stmt q(db_,
           "SELECT DISTINCT guid FROM messages INDEXED BY messages_guid WHERE guid > ? "
           "ORDER BY guid LIMIT ?");
    q.Bind(1, after).Bind(2, static_cast<int64_t>(limit));
    size_t n = 0;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      sink(q.View(0));
      ++n;
    }
    if (rc != SQLITE_DONE) return Error("message guids");
    return n;
  }

  StatusOr<int64_t> LastMessageSeq() override {
    Stmt q(db_, "SELECT COALESCE(MAX(seq), 0) FROM messages");
    if (q.Step() != SQLITE_ROW) return Error("last message seq");
    return q.Int(0);
  }

  Status CommitApplied(const std::vector<const CommitBatch*>& batches, uint64_t frame) override {
    return Transaction(batches, frame);
  }

  Status ForEachMessage(
      int64_t to_ms,
      const std::function<Status(const MessageRow&, const std::vector<StoredReceipt>&)>& sink)
      override {
    Stmt q(db_,
           "SELECT seq, guid, type, sender, received_ms, accepted, raw, raw_format FROM messages "
           "WHERE received_ms < ? ORDER BY seq");
    if (!q.ok()) return Error("messages");
    q.Bind(1, to_ms);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      auto raw = Unpack(q, 6, 7);
      if (!raw.ok()) return raw.status();
      MessageRow m{q.Text(1), q.Text(2), q.Text(3), q.Int(4), q.Int(5) != 0, std::move(*raw)};
      auto receipts = GroupOfMessage(q.Int(0));
      if (!receipts.ok()) return receipts.status();
      KJ_RETURN_IF_ERROR(sink(m, *receipts));
    }
    return rc == SQLITE_DONE ? Status::Ok() : Error("messages");
  }

  Status RecordRiskRules(const RiskRulesVersion& v) override {
    Stmt q(db_,
           "INSERT INTO risk_rules(version, from_ms, text) VALUES(?,?,?) ON CONFLICT DO NOTHING");
    q.Bind(1, v.version).Bind(2, v.from_ms).BindBlob(3, v.text);
    return q.Step() == SQLITE_DONE ? Status::Ok() : Error("record risk rules");
  }

  StatusOr<std::vector<RiskRulesVersion>> RiskRulesHistory() override {
    Stmt q(db_, "SELECT version, from_ms, text FROM risk_rules ORDER BY from_ms");
    std::vector<RiskRulesVersion> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back({q.Text(0), q.Int(1), q.Text(2)});
    if (rc != SQLITE_DONE) return Error("risk rules history");
    return out;
  }

  Status Sync() override {
    // The log is the one file a commit writes (WAL mode); its data and size reach the disk here.
    // Opened by name each time: SQLite may truncate or recreate it at a checkpoint.
    const int fd = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::Ok();  // nothing was ever committed
      return Unavailable("cannot open " + wal_path_ + " to flush it: " + std::strerror(errno));
    }
    const int rc = ::fdatasync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Unavailable("cannot flush " + wal_path_ + ": " + std::strerror(err));
    return Status::Ok();
  }

  Status CommitUnsynced(const std::vector<const CommitBatch*>& batches) override {
    return Transaction(batches, 0);
  }

  StatusOr<std::optional<std::vector<StoredReceipt>>> ReceiptsOfMessage(
      std::string_view guid) override {
    if (guid.empty()) return std::optional<std::vector<StoredReceipt>>();
    Stmt& q = stmts_[kFindMessage];
    q.Bind(1, guid);
    int rc = q.Step();
    int64_t seq = rc == SQLITE_ROW ? q.Int(0) : -1;
    q.Reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("find message");
    if (seq < 0) return std::optional<std::vector<StoredReceipt>>();
    auto out = GroupOfMessage(seq);
    if (!out.ok()) return out.status();
    return std::optional<std::vector<StoredReceipt>>(std::move(*out));
  }

  // One read transaction (one snapshot) for all: BEGIN takes no lock, the first lookup does.
  StatusOr<std::vector<char>> MessagesStored(const std::vector<std::string_view>& guids) override {
    std::vector<char> out(guids.size(), 0);
    KJ_RETURN_IF_ERROR(Done(stmts_[kBeginRead], "begin a read"));
    Status st = Status::Ok();
    for (size_t i = 0; i < guids.size() && st.ok(); ++i) {
      if (guids[i].empty()) continue;
      Stmt& q = stmts_[kFindMessage];
      q.Bind(1, guids[i]);
      const int rc = q.Step();
      q.Reset();
      if (rc == SQLITE_ROW) {
        out[i] = 1;
      } else if (rc != SQLITE_DONE) {
        st = Error("find messages");
      }
    }
    Status end = Done(stmts_[kCommitRead], "end a read");  // ends the snapshot
    KJ_RETURN_IF_ERROR(st);
    KJ_RETURN_IF_ERROR(end);
    return out;
  }

  StatusOr<std::optional<std::string>> SenderOfMessage(std::string_view guid) override {
    Stmt q(db_, "SELECT sender FROM messages WHERE guid = ? AND accepted = 1 ORDER BY seq LIMIT 1");
    q.Bind(1, guid);
    int rc = q.Step();
    if (rc == SQLITE_ROW) return std::optional<std::string>(q.Text(0));
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    return Error("sender of message");
  }

  StatusOr<std::vector<StoredReceipt>> ReceiptsAnswering(std::string_view guid) override {
    auto ids = receipt_index_.Find(AnswersHash(guid));
    if (!ids.ok()) return ids.status();
    // Each id is a receipt of a group holding receipts of the guid (or of another guid of the
    // same hash): each group is read once (ids ascend, and a group's ids are consecutive), and
    // its receipts of the guid kept.
    std::vector<StoredReceipt> out;
    int64_t read_through = 0;  // the last id of the group read last
    for (const int64_t id : *ids) {
      if (id <= read_through) continue;
      Stmt& g = stmts_[kGroupHolding];
      g.Bind(1, id);
      auto group = ReadGroup(g);
      if (!group.ok()) return group.status();
      if (group->empty() || id < group->front().id || id > group->back().id) {
        return Internal("receipt " + std::to_string(id) + " is indexed but in no group");
      }
      read_through = group->back().id;
      for (StoredReceipt& r : *group) {
        if (r.answers_guid == guid) out.push_back(std::move(r));
      }
    }
    return out;
  }

  Status LoadState(const std::function<Status(const clearance::StateChange&)>& sink,
                   const StateWanted& wanted) override {
    Stmt q(db_, "SELECT kind, key, value, format FROM state ORDER BY kind, key");
    if (!q.ok()) return Error("load state");
    // The scan goes in key order, page by page in no order on disk: with the page cache cold
    // (after a crash or a reboot) the file is read ahead in one stream beside it, if the cache
    // can hold it (common/files.h; 47.5-49.0 against 60.1-71.0 s at 10 M documents,
    // bench/README.md).
    FileWarmer warm(db_path_, AvailableMemoryBytes() / 2);
    return SinkStateRows(q, sink, wanted);
  }

  // Gives `sink` each row (kind, key, value, format) of `q` that `wanted` wants (all if empty),
  // the reading (SQLite's steps, `wanted`, zstd) on a thread of its own, a few batches ahead of
  // `sink` on the calling thread: a start without a snapshot was one thread, reading a third of
  // its time (bench/README.md). At each new kind the reader waits until `sink` has taken every
  // row before it (the contract of Store::LoadState).
  Status SinkStateRows(Stmt& q, const std::function<Status(const clearance::StateChange&)>& sink,
                       const StateWanted& wanted) {
    constexpr size_t kBatchRows = 256, kMaxBatches = 8;
    struct Batch {
      std::vector<clearance::StateChange> rows;
      Status status = Status::Ok();  // the reader's error, after its rows
      bool last = false;
    };
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Batch> ready;
    uint64_t pushed = 0, taken = 0;  // batches
    std::atomic<bool> stop{false};   // the caller is done (or failed): the reader stops
    auto push = [&](Batch b) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return stop || ready.size() < kMaxBatches; });
      if (stop) return false;
      ready.push_back(std::move(b));
      ++pushed;
      cv.notify_all();
      return true;
    };
    std::thread reader([&] {
      NameThisThread("kj-load");
      Batch b;
      std::string kind;
      int rc;
      while ((rc = q.Step()) == SQLITE_ROW) {
        if (stop) return;
        if (q.View(0) != kind) {
          if (!b.rows.empty() && !push(std::exchange(b, Batch{}))) return;
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return stop || taken == pushed; });
          if (stop) return;
          kind = q.Text(0);
        }
        // A row not wanted is neither copied nor unpacked (SQLite fetches a column's bytes when
        // they are asked for).
        if (wanted && !wanted(q.View(0), q.View(1))) continue;
        auto value = Unpack(q, 2, 3);
        if (!value.ok()) {
          b.status = value.status();
          break;
        }
        b.rows.push_back(clearance::StateChange{kind, q.Text(1), std::move(*value), false});
        if (b.rows.size() == kBatchRows && !push(std::exchange(b, Batch{}))) return;
      }
      if (b.status.ok() && rc != SQLITE_DONE) b.status = Error("load state");
      b.last = true;
      push(std::move(b));
    });
    Status result = Status::Ok();
    for (bool done = false; !done;) {
      Batch b;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return !ready.empty(); });
        b = std::move(ready.front());
        ready.pop_front();
        cv.notify_all();  // room for the reader
      }
      for (const clearance::StateChange& row : b.rows) {
        result = sink(row);
        if (!result.ok()) break;
      }
      if (result.ok()) result = b.status;
      done = b.last || !result.ok();
      std::lock_guard<std::mutex> lock(mu);
      ++taken;
      if (done) stop = true;
      cv.notify_all();
    }
    reader.join();
    return result;
  }

  Status LoadStateOfKinds(
      std::string_view prefix,
      const std::function<Status(const clearance::StateChange&)>& sink) override {
    // The kinds from `prefix` up to the first string past every one it starts: the prefix with
    // its last byte one higher (a range of the primary key, read in order).
    std::string end(prefix);
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
    if (end.empty()) return InvalidArgument("a state kind prefix of no bound");
    end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
    Stmt q(db_,
           "SELECT kind, key, value, format FROM state WHERE kind >= ?1 AND kind < ?2 "
           "ORDER BY kind, key");
    if (!q.ok()) return Error("load state");
    q.Bind(1, prefix).Bind(2, end);
    return SinkStateRows(q, sink, {});
  }

  StatusOr<std::optional<std::string>> ReadState(std::string_view kind,
                                                 std::string_view key) override {
    Stmt& q = stmts_[kReadState];
    q.Bind(1, kind).Bind(2, key);
    const int rc = q.Step();
    std::optional<std::string> value;
    if (rc == SQLITE_ROW) {
      auto unpacked = Unpack(q, 0, 1);
      if (!unpacked.ok()) {
        q.Reset();
        return unpacked.status();
      }
      value = std::move(*unpacked);
    }
    q.Reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("read state");
    return value;
  }

  StatusOr<Decimal> LedgerSum(std::string_view buyer_id, int year) override {
    auto ids = quota_index_.Find(QuotaHash(buyer_id, year));
    if (!ids.ok()) return ids.status();
    int64_t sum_e5 = 0;
    Stmt& q = stmts_[kLedgerRow];
    for (const int64_t id : *ids) {
      q.Bind(1, id);
      const int rc = q.Step();
      if (rc == SQLITE_ROW && q.Int(1) == year && q.Text(0) == buyer_id) sum_e5 += q.Int(2);
      q.Reset();
      if (rc == SQLITE_DONE)
        return Internal("ledger row " + std::to_string(id) + " is indexed but gone");
      if (rc != SQLITE_ROW) return Error("ledger sum");
    }
    return Decimal::FromE5(sum_e5);
  }

  StatusOr<std::vector<StoredReceipt>> ReceiptsFor(std::string_view enterprise, int64_t after_id,
                                                   int limit) override {
    // The message holding receipt after_id (or the one after it): the feed resumes there.
    int64_t from_seq = 0;
    {
      Stmt& g = stmts_[kSeqHolding];
      g.Bind(1, after_id);
      const int rc = g.Step();
      if (rc == SQLITE_ROW) from_seq = g.Int(0);
      g.Reset();
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("receipts for");
    }
    std::vector<StoredReceipt> out;
    if (limit <= 0) return out;
    Stmt& q = stmts_[kReceiptsFor];
    q.Bind(1, enterprise).Bind(2, from_seq);
    // Each message of the blocks from from_seq on, then its group (kGroupOfMessage).
    const auto read_message = [&](int64_t seq) -> Status {
      Stmt& g = stmts_[kGroupOfMessage];
      g.Bind(1, seq);
      const int rc = g.Step();
      if (rc != SQLITE_ROW) {
        g.Reset();
        return rc == SQLITE_DONE ? Status::Ok() : Error("receipts for");
      }
      if (g.Int(0) + g.Int(1) - 1 <= after_id) {  // all before the id asked for
        g.Reset();
        return Status::Ok();
      }
      auto group = DecodeGroup(g);
      g.Reset();
      if (!group.ok()) return group.status();
      for (StoredReceipt& r : *group) {
        if (r.id <= after_id ||
            std::find(r.audience.begin(), r.audience.end(), enterprise) == r.audience.end()) {
          continue;
        }
        out.push_back(std::move(r));
        if (out.size() == static_cast<size_t>(limit)) break;
      }
      return Status::Ok();
    };
    int rc = SQLITE_DONE;
    Status st = Status::Ok();
    while (st.ok() && out.size() < static_cast<size_t>(limit) && (rc = q.Step()) == SQLITE_ROW) {
      VarintReader seqs(q.View(1));  // read before the next Step
      int64_t seq = q.Int(0);
      while (st.ok() && out.size() < static_cast<size_t>(limit) && !seqs.done()) {
        seq += static_cast<int64_t>(seqs.Varint());
        if (!seqs.ok()) st = Internal("a block of the feed's index is damaged");
        if (st.ok() && seq >= from_seq) st = read_message(seq);
      }
    }
    q.Reset();
    if (!st.ok()) return st;
    if (out.size() < static_cast<size_t>(limit) && rc != SQLITE_DONE) return Error("receipts for");
    return out;
  }

  StatusOr<int64_t> LastReceiptId() override {
    Stmt q(db_,
           "SELECT COALESCE((SELECT first_id + count - 1 FROM receipt_groups ORDER BY first_id "
           "DESC LIMIT 1), 0)");
    if (q.Step() != SQLITE_ROW) return Error("last receipt id");
    return q.Int(0);
  }

  // Counted once (COUNT(*) reads the whole table: ~50 ms for 700,000 messages), then kept by
  // Commit.
  Timings timings() const override {
    Timings t;
    if (checkpointer_.joinable()) t.checkpoint = &checkpoint_times_;
    return t;
  }

  StatusOr<int64_t> MessageCount() override {
    if (!message_count_) {
      Stmt q(db_, "SELECT COUNT(*) FROM messages");
      if (q.Step() != SQLITE_ROW) return Error("count");
      message_count_ = q.Int(0);
    }
    return *message_count_;
  }

 private:
  std::optional<int64_t> message_count_;
  std::string db_path_;
  std::string wal_path_;
  // Scratch of WriteAll: each enterprise's messages in the transaction (WriteFeed).
  std::map<std::string, std::vector<int64_t>, std::less<>> feed_;
  std::string group_;                  // scratch of WriteGroup
  std::vector<int64_t> hashes_;        // scratch of WriteGroup
  RunIndex receipt_index_{"receipt"};  // receipts by the guid they answer (run_index.h)
  RunIndex quota_index_{"quota"};      // ledger rows by buyer and year
  // Scratch of WriteAll: each state row's last change in the transaction.
  PointerTable<clearance::StateChange> last_change_;  // by HashOfRow (pointer_table.h)
  int64_t last_receipt_id_ = -1;  // the last receipt id written (-1: not read yet)
  BlobCodec blobs_;               // raw messages and receipts, as stored (blob_codec.h)

  // A passive checkpoint every 100 ms (never blocks the writer; SQLite starts the log afresh once
  // a checkpoint has copied all of it). synchronous=NORMAL makes it sync the database file.
  void CheckpointLoop() {
    NameThisThread("kj-checkpoint");
    std::unique_lock<std::mutex> lock(checkpoint_mu_);
    while (!checkpoint_stop_) {
      checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(100));
      if (checkpoint_stop_) break;
      lock.unlock();
      int log_frames = 0, copied = 0;
      const auto began = std::chrono::steady_clock::now();
      sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                &copied);
      // Only the checkpoints that copied pages: the others are a look at an empty log.
      if (copied > 0) checkpoint_times_.Observe(std::chrono::steady_clock::now() - began);
      lock.lock();
    }
  }
  sqlite3* checkpoint_db_ = nullptr;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_stop_ = false;  // protected by checkpoint_mu_
  std::thread checkpointer_;
  DurationHistogram checkpoint_times_;
  enum StmtId {
    kInsertMessage,
    kInsertGroup,
    kUpsertState,
    kDeleteState,
    kInsertLedger,
    kFindMessage,
    kGroupOfMessage,
    kGroupHolding,
    kSeqHolding,
    kInsertAudience,
    kReceiptsFor,
    kReadState,
    kLedgerRow,
    kBeginRead,
    kCommitRead,
    kStmtCount
  };

  Status Prepare() {
    static constexpr const char* kSql[kStmtCount] = {
        // seq: NULL lets SQLite number the row (the journaled store numbers messages and
        // receipts itself; WriteAll numbers receipts that come without).
        "INSERT INTO messages(guid, type, sender, received_ms, accepted, raw, raw_format, seq) "
        "VALUES(?,?,?,?,?,?,?,?)",
        "INSERT INTO receipt_groups(message_seq, first_id, count, data, format) VALUES(?,?,?,?,?)",
        "INSERT INTO state(kind, key, value, format) VALUES(?,?,?,?) ON CONFLICT(kind, key) DO "
        "UPDATE SET value = excluded.value, format = excluded.format",
        "DELETE FROM state WHERE kind = ? AND key = ?",
        "INSERT INTO quota_ledger(buyer_id, year, delta_e5, invt_no, reason, at_ms) "
        "VALUES(?,?,?,?,?,?)",
        "SELECT seq FROM messages WHERE guid = ? AND accepted = 1 ORDER BY seq LIMIT 1",
        "SELECT first_id, count, data, format, message_seq FROM receipt_groups "
        "WHERE message_seq = ?",
        "SELECT first_id, count, data, format, message_seq FROM receipt_groups "
        "WHERE first_id <= ? ORDER BY first_id DESC LIMIT 1",
        // The same group's message only: read from the receipt_groups_first index alone.
        "SELECT message_seq FROM receipt_groups WHERE first_id <= ? ORDER BY first_id DESC "
        "LIMIT 1",
        // A transaction written again after a crash writes the same block: replaced.
        "INSERT OR REPLACE INTO audience_blocks(enterprise, first_seq, seqs) VALUES(?,?,?)",
        // The enterprise's blocks from the one holding message ?2 on, in message order (receipt
        // ids and message seqs grow together, both in commit order); ReceiptsFor reads the groups
        // of their messages from ?2 on, keeps the receipts after the id asked for that name the
        // enterprise, and stops at the limit.
        "SELECT first_seq, seqs FROM audience_blocks WHERE enterprise = ?1 AND first_seq >= "
        "COALESCE((SELECT MAX(first_seq) FROM audience_blocks WHERE enterprise = ?1 AND "
        "first_seq <= ?2), 0) ORDER BY first_seq",
        "SELECT value, format FROM state WHERE kind = ? AND key = ?",
        "SELECT buyer_id, year, delta_e5 FROM quota_ledger WHERE id = ?",
        // A read transaction's ends, prepared once: sqlite3_exec parses its text on every call
        // (a third of MessagesStored with a group's few lookups).
        "BEGIN",
        "COMMIT",
    };
    stmts_.resize(kStmtCount);
    for (int i = 0; i < kStmtCount; ++i) {
      stmts_[i] = Stmt(db_, kSql[i]);
      if (!stmts_[i].ok()) return Error("prepare");
    }
    KJ_RETURN_IF_ERROR(receipt_index_.Prepare(db_));
    return quota_index_.Prepare(db_);
  }

  // Adds a column an older store's table lacks (SQLite only records it in the schema: no row is
  // rewritten). Checked inside the write lock, so two connections opening at once add it once.
  Status AddColumn(const std::string& table, const std::string& column, const char* decl) {
    return InTransaction([&]() -> Status {
      Stmt has(db_, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
      has.Bind(1, table).Bind(2, column);
      const int rc = has.Step();
      has.Reset();
      if (rc == SQLITE_ROW) return Status::Ok();
      if (rc != SQLITE_DONE) return Error("read the schema");
      return Exec(("ALTER TABLE " + table + " ADD COLUMN " + column + " " + decl).c_str());
    });
  }

  // Runs `body` in one write transaction: committed if it returns OK, rolled back otherwise.
  Status InTransaction(const std::function<Status()>& body) {
    KJ_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = body();
    if (!st.ok()) {
      (void)Exec("ROLLBACK");
      return st;
    }
    return Exec("COMMIT");
  }

  // Stores written before the feed's index was per message (with a receipt_audience table): the
  // index is rebuilt per message (message_audience, which MigrateAudience then makes blocks), the
  // old one dropped, in one transaction.
  Status Migrate() {
    // Stores made before blobs were compressed (blob_codec.h): their rows are plain, format 0.
    KJ_RETURN_IF_ERROR(AddColumn("messages", "raw_format", "INTEGER NOT NULL DEFAULT 0"));
    // Stores made before state rows were compressed: their rows are plain, format 0.
    KJ_RETURN_IF_ERROR(AddColumn("state", "format", "INTEGER NOT NULL DEFAULT 0"));
    if (!Exists("table", "receipt_audience")) return Status::Ok();
    return InTransaction([&] {
      KJ_RETURN_IF_ERROR(Exec(kMessageAudience));
      KJ_RETURN_IF_ERROR(
          Exec("INSERT OR IGNORE INTO message_audience(enterprise, message_seq) "
               "SELECT a.enterprise, r.message_seq FROM receipt_audience a JOIN receipts r ON "
               "r.id = a.receipt_id"));
      return Exec("DROP TABLE receipt_audience");
    });
  }

  // The feed's index of layouts 0-3, a row per enterprise and message: the earlier layouts'
  // migrations gather into it (its key keeps each pair once, whichever of them wrote it), and
  // MigrateAudience, the last, makes its rows blocks.
  static constexpr const char* kMessageAudience =
      "CREATE TABLE IF NOT EXISTS message_audience(enterprise TEXT NOT NULL, message_seq INTEGER "
      "NOT NULL, PRIMARY KEY(enterprise, message_seq)) WITHOUT ROWID";

  // Stores of layouts 0-3 kept the feed's index a row per enterprise and message
  // (message_audience): its rows become blocks of up to kMigratedBlock messages of an enterprise
  // each (WriteFeed's form), and the table goes, in one transaction.
  Status MigrateAudience() {
    static constexpr size_t kMigratedBlock = 1024;
    if (!Exists("table", "message_audience")) return Status::Ok();
    return InTransaction([&]() -> Status {
      Stmt q(db_, "SELECT enterprise, message_seq FROM message_audience ORDER BY 1, 2");
      Stmt insert(db_,
                  "INSERT OR IGNORE INTO audience_blocks(enterprise, first_seq, seqs) "
                  "VALUES(?,?,?)");
      if (!q.ok() || !insert.ok()) return Error("read the feed's old index");
      std::string who, block;
      std::vector<int64_t> seqs;
      const auto flush = [&]() -> Status {
        if (seqs.empty()) return Status::Ok();
        EncodeFeedBlock(seqs, &block);
        insert.Bind(1, who).Bind(2, seqs.front()).BindBlob(3, block);
        seqs.clear();
        return Done(insert, "write the feed's blocks");
      };
      int rc;
      while ((rc = q.Step()) == SQLITE_ROW) {
        if (q.View(0) != who || seqs.size() == kMigratedBlock) {
          KJ_RETURN_IF_ERROR(flush());
          who = q.Text(0);
        }
        seqs.push_back(q.Int(1));
      }
      if (rc != SQLITE_DONE) return Error("read the feed's old index");
      KJ_RETURN_IF_ERROR(flush());
      return Exec("DROP TABLE message_audience");
    });
  }

  // A block of the feed's index: the seqs (ascending) as varints, the first as 0 (its distance
  // from the block's first_seq) and each after it as its distance from the one before.
  static void EncodeFeedBlock(const std::vector<int64_t>& seqs, std::string* block) {
    block->clear();
    int64_t last = seqs.front();
    for (const int64_t seq : seqs) {
      PutVarint(*block, static_cast<uint64_t>(seq - last));
      last = seq;
    }
  }

  bool Exists(const char* type, const char* name) {
    Stmt q(db_, "SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?");
    q.Bind(1, type).Bind(2, name);
    return q.Step() == SQLITE_ROW;
  }

  // Stores written before a message's receipts were one row (a receipts table, a row per receipt,
  // its xml plain): each message's receipts become a group, in one transaction, and the table
  // goes. Runs after the feed's index migration above, which reads that table.
  Status MigrateReceipts() {
    if (!Exists("table", "receipts")) return Status::Ok();
    Status st = InTransaction([&] {
      KJ_RETURN_IF_ERROR(ConvertReceipts());
      KJ_RETURN_IF_ERROR(receipt_index_.Maintain());
      return Exec("DROP TABLE receipts");
    });
    if (!st.ok()) receipt_index_.Forget();
    return st;
  }

  // Stores of layouts 1 and 2 kept the indexes' entries a row each (receipt_index, quota_index):
  // rewritten as blocks, in one transaction (the check inside it, so that two connections
  // opening at once rewrite them once).
  Status MigrateIndexBlocks() {
    Status st = InTransaction([&] {
      KJ_RETURN_IF_ERROR(receipt_index_.MigrateRowsToBlocks());
      return quota_index_.MigrateRowsToBlocks();
    });
    receipt_index_.Forget();
    quota_index_.Forget();
    return st;
  }

  // Stores made before the two hash indexes were runs (run_index.h): receipt_answers (a row per
  // receipt, keyed by (answers_hash, id)) is copied into one run, in its own key order, and
  // dropped; the ledger's (buyer_id, year) index is read into one run (hashed and sorted in
  // memory: 16 bytes a row) and dropped. One transaction.
  Status MigrateIndexes() {
    const bool answers = Exists("table", "receipt_answers");
    const bool buyers = Exists("index", "quota_buyer");
    if (!answers && !buyers) return Status::Ok();
    return InTransaction([&]() -> Status {
      if (answers && Exists("table", "receipt_answers")) {
        int64_t n = 0;
        {
          Stmt count(db_, "SELECT COUNT(*) FROM receipt_answers");
          if (count.Step() != SQLITE_ROW) return Error("count receipt_answers");
          n = count.Int(0);
        }
        if (n > 0) {
          auto run = receipt_index_.NewRun(n);
          if (!run.ok()) return run.status();
          Stmt copy(db_, "SELECT answers_hash, id FROM receipt_answers ORDER BY answers_hash, id");
          int rc;
          while ((rc = copy.Step()) == SQLITE_ROW) {
            KJ_RETURN_IF_ERROR(receipt_index_.AddTo(*run, copy.Int(0), copy.Int(1)));
          }
          if (rc != SQLITE_DONE) return Error("copy receipt_answers");
          KJ_RETURN_IF_ERROR(receipt_index_.EndRun());
        }
        KJ_RETURN_IF_ERROR(Exec("DROP TABLE receipt_answers"));
      }
      if (buyers && Exists("index", "quota_buyer")) {
        std::vector<std::pair<int64_t, int64_t>> entries;
        {
          Stmt rows(db_, "SELECT id, buyer_id, year FROM quota_ledger");
          int rc;
          while ((rc = rows.Step()) == SQLITE_ROW) {
            entries.emplace_back(QuotaHash(rows.Text(1), static_cast<int>(rows.Int(2))),
                                 rows.Int(0));
          }
          if (rc != SQLITE_DONE) return Error("read the quota ledger");
        }
        std::sort(entries.begin(), entries.end());
        if (!entries.empty()) {
          auto run = quota_index_.NewRun(static_cast<int64_t>(entries.size()));
          if (!run.ok()) return run.status();
          for (const auto& [hash, id] : entries) {
            KJ_RETURN_IF_ERROR(quota_index_.AddTo(*run, hash, id));
          }
          KJ_RETURN_IF_ERROR(quota_index_.EndRun());
        }
        KJ_RETURN_IF_ERROR(Exec("DROP INDEX quota_buyer"));
      }
      return Status::Ok();
    });
  }

  Status ConvertReceipts() {
    Stmt q(db_,
           "SELECT message_seq, id, type, answers_guid, status, audience, xml, 0 FROM receipts "
           "ORDER BY message_seq, id");
    if (!q.ok()) return Error("read the old receipts");
    std::vector<StoredReceipt> group;
    int64_t seq = 0;
    int rc;
    feed_.clear();
    while ((rc = q.Step()) == SQLITE_ROW) {
      if (q.Int(0) != seq && !group.empty()) {
        KJ_RETURN_IF_ERROR(WriteGroup(seq, group));
        group.clear();
      }
      seq = q.Int(0);
      auto xml = Unpack(q, 6, 7);
      if (!xml.ok()) return xml.status();
      StoredReceipt r{q.Text(2), q.Text(3), q.Text(4), std::move(*xml), {}, q.Int(1)};
      const std::string audience = q.Text(5);
      for (size_t p = 0; !audience.empty() && p != std::string::npos;) {
        const size_t bar = audience.find('|', p);
        r.audience.push_back(audience.substr(p, bar - p));
        p = bar == std::string::npos ? bar : bar + 1;
      }
      group.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return Error("read the old receipts");
    if (!group.empty()) KJ_RETURN_IF_ERROR(WriteGroup(seq, group));
    // Into the older index, where the receipt_audience rows went too (Migrate): MigrateAudience
    // makes blocks of both, each pair once.
    KJ_RETURN_IF_ERROR(Exec(kMessageAudience));
    Stmt insert(db_, "INSERT OR IGNORE INTO message_audience(enterprise, message_seq) VALUES(?,?)");
    if (!insert.ok()) return Error("write the feed's old index");
    for (const auto& [who, seqs] : feed_) {
      for (const int64_t s : seqs) {
        insert.Bind(1, who).Bind(2, s);
        KJ_RETURN_IF_ERROR(Done(insert, "write the feed's old index"));
      }
    }
    feed_.clear();
    return Status::Ok();
  }

  // One transaction: the batches, and (frame > 0) the journal frame they complete.
  Status Transaction(const std::vector<const CommitBatch*>& batches, uint64_t frame) {
    Status st = InTransaction([&] {
      KJ_RETURN_IF_ERROR(WriteAll(batches));
      if (frame == 0) return Status::Ok();
      Stmt m(db_,
             "INSERT INTO meta(key, value) VALUES('journal_applied', ?) ON CONFLICT(key) DO "
             "UPDATE SET value = excluded.value");
      m.Bind(1, static_cast<int64_t>(frame));
      return m.Step() == SQLITE_DONE ? Status::Ok() : Error("record the journal frame applied");
    });
    if (!st.ok()) {
      last_receipt_id_ = -1;  // what WriteGroup numbered was rolled back: read it again
      receipt_index_.Forget();
      quota_index_.Forget();
      return st;
    }
    // Each batch is one message row: the count follows without a COUNT(*) over the table.
    if (message_count_) *message_count_ += static_cast<int64_t>(batches.size());
    return Status::Ok();
  }

  Status WriteAll(const std::vector<const CommitBatch*>& batches) {
    // A state row changed by several batches of one transaction is written once, as the last of
    // them left it: no reader sees the transaction half done, so the earlier values never show.
    // The documents of one clearance arrive in messages a few milliseconds apart, and the
    // projector's transactions hold up to about a thousand clearances, so this spares up to one
    // in five of the upserts (the list's row is rewritten as each document matches: 7.4 upserts
    // per clearance for 6 rows; bench/README.md).
    last_change_.Clear();
    feed_.clear();
    const auto same_row = [](const clearance::StateChange& c) {
      return [&c](const clearance::StateChange& o) { return o.key == c.key && o.kind == c.kind; };
    };
    for (const CommitBatch* b : batches) {
      for (const clearance::StateChange& c : b->changes)
        last_change_.Upsert(HashOfRow(c.kind, c.key), &c, same_row(c));
    }
    for (const CommitBatch* b : batches) {
      const MessageRow& m = b->message;
      Stmt& im = stmts_[kInsertMessage];
      im.Bind(1, m.guid)
          .Bind(2, m.type)
          .Bind(3, m.sender)
          .Bind(4, m.received_ms)
          .Bind(5, int64_t{m.accepted ? 1 : 0});
      // Packed already (on the server's I/O thread, store.h) or packed here.
      const auto [raw, raw_format] =
          m.raw_format != 0
              ? std::pair<std::string_view, BlobFormat>{m.raw, BlobFormat{m.raw_format}}
              : blobs_.Pack(m.raw);
      im.BindBlob(6, raw).Bind(7, static_cast<int64_t>(raw_format));
      if (m.seq > 0) im.Bind(8, m.seq);
      KJ_RETURN_IF_ERROR(Done(im, "insert message"));
      const int64_t seq = sqlite3_last_insert_rowid(db_);
      if (!b->receipts.empty()) KJ_RETURN_IF_ERROR(WriteGroup(seq, b->receipts));
      for (const clearance::StateChange& c : b->changes) {
        if (last_change_.Find(HashOfRow(c.kind, c.key), same_row(c)) != &c)
          continue;  // a later one follows
        if (c.erase) {
          Stmt& d = stmts_[kDeleteState];
          d.Bind(1, c.kind).Bind(2, c.key);
          KJ_RETURN_IF_ERROR(Done(d, "delete state"));
        } else {
          Stmt& u = stmts_[kUpsertState];
          // Compressed against the state rows' own dictionary (blob_codec.h): 2.7x smaller,
          // and they were three quarters of what a clearance left in the store.
          const auto [value, format] = blobs_.Pack(c.value, BlobFormat::kZstdStateV1);
          u.Bind(1, c.kind).Bind(2, c.key).BindBlob(3, value).Bind(4, static_cast<int64_t>(format));
          KJ_RETURN_IF_ERROR(Done(u, "upsert state"));
        }
      }
      for (const clearance::QuotaEntry& q : b->ledger) {
        Stmt& l = stmts_[kInsertLedger];
        l.Bind(1, q.buyer_id)
            .Bind(2, int64_t{q.year})
            .Bind(3, q.delta.e5)
            .Bind(4, q.invt_no)
            .Bind(5, q.reason)
            .Bind(6, q.at_ms);
        KJ_RETURN_IF_ERROR(Done(l, "insert ledger"));
        KJ_RETURN_IF_ERROR(
            quota_index_.Add(QuotaHash(q.buyer_id, q.year), sqlite3_last_insert_rowid(db_)));
      }
    }
    KJ_RETURN_IF_ERROR(WriteFeed());
    KJ_RETURN_IF_ERROR(receipt_index_.Maintain());
    return quota_index_.Maintain();
  }

  // The blob in column `col` of the current row, as it was written (its format in `format_col`).
  StatusOr<std::string> Unpack(Stmt& s, int col, int format_col) {
    auto* p = static_cast<const char*>(sqlite3_column_blob(s.get(), col));
    const std::string_view stored(p ? p : "",
                                  static_cast<size_t>(sqlite3_column_bytes(s.get(), col)));
    return blobs_.Unpack(static_cast<BlobFormat>(s.Int(format_col)), stored);
  }

  Status Done(Stmt& s, const char* what) {
    int rc = s.Step();
    s.Reset();
    return rc == SQLITE_DONE ? Status::Ok() : Error(what);
  }

  // A message's receipts are one row (receipt_groups): numbered first_id, first_id + 1, ... in
  // the order given, packed and compressed together, with one receipt index entry per guid the
  // group answers (run_index.h). A row per receipt with two indexes, each receipt
  // compressed alone, was the largest part of the projection (bench/README.md, "Issue 7").
  Status WriteGroup(int64_t seq, const std::vector<StoredReceipt>& receipts) {
    if (last_receipt_id_ < 0) {
      auto last = LastReceiptId();
      if (!last.ok()) return last.status();
      last_receipt_id_ = *last;
    }
    const int64_t first = receipts.front().id > 0 ? receipts.front().id : last_receipt_id_ + 1;
    group_.clear();
    hashes_.clear();
    for (size_t i = 0; i < receipts.size(); ++i) {
      const StoredReceipt& r = receipts[i];
      const int64_t id = first + static_cast<int64_t>(i);
      if (r.id > 0 && r.id != id) {
        return Internal("the receipts of message " + std::to_string(seq) +
                        " are not numbered in a row");
      }
      PutText(group_, r.type);
      PutText(group_, r.answers_guid);
      PutText(group_, r.status);
      PutVarint(group_, r.audience.size());
      for (const std::string& who : r.audience) {
        PutText(group_, who);
        std::vector<int64_t>& seqs = feed_[who];
        if (seqs.empty() || seqs.back() != seq) seqs.push_back(seq);  // once per message
      }
      PutText(group_, ReceiptBody(r));
      hashes_.push_back(AnswersHash(r.answers_guid));
    }
    // One index entry per guid the group answers, not per receipt: a list's five receipts
    // (2, 120, 399, 800 and its tax bill) usually share a group.
    std::sort(hashes_.begin(), hashes_.end());
    hashes_.erase(std::unique(hashes_.begin(), hashes_.end()), hashes_.end());
    for (const int64_t h : hashes_) KJ_RETURN_IF_ERROR(receipt_index_.Add(h, first));
    const auto [data, format] = blobs_.Pack(group_);
    Stmt& ig = stmts_[kInsertGroup];
    ig.Bind(1, seq)
        .Bind(2, first)
        .Bind(3, static_cast<int64_t>(receipts.size()))
        .BindBlob(4, data)
        .Bind(5, static_cast<int64_t>(format));
    KJ_RETURN_IF_ERROR(Done(ig, "insert receipts"));
    last_receipt_id_ =
        std::max(last_receipt_id_, first + static_cast<int64_t>(receipts.size()) - 1);
    return Status::Ok();
  }

  // The feed's index: the messages each enterprise's receipts name, written once per transaction
  // as one row per enterprise (a block: the seqs as varints, each after the first as its distance
  // from the one before). A row per enterprise and message (message_audience) cost three to four
  // B-tree inserts per message, about a fifth of the projector's work with one document per
  // message (bench/README.md); a row per receipt and enterprise before that, 30 rows per
  // clearance with 100 documents per message.
  Status WriteFeed() {
    std::string block;
    for (const auto& [who, seqs] : feed_) {  // each holds a seq at least (WriteGroup)
      EncodeFeedBlock(seqs, &block);
      Stmt& ia = stmts_[kInsertAudience];
      ia.Bind(1, who).Bind(2, seqs.front()).BindBlob(3, block);
      KJ_RETURN_IF_ERROR(Done(ia, "insert the feed's block"));
    }
    return Status::Ok();
  }

  // The receipts of the group in the current row of `s` (first_id, count, data, format, seq).
  StatusOr<std::vector<StoredReceipt>> DecodeGroup(Stmt& s) {
    auto data = Unpack(s, 2, 3);
    if (!data.ok()) return data.status();
    const int64_t first = s.Int(0);
    const int64_t count = s.Int(1);
    std::vector<StoredReceipt> out;
    VarintReader in(*data);
    for (int64_t i = 0; i < count && in.ok() && !in.done(); ++i) {
      StoredReceipt r;
      in.Text(r.type);
      in.Text(r.answers_guid);
      in.Text(r.status);
      const uint64_t n = in.Varint();
      for (uint64_t k = 0; k < n && in.ok(); ++k) r.audience.push_back(in.Text());
      SetReceiptBody(r, in.Text());
      r.id = first + i;
      if (!RenderReceipt(r).ok()) break;  // damaged: reported below
      out.push_back(std::move(r));
    }
    if (!in.ok() || !in.done() || static_cast<int64_t>(out.size()) != count) {
      return Internal("the stored receipts of message " + std::to_string(s.Int(4)) +
                      " are damaged");
    }
    return out;
  }

  // The group `s` finds (bound, not yet stepped; one row at most): its receipts, none if none.
  StatusOr<std::vector<StoredReceipt>> ReadGroup(Stmt& s) {
    const int rc = s.Step();
    StatusOr<std::vector<StoredReceipt>> out = std::vector<StoredReceipt>();
    if (rc == SQLITE_ROW) out = DecodeGroup(s);
    s.Reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("read receipts");
    return out;
  }

  StatusOr<std::vector<StoredReceipt>> GroupOfMessage(int64_t seq) {
    Stmt& g = stmts_[kGroupOfMessage];
    g.Bind(1, seq);
    return ReadGroup(g);
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      return Unavailable(std::string(sql) + ": " + msg);
    }
    return Status::Ok();
  }

  Status Error(const char* what) {
    return Unavailable(std::string(what) + ": " + sqlite3_errmsg(db_));
  }

  sqlite3* db_ = nullptr;
  std::vector<Stmt> stmts_;
};

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& dir) {
  auto s = SqliteStore::Open(dir, SqlConnection::kWriter);
  if (!s.ok()) return s.status();
  return std::unique_ptr<Store>(std::move(*s));
}

StatusOr<std::unique_ptr<SqlStore>> OpenSqlStore(const std::string& dir, SqlConnection role) {
  return SqliteStore::Open(dir, role);
}

}  // namespace kuajing::storage
