#include "storage/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>

namespace kuajing::storage {
namespace {

namespace fs = std::filesystem;

TEST(SqliteStore, CommitsAtomicallyAndReadsBack) {
  fs::path dir = fs::temp_directory_path() / ("kj-store-" + std::to_string(::getpid()));
  fs::remove_all(dir);
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
                  ->LoadState([&](const clearance::StateChange& c) {
                    rows.push_back(c.key + "=" + c.value);
                    return Status::Ok();
                  })
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
  fs::remove_all(dir);
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

TEST(SqliteStore, FeedPagesThroughEveryReceiptOfAnEnterpriseInOrder) {
  fs::path dir = fs::temp_directory_path() / ("kj-feed-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = OpenSqliteStore(dir.string());
  ASSERT_TRUE(store.ok());
  std::map<std::string, std::vector<int64_t>> expected;
  int64_t id = 0;
  for (int m = 0; m < 40; ++m) {
    CommitBatch b;
    b.message = MessageRow{"M" + std::to_string(m), "CEB621", "A", m, true, "<raw/>"};
    for (int k = 0; k < m % 7; ++k) {
      std::vector<std::string> audience = {"A"};
      if (k % 2 == 1) audience.push_back("B");
      if (m % 5 == 0) audience = {"C"};
      b.receipts.push_back(StoredReceipt{"CEB622", "D", "120", "<r/>", audience});
      ++id;
      for (const auto& who : audience) expected[who].push_back(id);
    }
    ASSERT_TRUE((*store)->Commit({&b}).ok());
  }
  for (const char* who : {"A", "B", "C", "D"}) {
    for (int page : {1, 2, 3, 100}) {
      EXPECT_EQ(FeedIds(**store, who, page), expected[who]) << who << " page " << page;
    }
  }
  EXPECT_GT(expected["B"].size(), 10u);
  fs::remove_all(dir);
}

// A store written before the feed's index was per message (a receipt_audience row per receipt
// and enterprise) is migrated on open: the same feed.
TEST(SqliteStore, MigratesTheOldFeedIndex) {
  fs::path dir = fs::temp_directory_path() / ("kj-feedmig-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::vector<int64_t> before_a, before_b;
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok());
    for (int m = 0; m < 5; ++m) {
      CommitBatch b;
      b.message = MessageRow{"M" + std::to_string(m), "CEB621", "A", m, true, "<raw/>"};
      b.receipts.push_back(StoredReceipt{"CEB622", "D", "120", "<r/>", {"A", "B"}});
      b.receipts.push_back(StoredReceipt{"CEB622", "D", "120", "<r/>", {"A"}});
      ASSERT_TRUE((*store)->Commit({&b}).ok());
    }
    before_a = FeedIds(**store, "A", 3);
    before_b = FeedIds(**store, "B", 3);
  }
  {  // make it look like an old store
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "kuajing.db").c_str(), &db), SQLITE_OK);
    const char* sql =
        "CREATE TABLE receipt_audience(enterprise TEXT NOT NULL, receipt_id INTEGER NOT NULL, "
        "PRIMARY KEY(enterprise, receipt_id)) WITHOUT ROWID;"
        "INSERT INTO receipt_audience SELECT 'A', id FROM receipts;"
        "INSERT INTO receipt_audience SELECT 'B', id FROM receipts WHERE audience = 'A|B';"
        "DELETE FROM message_audience;";
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = OpenSqliteStore(dir.string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(FeedIds(**store, "A", 3), before_a);
  EXPECT_EQ(FeedIds(**store, "B", 3), before_b);
  EXPECT_EQ(before_a.size(), 10u);
  EXPECT_EQ(before_b.size(), 5u);
  fs::remove_all(dir);
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

TEST(SqliteStore, KeepsMessagesAndReceiptsCompressedAndReadsOldPlainRows) {
  fs::path dir = fs::temp_directory_path() / ("kj-store-blobs-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {  // a store as kuajing wrote it before blobs were compressed: no format columns
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "kuajing.db").c_str(), &db), SQLITE_OK);
    const char* sql =
        "CREATE TABLE messages(seq INTEGER PRIMARY KEY, guid TEXT NOT NULL, type TEXT NOT NULL, "
        "sender TEXT NOT NULL, received_ms INTEGER NOT NULL, accepted INTEGER NOT NULL, raw BLOB "
        "NOT NULL);"
        "CREATE TABLE receipts(id INTEGER PRIMARY KEY, message_seq INTEGER NOT NULL, type TEXT NOT "
        "NULL, answers_guid TEXT NOT NULL, status TEXT NOT NULL, audience TEXT NOT NULL, xml BLOB "
        "NOT NULL);"
        "INSERT INTO messages VALUES(1, 'OLD', 'CEB311', 'A', 1, 1, '<old message, plain/>');"
        "INSERT INTO receipts VALUES(1, 1, 'CEB312', 'DOC-OLD', '120', 'A', '<old receipt, "
        "plain, long enough to have been compressed had it been written today/>');";
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  std::string raw = "<?xml version=\"1.0\"?><ceb:CEB311Message>";
  for (int i = 0; i < 50; ++i)
    raw += "<ceb:Order><ceb:orderNo>" + std::to_string(i) + "</ceb:orderNo></ceb:Order>";
  raw += "</ceb:CEB311Message>";
  const std::string receipt = "<ceb:CEB312Message><ceb:OrderReturn><ceb:returnInfo>" +
                              std::string(300, 'y') + "</ceb:returnInfo></ceb:OrderReturn>";
  {
    auto store = OpenSqliteStore(dir.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    CommitBatch b;
    b.message = MessageRow{"NEW", "CEB311", "A", 2, true, raw};
    b.receipts.push_back(StoredReceipt{"CEB312", "DOC-NEW", "120", receipt, {"A"}});
    b.receipts.push_back(StoredReceipt{"CEB312", "DOC-NEW", "2", "<short/>", {"A"}});
    ASSERT_TRUE((*store)->Commit({&b}).ok());
  }
  // The new rows are stored compressed, the old ones stay as they were.
  const fs::path db = dir / "kuajing.db";
  EXPECT_EQ(SqlText(db, "SELECT guid, raw_format FROM messages ORDER BY seq"), "OLD;0;NEW;1;");
  EXPECT_EQ(SqlText(db, "SELECT xml_format FROM receipts ORDER BY id"), "0;1;0;");
  EXPECT_LT(std::stoul(SqlText(db, "SELECT length(raw) FROM messages WHERE guid = 'NEW'")) * 4,
            raw.size());
  EXPECT_LT(std::stoul(SqlText(db, "SELECT length(xml) FROM receipts WHERE id = 2")) * 2,
            receipt.size());
  auto store = OpenSqliteStore(dir.string());
  ASSERT_TRUE(store.ok());
  std::vector<std::string> raws;
  std::vector<std::string> xmls;
  ASSERT_TRUE((*store)
                  ->ForEachMessage(100,
                                   [&](const MessageRow& m, const std::vector<StoredReceipt>& rs) {
                                     raws.push_back(m.raw);
                                     for (const auto& r : rs) xmls.push_back(r.xml);
                                     return Status::Ok();
                                   })
                  .ok());
  EXPECT_EQ(raws, (std::vector<std::string>{"<old message, plain/>", raw}));
  ASSERT_EQ(xmls.size(), 3u);
  EXPECT_EQ(xmls[1], receipt);
  EXPECT_EQ(xmls[2], "<short/>");
  auto answering = (*store)->ReceiptsAnswering("DOC-NEW");
  ASSERT_TRUE(answering.ok());
  ASSERT_EQ(answering->size(), 2u);
  EXPECT_EQ((*answering)[0].xml, receipt);
  auto feed = (*store)->ReceiptsFor("A", 0, 10);  // the old row had no feed index: not in it
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->size(), 2u);
  EXPECT_EQ((*feed)[0].xml, receipt);
  // A damaged compressed receipt is an error, not a different receipt.
  SqlText(db, "UPDATE receipts SET xml = substr(xml, 1, 30) WHERE xml_format = 1");
  auto damaged = (*store)->ReceiptsAnswering("DOC-NEW");
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), StatusCode::kInternal);
  fs::remove_all(dir);
}

TEST(SqliteStore, FailsCleanlyWhereItCannotWrite) {
  auto store = OpenSqliteStore("/proc/kuajing-cannot-be-here");
  EXPECT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kuajing::storage
