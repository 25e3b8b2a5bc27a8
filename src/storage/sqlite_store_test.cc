#include "storage/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/hash.h"
#include "storage/blob_codec.h"
#include "storage/run_index.h"
#include "storage/sqlite_stmt.h"
#include "test_util.h"

namespace kuajing::storage {
namespace {

namespace fs = std::filesystem;

// SQLite keeps no memory statistics in kuajing (ConfigureSqliteOnce, before the first open):
// counting took a mutex and four counters on every allocation of the projector.
TEST(SqliteStore, SqliteKeepsNoMemoryStatistics) {
  const kuajing::testing::ScopedTempDir temp("kj-store-memstatus-");
  auto store = OpenSqliteStore(temp.path().string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  CommitBatch b;
  b.message = MessageRow{"M-1", "CEB311", "4304961001", 1, true, std::string(5000, 'x')};
  b.changes.push_back(clearance::StateChange{"order", "k1", std::string(3000, 'v'), false});
  ASSERT_TRUE((*store)->Commit({&b}).ok());
  EXPECT_TRUE(ConfigureSqliteOnce()) << "SQLite was opened before the store configured it";
  EXPECT_EQ(sqlite3_memory_used(), 0) << "memory statistics are kept";
}

TEST(SqliteStore, CommitsAtomicallyAndReadsBack) {
  const kuajing::testing::ScopedTempDir temp("kj-store-");
  const fs::path& dir = temp.path();
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    CommitBatch b;
    b.message = MessageRow{"M-1", "CEB311", "4304961001", 1, true, "<raw/>"};
    b.receipts.push_back(StoredReceipt{"CEB312", "DOC-1", "120", "<r1/>", {"EBP", "EBC"}});
    b.receipts.push_back(StoredReceipt{"CEB312", "DOC-2", "-301008", "<r2/>", {"EBC"}});
    b.changes.push_back(clearance::StateChange{"order", "k1", "v1", false});
    b.ledger.push_back(
        clearance::QuotaEntry{"ID1", 2024, Decimal::FromUnits(100), "INV", "accepted", 1});
    b.ledger.push_back(
        clearance::QuotaEntry{"ID1", 2024, Decimal::FromUnits(-40), "INV", "returned", 2});
    ASSERT_TRUE((*store)->Commit({&b}).ok());
    CommitBatch erase;
    erase.message = MessageRow{"M-2", "CEB311", "4304961001", 2, true, "<raw2/>"};
    erase.changes.push_back(clearance::StateChange{"order", "k1", "", true});
    erase.changes.push_back(clearance::StateChange{"order", "k2", "v2", false});
    ASSERT_TRUE((*store)->Commit({&erase}).ok());
  }
  auto store = OpenSqliteStore(dir.string());  // reopened: everything is on disk
  ASSERT_TRUE(store.ok());
  auto m = (*store)->ReceiptsOfMessage("M-1");
  ASSERT_TRUE(m.ok() && m->has_value());
  ASSERT_EQ((*m)->size(), 2u);
  EXPECT_EQ((**m)[1].status, "-301008");
  auto none = (*store)->ReceiptsOfMessage("M-404");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto a = (*store)->ReceiptsAnswering("DOC-1");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].xml, "<r1/>");
  std::vector<std::string> rows;
  ASSERT_TRUE((*store)
                  ->LoadState(
                      [&](const clearance::StateChange& c) {
                        rows.push_back(c.key + "=" + c.value);
                        return Status::Ok();
                      },
                      {})
                  .ok());
  EXPECT_EQ(rows, std::vector<std::string>{"k2=v2"});
  EXPECT_EQ((*store)->LedgerSum("ID1", 2024)->ToString(), "60");
  EXPECT_EQ((*store)->LedgerSum("ID1", 2025)->ToString(), "0");
  EXPECT_EQ(*(*store)->MessageCount(), 2);
  // Each enterprise's feed holds what it may read, resumable by id.
  auto ebc = (*store)->ReceiptsFor("EBC", 0, 10);
  ASSERT_TRUE(ebc.ok());
  ASSERT_EQ(ebc->size(), 2u);
  EXPECT_LT((*ebc)[0].id, (*ebc)[1].id);
  EXPECT_EQ((*ebc)[0].audience, (std::vector<std::string>{"EBP", "EBC"}));
  EXPECT_EQ((*store)->ReceiptsFor("EBC", (*ebc)[0].id, 10)->size(), 1u);
  EXPECT_EQ((*store)->ReceiptsFor("EBP", 0, 10)->size(), 1u);
  EXPECT_EQ((*store)->ReceiptsFor("OTHER", 0, 10)->size(), 0u);
  EXPECT_EQ(*(*store)->LastReceiptId(), (*ebc)[1].id);
}

// Every enterprise a message's receipts name finds the message in its feed, however many they
// are, an enterprise named twice once.
TEST(SqliteStore, EveryEnterpriseAMessageNamesHasItInItsFeed) {
  const kuajing::testing::ScopedTempDir temp("kj-store-audience-");
  const fs::path& dir = temp.path();
  auto store = OpenSqliteStore(dir.string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (int n : {1, 7, 8, 9, 19}) {
    CommitBatch b;
    b.message = MessageRow{"M-" + std::to_string(n), "CEB311", "4304961001", n, true, "<raw/>"};
    StoredReceipt r{"CEB312", "DOC-" + std::to_string(n), "120", "<r/>", {}};
    for (int e = 0; e < n; ++e) r.audience.push_back("E" + std::to_string(e));
    r.audience.push_back("E0");  // named twice: one row
    b.receipts.push_back(r);
    ASSERT_TRUE((*store)->Commit({&b}).ok());
  }
  for (int e = 0; e < 20; ++e) {
    auto feed = (*store)->ReceiptsFor("E" + std::to_string(e), 0, 100);
    ASSERT_TRUE(feed.ok());
    std::vector<std::string> answered;
    for (const StoredReceipt& r : *feed) answered.push_back(r.answers_guid);
    std::vector<std::string> expected;
    for (int n : {1, 7, 8, 9, 19})
      if (e < n) expected.push_back("DOC-" + std::to_string(n));
    EXPECT_EQ(answered, expected) << "E" << e;
  }
}

// LoadState reads ahead of `sink` on a thread of its own (SinkStateRows): every wanted row
// comes in (kind, key) order on the calling thread; `wanted` is first asked about a kind only once
// `sink` has taken every row of the kinds before; and a `sink` that fails stops it, with its error,
// however many rows remain.
TEST(SqliteStore, LoadStateReadsAheadOnlyWithinAKind) {
  const kuajing::testing::ScopedTempDir temp("kj-store-ahead-");
  const fs::path& dir = temp.path();
  auto store = OpenSqliteStore(dir.string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::vector<std::string> kinds = {"a", "b", "c"};
  std::map<std::string, int> stored;  // rows per kind: several batches of 256 in "b"
  CommitBatch b;
  b.message = MessageRow{"M-1", "CEB311", "4304961001", 1, true, "<raw/>"};
  for (const std::string& kind : kinds) {
    const int n = kind == "b" ? 2000 : 300;
    for (int i = 0; i < n; ++i) {
      char key[16];
      std::snprintf(key, sizeof key, "%06d", i);
      b.changes.push_back(clearance::StateChange{kind, key, kind + key, false});
    }
    stored[kind] = n;
  }
  ASSERT_TRUE((*store)->Commit({&b}).ok());
  const auto kept = [&](const std::string& k) { return stored[k] - (stored[k] + 2) / 3; };
  const std::thread::id caller = std::this_thread::get_id();
  std::mutex mu;
  std::map<std::string, int> given;
  std::string last;
  int early = 0;
  auto sink = [&](const clearance::StateChange& c) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_LT(last, c.kind + "/" + c.key);
    EXPECT_EQ(c.value, c.kind + c.key);
    last = c.kind + "/" + c.key;
    // A slow sink: a reader that did not wait at the next kind would ask about it meanwhile.
    if (c.kind != "c") std::this_thread::sleep_for(std::chrono::microseconds(20));
    std::lock_guard<std::mutex> lock(mu);
    ++given[c.kind];
    return Status::Ok();
  };
  auto wanted = [&](std::string_view kind, std::string_view key) {
    std::lock_guard<std::mutex> lock(mu);
    for (const std::string& k : kinds) {
      if (k < kind && given[k] != kept(k)) ++early;  // an earlier kind not all restored yet
    }
    return std::stoi(std::string(key)) % 3 != 0;  // a third passed over
  };
  ASSERT_TRUE((*store)->LoadState(sink, wanted).ok());
  EXPECT_EQ(early, 0);
  for (const std::string& k : kinds) EXPECT_EQ(given[k], kept(k)) << k;
  // A failing sink: its error, at once.
  int calls = 0;
  Status st = (*store)->LoadState(
      [&](const clearance::StateChange&) {
        return ++calls == 10 ? Internal("the tenth row") : Status::Ok();
      },
      {});
  EXPECT_EQ(st.message(), "the tenth row");
  EXPECT_EQ(calls, 10);
}

// Rows changed by several batches of one commit (and twice in one batch) end as the last change
// left them; only that change is written (sqlite_store.cc, WriteAll).
TEST(SqliteStore, ARowChangedSeveralTimesInOneCommitEndsAsTheLastChangeLeftIt) {
  const kuajing::testing::ScopedTempDir temp("kj-store-rows-");
  const fs::path& dir = temp.path();
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    CommitBatch before;
    before.message = MessageRow{"M-0", "CEB621", "E", 1, true, "<raw0/>"};
    before.changes = {{"inventory", "stays-erased", "old", false},
                      {"inventory", "comes-back", "old", false}};
    ASSERT_TRUE((*store)->Commit({&before}).ok());
    CommitBatch a, b, c;
    a.message = MessageRow{"M-1", "CEB621", "E", 2, true, "<raw1/>"};
    a.changes = {{"inventory", "k", "first", false},
                 {"order", "k", "order-1", false},
                 {"inventory", "stays-erased", "", true},
                 {"inventory", "comes-back", "", true},
                 {"inventory", "new-then-erased", "new", false}};
    b.message = MessageRow{"M-2", "CEB311", "E", 3, true, "<raw2/>"};
    b.changes = {{"inventory", "k", "second", false},
                 {"inventory", "comes-back", "again", false},
                 {"inventory", "new-then-erased", "", true},
                 {"inventory", "k", "third", false}};
    c.message = MessageRow{"M-3", "CEB411", "E", 4, true, "<raw3/>"};
    c.changes = {{"payment", "k", "payment-1", false}};
    ASSERT_TRUE((*store)->Commit({&a, &b, &c}).ok());
  }
  auto store = OpenSqliteStore(dir.string());
  ASSERT_TRUE(store.ok());
  std::vector<std::string> rows;
  ASSERT_TRUE((*store)
                  ->LoadState(
                      [&](const clearance::StateChange& ch) {
                        rows.push_back(ch.kind + "/" + ch.key + "=" + ch.value);
                        return Status::Ok();
                      },
                      {})
                  .ok());
  EXPECT_EQ(rows, (std::vector<std::string>{"inventory/comes-back=again", "inventory/k=third",
                                            "order/k=order-1", "payment/k=payment-1"}));
  EXPECT_EQ((*store)->ReadState("inventory", "k")->value_or("-"), "third");
  EXPECT_FALSE((*store)->ReadState("inventory", "stays-erased")->has_value());
}

// The feed across many messages, in pages: every receipt an enterprise is named on, once, in id
// order, whatever the page size and wherever a page ends (mid-message too); none of others'.
std::vector<int64_t> FeedIds(Store& store, const std::string& who, int page) {
  std::vector<int64_t> ids;
  for (int64_t after = 0;;) {
    auto got = store.ReceiptsFor(who, after, page);
    if (!got.ok() || got->empty()) return ids;
    for (const auto& r : *got) ids.push_back(r.id);
    after = got->back().id;
  }
}

// Commits 40 messages of zero to six receipts each, `per_commit` messages to a transaction (the
// feed's index has a block per enterprise and transaction); returns each enterprise's receipt
// ids, and (in `named`) the enterprises each message's receipts name.
std::map<std::string, std::vector<int64_t>> CommitFeed(
    Store& store, size_t per_commit, std::map<int64_t, std::set<std::string>>* named = nullptr) {
  std::map<std::string, std::vector<int64_t>> expected;
  std::vector<CommitBatch> batches(40);
  int64_t id = 0;
  for (int m = 0; m < 40; ++m) {
    CommitBatch& b = batches[static_cast<size_t>(m)];
    b.message = MessageRow{"M" + std::to_string(m), "CEB621", "A", m, true, "<raw/>"};
    for (int k = 0; k < m % 7; ++k) {
      std::vector<std::string> audience = {"A"};
      if (k % 2 == 1) audience.push_back("B");
      if (m % 5 == 0) audience = {"C"};
      b.receipts.push_back(StoredReceipt{"CEB622", "D", "120", "<r/>", audience});
      ++id;
      for (const auto& who : audience) {
        expected[who].push_back(id);
        if (named) (*named)[m + 1].insert(who);  // messages are numbered from 1
      }
    }
  }
  for (size_t at = 0; at < batches.size(); at += per_commit) {
    std::vector<const CommitBatch*> group;
    for (size_t i = at; i < std::min(batches.size(), at + per_commit); ++i)
      group.push_back(&batches[i]);
    EXPECT_TRUE(store.Commit(group).ok());
  }
  return expected;
}

TEST(SqliteStore, FeedPagesThroughEveryReceiptOfAnEnterpriseInOrder) {
  // A message to a transaction, then several: pages that begin inside a block of the index.
  for (size_t per_commit : {1, 6, 40}) {
    const kuajing::testing::ScopedTempDir temp("kj-feed-");
    auto store = OpenSqliteStore(temp.path().string());
    ASSERT_TRUE(store.ok());
    auto expected = CommitFeed(**store, per_commit);
    for (const char* who : {"A", "B", "C", "D"}) {
      for (int page : {1, 2, 3, 100}) {
        EXPECT_EQ(FeedIds(**store, who, page), expected[who])
            << who << " page " << page << ", " << per_commit << " messages a transaction";
      }
    }
    EXPECT_GT(expected["B"].size(), 10u);
  }
}

std::string SqlText(const fs::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open(db_path.c_str(), &db) == SQLITE_OK) {
    sqlite3_exec(
        db, sql,
        [](void* o, int n, char** v, char**) {
          for (int i = 0; i < n; ++i)
            *static_cast<std::string*>(o) += (v[i] ? v[i] : "") + std::string(";");
          return 0;
        },
        &out, nullptr);
  }
  sqlite3_close(db);
  return out;
}

// An index block (run_index.h) holding `entries`, as an SQL blob literal.
std::string BlockLiteral(const std::vector<std::pair<int64_t, int64_t>>& entries) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "X'";
  for (unsigned char c : RunIndex::EncodeBlock(entries)) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out + "'";
}

// A store as kuajing wrote it before this layout: messages' raw bytes plain and without a format
// column, a row per receipt (plain XML) with two indexes, and the feed's index a row per receipt
// and enterprise (receipt_audience). Opening it migrates all three; what it reads is the same.
TEST(SqliteStore, MigratesAStoreOfTheEarlierLayouts) {
  const kuajing::testing::ScopedTempDir temp("kj-store-old-");
  const fs::path& dir = temp.path();
  fs::create_directories(dir);
  const fs::path db = dir / "kuajing.db";
  {
    std::string sql =
        "CREATE TABLE messages(seq INTEGER PRIMARY KEY, guid TEXT NOT NULL, type TEXT NOT NULL, "
        "sender TEXT NOT NULL, received_ms INTEGER NOT NULL, accepted INTEGER NOT NULL, raw BLOB "
        "NOT NULL);"
        "CREATE INDEX messages_guid ON messages(guid);"
        "CREATE TABLE receipts(id INTEGER PRIMARY KEY, message_seq INTEGER NOT NULL, type TEXT NOT "
        "NULL, answers_guid TEXT NOT NULL, status TEXT NOT NULL, audience TEXT NOT NULL, xml BLOB "
        "NOT NULL);"
        "CREATE INDEX receipts_answers ON receipts(answers_guid);"
        "CREATE INDEX receipts_message ON receipts(message_seq);"
        "CREATE TABLE receipt_audience(enterprise TEXT NOT NULL, receipt_id INTEGER NOT NULL, "
        "PRIMARY KEY(enterprise, receipt_id)) WITHOUT ROWID;"
        "CREATE TABLE state(kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, "
        "PRIMARY KEY(kind, key)) WITHOUT ROWID;"
        "INSERT INTO state VALUES('inventory', 'OLD', 'phase\t4\npre_no\tB1\n\nan older row "
        "of more than sixty-four bytes, stored as it was');";
    for (int m = 1; m <= 5; ++m) {
      const std::string ms = std::to_string(m), a = std::to_string(2 * m - 1),
                        b = std::to_string(2 * m);
      sql += "INSERT INTO messages VALUES(" + ms + ", 'M" + ms + "', 'CEB621', 'A', " + ms +
             ", 1, '<old " + ms + "/>');";
      sql += "INSERT INTO receipts VALUES(" + a + ", " + ms + ", 'CEB622', 'D" + ms +
             "', '120', 'A|B', '<r" + a + "/>');";
      sql += "INSERT INTO receipts VALUES(" + b + ", " + ms + ", 'CEB622', 'D" + ms +
             "', '2', 'A', '<r" + b + "/>');";
      sql += "INSERT INTO receipt_audience VALUES('A', " + a + "), ('B', " + a + "), ('A', " + b +
             ");";
    }
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(h);
  }
  std::string raw = "<?xml version=\"1.0\"?><ceb:CEB311Message>";
  for (int i = 0; i < 50; ++i) {
    raw += "<ceb:Order><ceb:orderNo>" + std::to_string(i) + "</ceb:orderNo></ceb:Order>";
  }
  raw += "</ceb:CEB311Message>";
  const std::string receipt = "<ceb:CEB312Message><ceb:OrderReturn><ceb:returnInfo>" +
                              std::string(300, 'y') + "</ceb:returnInfo></ceb:OrderReturn>";
  // A state row as the engine writes them (clearance/state_rows.h): fields, then the record.
  std::string state_row = "phase\t4\npre_no\tB20240611000000001\ninvt_no\t\nyear\t2024\n\n";
  for (int i = 0; i < 20; ++i) state_row += "\x01\x02item " + std::to_string(i) + "\x00\x05";
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(FeedIds(**store, "A", 3), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
    EXPECT_EQ(FeedIds(**store, "B", 3), (std::vector<int64_t>{1, 3, 5, 7, 9}));
    {  // another guid's receipt under D3's hash (as if two guids shared it): not D3's
      sqlite3* h = nullptr;
      ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
      // A block of its own in the tail (its blocks are numbered: this one far after the rest).
      const std::string sql =
          "INSERT INTO receipt_blocks VALUES((SELECT run FROM receipt_runs WHERE state = 0), "
          "1000, 0, " +
          BlockLiteral({{static_cast<int64_t>(Hash64("D3")), 1}}) + ")";
      ASSERT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
      sqlite3_close(h);
    }
    auto d3 = (*store)->ReceiptsAnswering("D3");
    ASSERT_TRUE(d3.ok());
    ASSERT_EQ(d3->size(), 2u);
    EXPECT_EQ((*d3)[0].id, 5);
    EXPECT_EQ((*d3)[1].xml, "<r6/>");
    EXPECT_EQ((*d3)[0].audience, (std::vector<std::string>{"A", "B"}));
    auto m2 = (*store)->ReceiptsOfMessage("M2");
    ASSERT_TRUE(m2.ok() && m2->has_value());
    ASSERT_EQ((*m2)->size(), 2u);
    EXPECT_EQ((**m2)[0].id, 3);
    EXPECT_EQ((**m2)[1].status, "2");
    EXPECT_EQ(*(*store)->LastReceiptId(), 10);
    // New commits number on, and are stored in the new layout.
    CommitBatch b;
    b.message = MessageRow{"NEW", "CEB311", "A", 9, true, raw};
    b.receipts.push_back(StoredReceipt{"CEB312", "DOC-NEW", "120", receipt, {"A"}});
    b.receipts.push_back(StoredReceipt{"CEB312", "DOC-NEW", "2", "<short/>", {"B"}});
    b.changes.push_back(clearance::StateChange{"inventory", "NEW", state_row, false});
    b.changes.push_back(clearance::StateChange{"link", "SHORT", "NEW", false});
    ASSERT_TRUE((*store)->Commit({&b}).ok());
    EXPECT_EQ(*(*store)->LastReceiptId(), 12);
  }
  EXPECT_EQ(SqlText(db,
                    "SELECT name FROM sqlite_master WHERE name IN ('receipts', "
                    "'receipt_audience', 'message_audience', 'receipts_answers', "
                    "'receipts_message')"),
            "");
  EXPECT_EQ(SqlText(db, "SELECT guid, raw_format FROM messages WHERE seq IN (1, 6)"),
            "M1;0;NEW;3;");
  EXPECT_EQ(SqlText(db,
                    "SELECT message_seq, first_id, count, format FROM receipt_groups WHERE "
                    "message_seq IN (1, 6)"),
            "1;1;2;0;6;11;2;3;");
  EXPECT_LT(std::stoul(SqlText(db, "SELECT length(raw) FROM messages WHERE seq = 6")) * 4,
            raw.size());
  // State rows: the older one stays plain, a new one is compressed, a short one is not.
  EXPECT_EQ(SqlText(db, "SELECT key, format FROM state ORDER BY key"), "NEW;2;OLD;0;SHORT;0;");
  EXPECT_LT(std::stoul(SqlText(db, "SELECT length(value) FROM state WHERE key = 'NEW'")) * 2,
            state_row.size());
  auto store = OpenSqliteStore(dir.string());
  ASSERT_TRUE(store.ok());
  std::vector<std::string> raws;
  std::vector<int64_t> ids;
  ASSERT_TRUE((*store)
                  ->ForEachMessage(100,
                                   [&](const MessageRow& m, const std::vector<StoredReceipt>& rs) {
                                     raws.push_back(m.raw);
                                     for (const auto& r : rs) ids.push_back(r.id);
                                     return Status::Ok();
                                   })
                  .ok());
  ASSERT_EQ(raws.size(), 6u);
  EXPECT_EQ(raws[0], "<old 1/>");
  EXPECT_EQ(raws[5], raw);
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  auto answering = (*store)->ReceiptsAnswering("DOC-NEW");
  ASSERT_TRUE(answering.ok());
  ASSERT_EQ(answering->size(), 2u);
  EXPECT_EQ((*answering)[0].xml, receipt);
  EXPECT_EQ((*answering)[1].xml, "<short/>");
  EXPECT_EQ(FeedIds(**store, "B", 2), (std::vector<int64_t>{1, 3, 5, 7, 9, 12}));
  std::map<std::string, std::string> state;
  ASSERT_TRUE((*store)
                  ->LoadState(
                      [&](const clearance::StateChange& c) {
                        state[c.key] = c.value;
                        return Status::Ok();
                      },
                      {})
                  .ok());
  EXPECT_EQ(state.size(), 3u);
  EXPECT_EQ(state["NEW"], state_row);
  EXPECT_EQ(state["SHORT"], "NEW");
  EXPECT_EQ(state["OLD"],
            "phase\t4\npre_no\tB1\n\nan older row of more than sixty-four bytes, stored as it was");
  auto one = (*store)->ReadState("inventory", "NEW");
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ(**one, state_row);
  // Damaged receipts are an error, not other receipts.
  SqlText(db, "UPDATE receipt_groups SET data = substr(data, 1, 30) WHERE message_seq = 6");
  auto damaged = (*store)->ReceiptsAnswering("DOC-NEW");
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), StatusCode::kInternal);
  SqlText(db, "UPDATE state SET value = substr(value, 1, 20) WHERE key = 'NEW'");
  auto damaged_row = (*store)->ReadState("inventory", "NEW");
  ASSERT_FALSE(damaged_row.ok());
  EXPECT_EQ(damaged_row.status().code(), StatusCode::kInternal);
  std::vector<std::string> loaded;
  auto load = [&](const clearance::StateChange& c) {
    loaded.push_back(c.key);
    return Status::Ok();
  };
  EXPECT_FALSE((*store)->LoadState(load, {}).ok());
  // A row not wanted is not unpacked: the damaged one passed over, the others read.
  loaded.clear();
  std::vector<std::string> asked;
  ASSERT_TRUE((*store)
                  ->LoadState(load,
                              [&](std::string_view kind, std::string_view key) {
                                asked.push_back(std::string(kind) + "/" + std::string(key));
                                return key != "NEW";
                              })
                  .ok());
  EXPECT_EQ(loaded, (std::vector<std::string>{"OLD", "SHORT"}));
  EXPECT_EQ(asked, (std::vector<std::string>{"inventory/NEW", "inventory/OLD", "link/SHORT"}));
}

// Rows packed by an earlier build with format 1's dictionary (blob_codec.h) read as they did,
// beside the rows the store packs now (format 3).
TEST(SqliteStore, ReadsRowsPackedWithTheDictionaryOfFormatOne) {
  const kuajing::testing::ScopedTempDir temp("kj-store-v1-");
  const fs::path& dir = temp.path();
  fs::create_directories(dir);
  std::string raw = "<?xml version=\"1.0\"?><ceb:CEB311Message>";
  for (int i = 0; i < 20; ++i) raw += "<ceb:Order>HYG" + std::to_string(i) + "</ceb:Order>";
  raw += "</ceb:CEB311Message>";
  const std::string receipt =
      "<ceb:CEB312Message>" + std::string(200, 'r') + "</ceb:CEB312Message>";
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok());
    for (const char* guid : {"OLD", "NOW"}) {
      CommitBatch b;
      b.message = MessageRow{guid, "CEB311", "A", 9, true, raw};
      b.receipts.push_back(
          StoredReceipt{"CEB312", std::string("DOC-") + guid, "2", receipt, {"A"}});
      ASSERT_TRUE((*store)->Commit({&b}).ok());
    }
  }
  const fs::path db_path = dir / "kuajing.db";
  EXPECT_EQ(SqlText(db_path, "SELECT raw_format FROM messages"), "3;3;");
  {
    // Message OLD's raw bytes and receipt group repacked as the build before wrote them.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    BlobCodec codec;
    const std::pair<const char*, const char*> blobs[] = {
        {"SELECT raw FROM messages WHERE guid = 'OLD'",
         "UPDATE messages SET raw = ?, raw_format = 1 WHERE guid = 'OLD'"},
        {"SELECT data FROM receipt_groups WHERE message_seq = 1",
         "UPDATE receipt_groups SET data = ?, format = 1 WHERE message_seq = 1"}};
    for (const auto& [select, update] : blobs) {
      sqlite3_stmt* read = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db, select, -1, &read, nullptr), SQLITE_OK);
      ASSERT_EQ(sqlite3_step(read), SQLITE_ROW);
      const std::string stored(static_cast<const char*>(sqlite3_column_blob(read, 0)),
                               static_cast<size_t>(sqlite3_column_bytes(read, 0)));
      sqlite3_finalize(read);
      auto plain = codec.Unpack(BlobFormat::kZstdV2, stored);
      ASSERT_TRUE(plain.ok()) << plain.status().ToString();
      const auto [old, format] = codec.Pack(*plain, BlobFormat::kZstdV1);
      ASSERT_EQ(format, BlobFormat::kZstdV1);
      sqlite3_stmt* write = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db, update, -1, &write, nullptr), SQLITE_OK);
      sqlite3_bind_blob(write, 1, old.data(), static_cast<int>(old.size()), SQLITE_TRANSIENT);
      ASSERT_EQ(sqlite3_step(write), SQLITE_DONE);
      sqlite3_finalize(write);
    }
    sqlite3_close(db);
  }
  EXPECT_EQ(SqlText(db_path, "SELECT raw_format FROM messages ORDER BY seq"), "1;3;");
  EXPECT_EQ(SqlText(db_path, "SELECT format FROM receipt_groups ORDER BY message_seq"), "1;3;");
  auto store = OpenSqliteStore(dir.string());
  ASSERT_TRUE(store.ok());
  int messages = 0;
  ASSERT_TRUE((*store)
                  ->ForEachMessage(INT64_MAX,
                                   [&](const MessageRow& m, const std::vector<StoredReceipt>& r) {
                                     ++messages;
                                     EXPECT_EQ(m.raw, raw) << m.guid;
                                     EXPECT_EQ(r.size(), 1u) << m.guid;
                                     return Status::Ok();
                                   })
                  .ok());
  EXPECT_EQ(messages, 2);
  for (const char* guid : {"OLD", "NOW"}) {
    auto receipts = (*store)->ReceiptsOfMessage(guid);
    ASSERT_TRUE(receipts.ok() && receipts->has_value()) << guid;
    ASSERT_EQ((*receipts)->size(), 1u);
    EXPECT_EQ((**receipts)[0].xml, receipt) << guid;
  }
}

// Message i of the migration tests: receipts answering DOCi and LIST, and a quota ledger row of
// buyer B(i % 3) in 2024.
void CommitNumbered(Store& store, int i) {
  CommitBatch b;
  b.message = MessageRow{"M" + std::to_string(i), "CEB311", "A", i, true, "<m/>"};
  b.receipts.push_back(StoredReceipt{
      "CEB312", "DOC" + std::to_string(i), "120", "<r" + std::to_string(i) + "/>", {"A"}});
  b.receipts.push_back(
      StoredReceipt{"CEB622", "LIST", "800", "<l" + std::to_string(i) + "/>", {"A"}});
  b.ledger.push_back(
      clearance::QuotaEntry{"B" + std::to_string(i % 3), 2024, Decimal{100000 * i}, "I", "r", i});
  ASSERT_TRUE(store.Commit({&b}).ok());
}

// After a migration of messages 1-5 and message 6: every receipt is found by the guid it answers.
void ExpectNumberedReceipts(Store& store) {
  auto list = store.ReceiptsAnswering("LIST");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ((*list)[i].xml, "<l" + std::to_string(i + 1) + "/>");
  auto doc3 = store.ReceiptsAnswering("DOC3");
  ASSERT_TRUE(doc3.ok());
  ASSERT_EQ(doc3->size(), 1u);
  EXPECT_EQ((*doc3)[0].xml, "<r3/>");
}

// A store from before the receipt index was a merge tree (receipt_index.h) had one row per
// receipt in receipt_answers: opened, that table becomes a run, and every receipt is found by the
// guid it answers as before, the new ones too.
TEST(SqliteStore, TheOldReceiptIndexIsMigrated) {
  const kuajing::testing::ScopedTempDir temp("kj-store-answers-");
  const fs::path& dir = temp.path();
  const fs::path db = dir / "kuajing.db";
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok());
    for (int i = 1; i <= 5; ++i) CommitNumbered(**store, i);
  }
  // As the older layout had it: a row per receipt, keyed by (hash, id). Message i's group holds
  // receipts 2i - 1 (DOCi) and 2i (LIST).
  std::string older =
      "CREATE TABLE receipt_answers(answers_hash INTEGER NOT NULL, id INTEGER NOT NULL, "
      "PRIMARY KEY(answers_hash, id)) WITHOUT ROWID; DELETE FROM receipt_blocks; DELETE FROM "
      "receipt_runs;";
  const std::string list = std::to_string(static_cast<int64_t>(Hash64("LIST")));
  for (int i = 1; i <= 5; ++i) {
    const std::string doc = std::to_string(static_cast<int64_t>(Hash64("DOC" + std::to_string(i))));
    older += "INSERT INTO receipt_answers VALUES(" + doc + ", " + std::to_string(2 * i - 1) +
             "), (" + list + ", " + std::to_string(2 * i - 1) + "), (" + list + ", " +
             std::to_string(2 * i) + ");";
  }
  SqlText(db, older.c_str());
  ASSERT_EQ(SqlText(db, "SELECT COUNT(*) FROM receipt_answers"), "15;");
  ASSERT_EQ(SqlText(db, "SELECT COUNT(*) FROM receipt_blocks"), "0;");
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    CommitNumbered(**store, 6);
    ExpectNumberedReceipts(**store);
  }
  EXPECT_EQ(SqlText(db, "SELECT name FROM sqlite_master WHERE name = 'receipt_answers'"), "");
  // 15 copied, 2 new
  EXPECT_EQ(SqlText(db, "SELECT SUM(length(data)) / 16 FROM receipt_blocks"), "17;");
}

// A store of layout 2 kept the indexes' entries a row each (receipt_index, quota_index): opened,
// they become blocks, and every receipt and quota sum is found as before.
TEST(SqliteStore, IndexRowsOfLayoutTwoBecomeBlocks) {
  const kuajing::testing::ScopedTempDir temp("kj-store-rows-");
  const fs::path& dir = temp.path();
  const fs::path db = dir / "kuajing.db";
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok());
    for (int i = 1; i <= 5; ++i) CommitNumbered(**store, i);
  }
  // As layout 2 had them: the blocks' entries a row each.
  for (const std::string name : {"receipt", "quota"}) {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    std::string rows = "CREATE TABLE " + name +
                       "_index(run INTEGER NOT NULL, hash INTEGER NOT NULL, id INTEGER NOT NULL, "
                       "PRIMARY KEY(run, hash, id)) WITHOUT ROWID;";
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(h, ("SELECT run, data FROM " + name + "_blocks").c_str(), -1, &q,
                                 nullptr),
              SQLITE_OK);
    int entries = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(q, 1));
      for (int at = 0; at + 16 <= sqlite3_column_bytes(q, 1); at += 16, ++entries) {
        int64_t hash, id;
        std::memcpy(&hash, p + at, 8);
        std::memcpy(&id, p + at + 8, 8);
        rows += "INSERT INTO " + name + "_index VALUES(" +
                std::to_string(sqlite3_column_int64(q, 0)) + ", " + std::to_string(hash) + ", " +
                std::to_string(id) + ");";
      }
    }
    sqlite3_finalize(q);
    EXPECT_EQ(entries, name == "receipt" ? 10 : 5);
    rows += "DELETE FROM " + name + "_blocks; PRAGMA user_version = 2;";
    ASSERT_EQ(sqlite3_exec(h, rows.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(h);
  }
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    CommitNumbered(**store, 6);
    ExpectNumberedReceipts(**store);
    auto b0 = (*store)->LedgerSum("B0", 2024);  // 3 and 6
    ASSERT_TRUE(b0.ok());
    EXPECT_EQ(b0->e5, 900000);
  }
  EXPECT_EQ(SqlText(db, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%_index'"), "0;");
  EXPECT_EQ(SqlText(db, "SELECT SUM(length(data)) / 16 FROM receipt_blocks"), "12;");
  EXPECT_EQ(SqlText(db, "PRAGMA user_version"), "4;");
}

// The store's layout is stamped in the file: a fresh store gets this build's, an unstamped one
// (written before the stamp) is read and stamped, and a later layout is refused unread.
TEST(SqliteStore, RefusesAStoreOfANewerLayout) {
  const kuajing::testing::ScopedTempDir temp("kj-store-layout-");
  const fs::path& dir = temp.path();
  const fs::path db = dir / "kuajing.db";
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok());
    CommitBatch b;
    b.message = MessageRow{"L1", "CEB621", "A", 1, true, "<m/>"};
    b.changes.push_back(clearance::StateChange{"meta", "seq", "7", false});
    ASSERT_TRUE((*store)->Commit({&b}).ok());
  }
  EXPECT_EQ(SqlText(db, "PRAGMA user_version"), "4;");
  SqlText(db, "PRAGMA user_version = 5");
  auto newer = OpenSqliteStore(dir.string());
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("layout 5, written by a newer kuajing"),
            std::string::npos)
      << newer.status().message();
  EXPECT_EQ(SqlText(db, "PRAGMA user_version"), "5;");  // left as it was
  SqlText(db, "PRAGMA user_version = 0");
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto row = (*store)->ReadState("meta", "seq");
    ASSERT_TRUE(row.ok() && row->has_value());
    EXPECT_EQ(**row, "7");
  }
  EXPECT_EQ(SqlText(db, "PRAGMA user_version"), "4;");
}

// Stores of layouts 0-3 kept the feed's index a row per enterprise and message
// (message_audience): opening one rewrites the rows as blocks, and the feed reads the same.
TEST(SqliteStore, TheFeedsRowsOfLayoutThreeBecomeBlocks) {
  const kuajing::testing::ScopedTempDir temp("kj-feed-old-");
  const fs::path db = temp.path() / "kuajing.db";
  std::map<std::string, std::vector<int64_t>> expected;
  std::map<int64_t, std::set<std::string>> named;
  {
    auto store = OpenSqliteStore(temp.path().string());
    ASSERT_TRUE(store.ok());
    expected = CommitFeed(**store, 6, &named);
  }
  std::string sql =
      "CREATE TABLE message_audience(enterprise TEXT NOT NULL, message_seq INTEGER NOT NULL, "
      "PRIMARY KEY(enterprise, message_seq)) WITHOUT ROWID; DELETE FROM audience_blocks; "
      "PRAGMA user_version = 3;";
  for (const auto& [seq, who] : named) {
    for (const std::string& e : who)
      sql += "INSERT INTO message_audience VALUES('" + e + "', " + std::to_string(seq) + ");";
  }
  // An enterprise named by 2,500 messages (none with receipts here): three blocks.
  sql +=
      "WITH RECURSIVE n(s) AS (SELECT 1000 UNION ALL SELECT s + 1 FROM n WHERE s < 3499) "
      "INSERT INTO message_audience SELECT 'Z', s FROM n;";
  SqlText(db, sql.c_str());
  ASSERT_EQ(SqlText(db, "SELECT COUNT(*) FROM audience_blocks"), "0;");
  {
    auto store = OpenSqliteStore(temp.path().string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    // One block per enterprise for A, B and C; Z's 2,500 messages in blocks of at most 1,024.
    EXPECT_EQ(SqlText(db, "SELECT COUNT(*) FROM audience_blocks WHERE enterprise != 'Z'"), "3;");
    EXPECT_EQ(SqlText(db,
                      "SELECT group_concat(first_seq) FROM audience_blocks WHERE "
                      "enterprise = 'Z' ORDER BY first_seq"),
              "1000,2024,3048;");
    EXPECT_TRUE(FeedIds(**store, "Z", 10).empty());
    for (const char* who : {"A", "B", "C"}) {
      for (int page : {1, 3, 100}) EXPECT_EQ(FeedIds(**store, who, page), expected[who]) << who;
    }
    // New messages after the migrated ones: blocks of several messages follow blocks of one.
    CommitBatch b;
    b.message = MessageRow{"M-new", "CEB621", "A", 99, true, "<raw/>"};
    b.receipts.push_back(StoredReceipt{"CEB622", "D", "120", "<r/>", {"C"}});
    ASSERT_TRUE((*store)->Commit({&b}).ok());
    int64_t last_id = 0;
    for (const auto& [who, ids] : expected) last_id = std::max(last_id, ids.back());
    std::vector<int64_t> c = expected["C"];
    c.push_back(last_id + 1);
    EXPECT_EQ(FeedIds(**store, "C", 2), c);
  }
  EXPECT_EQ(SqlText(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'message_audience'"),
            "0;");
  EXPECT_EQ(SqlText(db, "PRAGMA user_version"), "4;");
}

// The quota ledger's (buyer_id, year) index was a B-tree on the table until the hash indexes were
// runs: opened, the ledger is indexed as one run and the old index dropped; sums are as before.
TEST(SqliteStore, TheOldQuotaIndexIsMigrated) {
  const kuajing::testing::ScopedTempDir temp("kj-store-quota-");
  const fs::path& dir = temp.path();
  const fs::path db = dir / "kuajing.db";
  std::map<std::pair<std::string, int>, int64_t> want;  // e5
  auto commit = [&](Store& store, int i) {
    CommitBatch b;
    b.message = MessageRow{"Q" + std::to_string(i), "CEB621", "A", i, true, "<m/>"};
    for (int k = 0; k < 3; ++k) {
      const std::string buyer = "B" + std::to_string((i + k) % 4);
      const int year = 2023 + (i + k) % 2;
      const int64_t units = 10 * i + k - (k == 2 ? 25 : 0);
      b.ledger.push_back(clearance::QuotaEntry{buyer, year, Decimal::FromUnits(units),
                                               "INV" + std::to_string(i), "accepted", i});
      want[{buyer, year}] += Decimal::FromUnits(units).e5;
    }
    ASSERT_TRUE(store.Commit({&b}).ok());
  };
  auto check = [&](Store& store) {
    for (const auto& [key, e5] : want) {
      auto sum = store.LedgerSum(key.first, key.second);
      ASSERT_TRUE(sum.ok()) << sum.status().ToString();
      EXPECT_EQ(sum->e5, e5) << key.first << " " << key.second;
    }
    auto none = store.LedgerSum("B1", 2025);
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(none->e5, 0);
  };
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok());
    for (int i = 1; i <= 9; ++i) commit(**store, i);
    check(**store);
  }
  {  // as an older store had it
    SqlText(db,
            "DELETE FROM quota_blocks; DELETE FROM quota_runs; CREATE INDEX quota_buyer ON "
            "quota_ledger(buyer_id, year);");
    ASSERT_EQ(SqlText(db, "SELECT COUNT(*) FROM quota_blocks"), "0;");
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    check(**store);
    commit(**store, 10);
    check(**store);
    // Another buyer's row of the year under B1/2024's hash (as if two keys shared it) is not
    // counted.
    const std::string stray =
        SqlText(db, "SELECT MIN(id) FROM quota_ledger WHERE buyer_id = 'B3' AND year = 2024");
    SqlText(db, ("INSERT INTO quota_blocks VALUES((SELECT run FROM quota_runs WHERE state = 0), "
                 "1000, 0, " +
                 BlockLiteral({{static_cast<int64_t>(Hash64("B1", 2024)),
                                std::stoll(stray.substr(0, stray.size() - 1))}}) +
                 ")")
                    .c_str());
    check(**store);
  }
  EXPECT_EQ(SqlText(db, "SELECT name FROM sqlite_master WHERE name = 'quota_buyer'"), "");
  // 27 indexed, 3 new, 1 stray
  EXPECT_EQ(SqlText(db, "SELECT SUM(length(data)) / 16 FROM quota_blocks"), "31;");
}

TEST(SqliteStore, FailsCleanlyWhereItCannotWrite) {
  auto store = OpenSqliteStore("/proc/kuajing-cannot-be-here");
  EXPECT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kuajing::storage
