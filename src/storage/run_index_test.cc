#include "storage/run_index.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>

#include "storage/sqlite_stmt.h"

namespace kuajing::storage {
namespace {

namespace fs = std::filesystem;

// Small runs, so that a few thousand entries go through several levels of merges.
RunIndexOptions Small() {
  RunIndexOptions o;
  o.tail_entries = 40;
  o.fanout = 3;
  o.work_per_entry = 3;  // less than the levels need per entry: merges span many transactions
  o.min_work = 8;
  return o;
}

class RunIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kj-runindex-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Open();
  }
  void TearDown() override {
    Close();
    fs::remove_all(dir_);
  }
  void Open(RunIndexOptions o = Small()) {
    ConfigureSqliteOnce();  // as the stores do, whichever test opens SQLite first
    ASSERT_EQ(sqlite3_open((dir_ / "t.db").c_str(), &db_), SQLITE_OK);
    Exec("PRAGMA journal_mode=WAL");
    index_ = std::make_unique<RunIndex>("t", o);
    Exec(index_->Schema());
    ASSERT_TRUE(index_->Prepare(db_).ok());
  }
  void Close() {
    index_.reset();
    sqlite3_close(db_);
    db_ = nullptr;
  }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
  }
  // One transaction adding `n` entries (hashes from a small range, so that hashes repeat).
  void AddTransaction(int n, bool commit = true) {
    Exec("BEGIN IMMEDIATE");
    std::vector<std::pair<int64_t, int64_t>> added;
    for (int i = 0; i < n; ++i) {
      const int64_t hash = static_cast<int64_t>(rng_() % 500) - 250;  // negative ones too
      const int64_t id = ++next_id_;
      ASSERT_TRUE(index_->Add(hash, id).ok());
      added.emplace_back(hash, id);
    }
    ASSERT_TRUE(index_->Maintain().ok());
    if (commit) {
      Exec("COMMIT");
      for (const auto& [h, id] : added) model_[h].insert(id);
    } else {
      Exec("ROLLBACK");
      index_->Forget();
    }
  }
  void ExpectAllFound() {
    for (int64_t h = -260; h < 260; ++h) {
      auto got = index_->Find(h);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      const auto it = model_.find(h);
      const std::vector<int64_t> want =
          it == model_.end() ? std::vector<int64_t>{}
                             : std::vector<int64_t>(it->second.begin(), it->second.end());
      ASSERT_EQ(*got, want) << "hash " << h;
    }
  }
  // The one value `sql` reads.
  int64_t Scalar(const char* sql) {
    sqlite3_stmt* q = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &q, nullptr), SQLITE_OK) << sql;
    EXPECT_EQ(sqlite3_step(q), SQLITE_ROW) << sql;
    const int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
  }
  // Small transactions until no merge is under way and nothing is left to delete.
  void Drain() {
    for (int t = 0; t < 20000; ++t) {
      if (Scalar("SELECT COUNT(*) FROM t_runs WHERE state IN (2, 3)") == 0) return;
      AddTransaction(1);
    }
    FAIL() << "the merges did not finish";
  }
  // `transactions` more of 7 entries each, then the merges drained: everything is found, and
  // the runs hold each entry once.
  void GrowDrainAndCheck(int transactions) {
    for (int t = 0; t < transactions; ++t) AddTransaction(7);
    ExpectAllFound();
    Drain();
    auto shape = index_->Describe();
    ASSERT_TRUE(shape.ok());
    EXPECT_EQ(shape->entries, ModelSize());
  }
  int64_t ModelSize() const {
    int64_t n = 0;
    for (const auto& [h, ids] : model_) n += static_cast<int64_t>(ids.size());
    return n;
  }

  fs::path dir_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<RunIndex> index_;
  std::mt19937_64 rng_{7};
  int64_t next_id_ = 0;
  std::map<int64_t, std::set<int64_t>> model_;
};

TEST_F(RunIndexTest, FindsEveryEntryThroughSealsMergesAndDeletes) {
  bool saw_merge = false;
  int max_level = 0;
  for (int t = 0; t < 300; ++t) {
    AddTransaction(1 + static_cast<int>(rng_() % 30));
    auto shape = index_->Describe();
    ASSERT_TRUE(shape.ok());
    saw_merge = saw_merge || shape->merging;
    max_level = std::max(max_level, shape->max_level);
    if (t % 10 == 0) ExpectAllFound();
  }
  ExpectAllFound();
  EXPECT_TRUE(saw_merge);
  EXPECT_GE(max_level, 3);  // ~4,500 entries: runs of 40, 120, 360, 1,080, 3,240
  // Once no merge is under way and nothing is left to delete, the runs hold each entry once, and
  // no level has `fanout` live runs.
  Drain();
  auto shape = index_->Describe();
  ASSERT_TRUE(shape.ok());
  ASSERT_FALSE(shape->merging);
  EXPECT_EQ(shape->retired_runs, 0);
  EXPECT_EQ(shape->entries, ModelSize());
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_,
                               "SELECT level, COUNT(*) FROM t_runs WHERE state = 1 GROUP BY "
                               "level",
                               -1, &q, nullptr),
            SQLITE_OK);
  while (sqlite3_step(q) == SQLITE_ROW) {
    EXPECT_LT(sqlite3_column_int64(q, 1), Small().fanout) << "level " << sqlite3_column_int(q, 0);
  }
  sqlite3_finalize(q);
  ExpectAllFound();
}

TEST_F(RunIndexTest, ResumesAMergeAfterAReopen) {
  // Stop while a merge is under way (a merge spans transactions with these options).
  bool merging = false;
  for (int t = 0; t < 500 && !merging; ++t) {
    AddTransaction(10);
    auto shape = index_->Describe();
    ASSERT_TRUE(shape.ok());
    merging = shape->merging && t > 40;
  }
  ASSERT_TRUE(merging);
  Close();
  Open();
  ExpectAllFound();
  GrowDrainAndCheck(200);  // the resumed merge wrote nothing twice
}

TEST_F(RunIndexTest, ARolledBackTransactionLeavesNothing) {
  // Tails of 40 filled 9 at a time are sealed at 45: after 31 transactions the tail holds 9, and
  // 35 more seal it in the transaction that rolls back, so the tail must be found again.
  for (int t = 0; t < 31; ++t) AddTransaction(9);
  AddTransaction(35, /*commit=*/false);
  ExpectAllFound();
  for (int t = 0; t < 31; ++t) AddTransaction(9);  // ends with a tail of 9
  ExpectAllFound();
  // The tail never held more than a transaction's worth beyond its size.
  EXPECT_LE(Scalar("SELECT MAX(n) FROM (SELECT SUM(length(data)) / 16 AS n FROM t_blocks i JOIN "
                   "t_runs r USING (run) WHERE r.level = 0 GROUP BY run)"),
            Small().tail_entries + 9);
  // One tail, whatever the rolled-back transaction did.
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM t_runs WHERE state = 0"), 1);
}

// A migration writes what an older store indexed otherwise as one run, in key order: it is found,
// and merged like any other once its level fills.
TEST_F(RunIndexTest, ARunWrittenWholeIsFoundAndMerged) {
  std::vector<std::pair<int64_t, int64_t>> old;
  for (int i = 1; i <= 1000; ++i) old.emplace_back((i * 7919) % 300 - 150, i);
  std::sort(old.begin(), old.end());
  Exec("BEGIN IMMEDIATE");
  auto run = index_->NewRun(static_cast<int64_t>(old.size()));
  ASSERT_TRUE(run.ok());
  for (const auto& [h, id] : old) {
    ASSERT_TRUE(index_->AddTo(*run, h, id).ok());
    model_[h].insert(id);
  }
  ASSERT_TRUE(index_->EndRun().ok());
  Exec("COMMIT");
  // In blocks of 240: the last one holds the rest.
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM t_blocks"), 5);
  next_id_ = 1000;
  ExpectAllFound();
  auto shape = index_->Describe();
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->live_runs, 1);
  EXPECT_EQ(shape->max_level, 3);  // 40 * 3^3 = 1,080 >= 1,000 > 40 * 3^2
  EXPECT_EQ(shape->entries, 1000);
  for (int t = 0; t < 300; ++t) AddTransaction(20);  // 6,000 more: level 3 fills
  ExpectAllFound();
  Drain();
  shape = index_->Describe();
  ASSERT_TRUE(shape.ok());
  EXPECT_GE(shape->max_level, 4);
  EXPECT_EQ(shape->entries, ModelSize());
}

// The lookups and the merge read through the primary key, never by scanning the table.
TEST_F(RunIndexTest, QueriesSeekThePrimaryKey) {
  const char* queries[] = {
      "SELECT data FROM t_blocks WHERE run IN (SELECT run FROM t_runs WHERE state = 0) "
      "UNION ALL "
      "SELECT data FROM t_blocks WHERE run IN (SELECT run FROM t_runs WHERE state = 1) AND "
      "first_hash = ?1 "
      "UNION ALL "
      "SELECT (SELECT data FROM t_blocks WHERE run = r.run AND first_hash < ?1 ORDER BY "
      "first_hash DESC, first_id DESC LIMIT 1) FROM t_runs AS r WHERE r.state = 1",
      "SELECT first_hash, first_id FROM t_blocks WHERE run = ?1 AND (first_hash, first_id) <= "
      "(?2, ?3) ORDER BY first_hash DESC, first_id DESC LIMIT 1",
      "SELECT data FROM t_blocks WHERE run = ?1 AND (first_hash, first_id) >= (?2, ?3) "
      "ORDER BY first_hash, first_id",
      "DELETE FROM t_blocks WHERE run = ?1 AND (first_hash, first_id) <= (?2, ?3)",
  };
  for (const char* sql : queries) {
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, ("EXPLAIN QUERY PLAN " + std::string(sql)).c_str(), -1, &q,
                                 nullptr),
              SQLITE_OK);
    std::string plan;
    while (sqlite3_step(q) == SQLITE_ROW) {
      plan += reinterpret_cast<const char*>(sqlite3_column_text(q, 3));
      plan += "\n";
    }
    sqlite3_finalize(q);
    EXPECT_NE(plan.find("SEARCH t_blocks USING PRIMARY KEY (run=?"), std::string::npos)
        << sql << "\n"
        << plan;
    EXPECT_EQ(plan.find("SCAN t_blocks"), std::string::npos) << plan;
  }
}

// A transaction's entries fill the tail's last block before another starts: a transaction of a
// few entries writes one block, however many transactions came before.
TEST_F(RunIndexTest, TheTailFillsItsLastBlock) {
  Close();
  RunIndexOptions o = Small();
  o.tail_entries = 1000;
  Open(o);
  for (int t = 0; t < 100; ++t) AddTransaction(5);  // 500 entries: blocks of 240, 240, 20
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM t_blocks"), 3);
  EXPECT_EQ(Scalar("SELECT SUM(length(data)) / 16 FROM t_blocks"), 500);
  ExpectAllFound();
  Close();
  Open(o);  // the last block is found again after a reopen, and filled on
  for (int t = 0; t < 100; ++t) AddTransaction(5);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM t_blocks"), 5);  // 1,000: sealed into sorted blocks
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM t_runs WHERE state = 1"), 1);
  ExpectAllFound();
}

// An index of the earlier layout (a row per entry in NAME_index) becomes blocks, each run's and
// the tail's, and reads and merges on as before.
TEST_F(RunIndexTest, RowsOfTheEarlierLayoutBecomeBlocks) {
  for (int t = 0; t < 30; ++t) AddTransaction(9);  // live runs and a tail
  // As the earlier layout had them: a row per entry.
  Exec(
      "CREATE TABLE t_index(run INTEGER NOT NULL, hash INTEGER NOT NULL, id INTEGER NOT NULL, "
      "PRIMARY KEY(run, hash, id)) WITHOUT ROWID");
  std::vector<std::tuple<int64_t, int64_t, int64_t>> rows;
  {
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, "SELECT run, data FROM t_blocks", -1, &q, nullptr),
              SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(q, 1));
      const int n = sqlite3_column_bytes(q, 1);
      for (int at = 0; at + 16 <= n; at += 16) {
        int64_t h, id;
        std::memcpy(&h, p + at, 8);
        std::memcpy(&id, p + at + 8, 8);
        rows.emplace_back(sqlite3_column_int64(q, 0), h, id);
      }
    }
    sqlite3_finalize(q);
  }
  ASSERT_EQ(static_cast<int64_t>(rows.size()), ModelSize() +
                                                   // merged runs not yet deleted hold copies
                                                   Scalar("SELECT COALESCE(SUM(length(data)), 0) "
                                                          "/ 16 FROM t_blocks JOIN t_runs USING "
                                                          "(run) WHERE state IN (2, 3)"));
  Exec("DELETE FROM t_blocks");
  for (const auto& [run, h, id] : rows) {
    Exec("INSERT INTO t_index VALUES(" + std::to_string(run) + ", " + std::to_string(h) + ", " +
         std::to_string(id) + ")");
  }
  Close();
  Open();
  Exec("BEGIN IMMEDIATE");
  ASSERT_TRUE(index_->MigrateRowsToBlocks().ok());
  Exec("COMMIT");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 't_index'"), 0);
  EXPECT_EQ(Scalar("SELECT SUM(length(data)) / 16 FROM t_blocks"),
            static_cast<int64_t>(rows.size()));
  ExpectAllFound();
  GrowDrainAndCheck(200);
}

}  // namespace
}  // namespace kuajing::storage
