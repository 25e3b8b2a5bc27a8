#include "storage/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "clearance/receipts.h"
#include "codec/codec.h"
#include "storage/journaled_store.h"
#include "test_util.h"

namespace kuajing::storage {
namespace {

namespace fs = std::filesystem;

// A CEB312 receipt for order `n`, as the platform leaves it on the writer: its record packed.
StoredReceipt PackedReceipt(int n, model::OrderReturn* record = nullptr) {
  model::OrderReturn r;
  r.guid = "ORDER-GUID-" + std::to_string(n);
  r.ebpCode = "4304961001";
  r.ebcCode = "4304962001";
  r.orderNo = "O&<" + std::to_string(n) + ">";  // escaped in the XML
  r.returnStatus = "120";
  r.returnTime = "20240611100000" + std::to_string(n % 10) + "00";
  r.returnInfo = "订单入库";
  if (record) *record = r;
  StoredReceipt s;
  s.type = "CEB312";
  s.answers_guid = r.guid;
  s.status = r.returnStatus;
  codec::AppendPacked(s.packed, model::Record(r));
  s.audience = {"4304961001"};
  return s;
}

std::string ExpectedXml(int n) {
  model::OrderReturn r;
  PackedReceipt(n, &r);
  return clearance::ReceiptMessageXml(model::MessageType::kCEB312, r.guid, "120", r);
}

TEST(StoredReceipt, APackedReceiptIsWrittenAsThePlatformWritesIt) {
  StoredReceipt r = PackedReceipt(3);
  EXPECT_TRUE(r.xml.empty());
  EXPECT_EQ(ReceiptBody(r), r.packed);
  auto xml = ReceiptXml(r);
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  EXPECT_EQ(*xml, ExpectedXml(3));
  EXPECT_NE(xml->find("<ceb:orderNo>O&amp;&lt;3&gt;</ceb:orderNo>"), std::string::npos) << *xml;
  ASSERT_TRUE(RenderReceipt(r).ok());
  EXPECT_EQ(r.xml, ExpectedXml(3));
  EXPECT_TRUE(r.packed.empty());
  EXPECT_EQ(ReceiptBody(r), r.xml);
  ASSERT_TRUE(RenderReceipt(r).ok());  // once written, left alone
  EXPECT_EQ(r.xml, ExpectedXml(3));
}

TEST(StoredReceipt, TheBodyTellsXmlFromARecord) {
  StoredReceipt r;
  SetReceiptBody(r, "<?xml version=\"1.0\"?><x/>");
  EXPECT_EQ(r.xml, "<?xml version=\"1.0\"?><x/>");
  EXPECT_TRUE(r.packed.empty());
  StoredReceipt p = PackedReceipt(1);
  StoredReceipt q;
  q.type = p.type;
  q.answers_guid = p.answers_guid;
  q.status = p.status;
  SetReceiptBody(q, std::string(p.packed));
  EXPECT_TRUE(q.xml.empty());
  ASSERT_TRUE(RenderReceipt(q).ok());
  EXPECT_EQ(q.xml, ExpectedXml(1));
}

TEST(StoredReceipt, ADamagedRecordIsAnErrorNotAReceipt) {
  StoredReceipt r = PackedReceipt(2);
  r.packed.resize(r.packed.size() - 3);
  EXPECT_EQ(RenderReceipt(r).code(), StatusCode::kInternal);
  EXPECT_TRUE(r.xml.empty());
  StoredReceipt longer = PackedReceipt(2);
  longer.packed += "x";  // bytes after the record
  EXPECT_EQ(ReceiptXml(longer).status().code(), StatusCode::kInternal);
  StoredReceipt unknown = PackedReceipt(2);
  unknown.type = "CEB999";
  EXPECT_EQ(ReceiptXml(unknown).status().code(), StatusCode::kInternal);
}

// Committed packed, through the journal and the projector: every read shows the XML, from memory
// and from SQLite after a reopen.
TEST(StoredReceipt, AStoreKeepsTheRecordAndShowsTheXml) {
  const kuajing::testing::ScopedTempDir temp("kj-store-packed-");
  const fs::path& dir = temp.path();
  auto check = [&](Store& s, int n) {
    auto answering = s.ReceiptsAnswering("ORDER-GUID-" + std::to_string(n));
    ASSERT_TRUE(answering.ok()) << answering.status().ToString();
    ASSERT_EQ(answering->size(), 1u);
    EXPECT_EQ(answering->front().xml, ExpectedXml(n));
    EXPECT_TRUE(answering->front().packed.empty());
    auto of = s.ReceiptsOfMessage("M-" + std::to_string(n));
    ASSERT_TRUE(of.ok() && of->has_value());
    ASSERT_EQ((*of)->size(), 1u);
    EXPECT_EQ((*of)->front().xml, ExpectedXml(n));
    auto feed = s.ReceiptsFor("4304961001", n - 1, 1);
    ASSERT_TRUE(feed.ok());
    ASSERT_EQ(feed->size(), 1u);
    EXPECT_EQ(feed->front().xml, ExpectedXml(n));
  };
  {
    auto s = OpenJournaledStore(dir.string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (int n = 1; n <= 3; ++n) {
      CommitBatch b;
      b.message = MessageRow{"M-" + std::to_string(n), "CEB311", "4304961001", n, true, "<m/>"};
      b.receipts.push_back(PackedReceipt(n));
      ASSERT_TRUE((*s)->Commit({&b}).ok());
      check(**s, n);  // in memory, or already in SQLite
    }
  }
  {
    auto s = OpenJournaledStore(dir.string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (int n = 1; n <= 3; ++n) check(**s, n);
  }
}

}  // namespace
}  // namespace kuajing::storage
