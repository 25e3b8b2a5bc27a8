#include "storage/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>

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

TEST(SqliteStore, FailsCleanlyWhereItCannotWrite) {
  auto store = OpenSqliteStore("/proc/kuajing-cannot-be-here");
  EXPECT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kuajing::storage
