#include "storage/journaled_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <limits>
#include <mutex>
#include <thread>

#include "storage/blob_codec.h"
#include "storage/journal.h"
#include "storage/sqlite_store.h"

namespace kuajing::storage {
namespace {

namespace fs = std::filesystem;

// Message m: one receipt answering DOC-m for enterprises EBC and E<m % 3>, one state row, a
// quota entry of m CNY for buyer ID<m % 5> and one of 1 CNY for buyer B<(m - 1) / 100>.
CommitBatch Batch(int m) {
  const std::string n = std::to_string(m);
  CommitBatch b;
  b.message = MessageRow{"M-" + n, "CEB621", "EBC", m, true, "<raw " + n + "/>"};
  b.receipts.push_back(StoredReceipt{
      "CEB622", "DOC-" + n, "120", "<r" + n + "/>", {"EBC", "E" + std::to_string(m % 3)}});
  b.changes.push_back(clearance::StateChange{"inventory", "k" + n, "v" + n, false});
  b.ledger.push_back(clearance::QuotaEntry{"ID" + std::to_string(m % 5), 2024,
                                           Decimal::FromUnits(m), "INV" + n, "accepted", m});
  b.ledger.push_back(clearance::QuotaEntry{"B" + std::to_string((m - 1) / 100), 2024,
                                           Decimal::FromUnits(1), "INV" + n, "accepted", m});
  return b;
}

class JournaledStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kj-jstore-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<Store> Open(JournaledStoreOptions options = {}) {
    auto s = OpenJournaledStore(dir_.string(), std::move(options));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // Commits messages [from, to) in groups of `group`.
  static void CommitRange(Store& s, int from, int to, int group) {
    for (int m = from; m < to; m += group) {
      std::vector<CommitBatch> batches;
      for (int k = m; k < std::min(to, m + group); ++k) batches.push_back(Batch(k));
      std::vector<const CommitBatch*> ptrs;
      for (const auto& b : batches) ptrs.push_back(&b);
      ASSERT_TRUE(s.Commit(ptrs).ok());
    }
  }
  static int64_t ExpectedSum(int buyer, int to) {
    int64_t sum = 0;
    for (int m = 1; m < to; ++m) sum += m % 5 == buyer ? m : 0;
    return sum;
  }

  fs::path dir_;
};

TEST(JournalFrame, EveryFieldComesBack) {
  CommitBatch a = Batch(7), b = Batch(-3);
  a.message.seq = 12;
  a.receipts[0].id = 99;
  a.changes.push_back(clearance::StateChange{"order", "gone", "", true});
  a.message.raw_format = static_cast<int64_t>(BlobFormat::kZstdV1);
  b.message.accepted = false;
  b.message.raw = std::string("\0binary\xff", 8);
  b.receipts.clear();
  auto out = DecodeFrame(EncodeFrame({&a, &b}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);
  const CommitBatch& x = (*out)[0];
  EXPECT_EQ(x.message.seq, 12);
  EXPECT_EQ(x.message.guid, "M-7");
  EXPECT_EQ(x.message.received_ms, 7);
  EXPECT_EQ(x.message.raw_format, static_cast<int64_t>(BlobFormat::kZstdV1));
  EXPECT_EQ(x.receipts[0].id, 99);
  EXPECT_EQ(x.receipts[0].audience, (std::vector<std::string>{"EBC", "E1"}));
  EXPECT_EQ(x.receipts[0].xml, "<r7/>");
  ASSERT_EQ(x.changes.size(), 2u);
  EXPECT_TRUE(x.changes[1].erase);
  EXPECT_EQ(x.ledger[0].delta.e5, Decimal::FromUnits(7).e5);
  EXPECT_EQ(x.ledger[0].invt_no, "INV7");
  const CommitBatch& y = (*out)[1];
  EXPECT_FALSE(y.message.accepted);
  EXPECT_EQ(y.message.raw, std::string("\0binary\xff", 8));
  EXPECT_EQ(y.message.raw_format, 0);
  EXPECT_EQ(y.message.received_ms, -3);
  EXPECT_EQ(y.ledger[0].delta.e5, Decimal::FromUnits(-3).e5);
  EXPECT_TRUE(y.receipts.empty());
}

// The room made for a frame holds every number at its widest (ten bytes each) and every text
// empty; a buffer used again for a smaller frame gives that frame alone.
TEST(JournalFrame, TheWidestNumbersFitAndTheBufferIsUsedAgain) {
  CommitBatch wide = Batch(1);
  wide.message = MessageRow{};
  wide.message.seq = INT64_MIN;
  wide.message.received_ms = INT64_MIN;
  wide.receipts.assign(3, StoredReceipt{});
  for (StoredReceipt& r : wide.receipts) r.id = INT64_MIN;
  wide.changes.assign(3, clearance::StateChange{});
  wide.ledger.assign(3, clearance::QuotaEntry{});
  for (clearance::QuotaEntry& q : wide.ledger) {
    q.year = INT32_MIN;
    q.delta.e5 = INT64_MIN;
    q.at_ms = INT64_MIN;
  }
  std::vector<char> buffer;
  const std::string first(EncodeFrame({&wide, &wide}, buffer));
  auto out = DecodeFrame(first);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[1].message.seq, INT64_MIN);
  EXPECT_EQ((*out)[1].receipts[2].id, INT64_MIN);
  EXPECT_EQ((*out)[1].ledger[2].at_ms, INT64_MIN);

  CommitBatch small = Batch(2);
  const std::string_view second = EncodeFrame({&small}, buffer);
  EXPECT_EQ(second, EncodeFrame({&small}));
  auto again = DecodeFrame(second);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].message.guid, "M-2");
}

TEST(JournalFrame, EveryCutShortFrameIsRefused) {
  CommitBatch a = Batch(1), b = Batch(2);
  const std::string whole = EncodeFrame({&a, &b});
  for (size_t n = 0; n < whole.size(); ++n) {
    EXPECT_FALSE(DecodeFrame(whole.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeFrame(whole + "x").ok());
  std::string other = whole;
  other[0] = 4;  // a version this build does not read
  EXPECT_EQ(DecodeFrame(other).status().code(), StatusCode::kInternal);
  CommitBatch c = Batch(3);
  c.message.raw_format = 9;  // a raw format this build does not know
  EXPECT_EQ(DecodeFrame(EncodeFrame({&c})).status().code(), StatusCode::kInternal);
  c.message.raw_format = static_cast<int64_t>(BlobFormat::kZstdV2);  // what the I/O threads write
  auto known = DecodeFrame(EncodeFrame({&c}));
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  EXPECT_EQ((*known)[0].message.raw_format, static_cast<int64_t>(BlobFormat::kZstdV2));
}

TEST(JournalFrame, AVersionOneFrameStillReads) {
  // Written by the build before raw_format (EncodeFrame of Batch(5), seq 3, receipt id 8): a
  // journal left by it is replayed after an upgrade.
  std::string frame;
  const std::string_view hex =
      "010106034d2d3506434542363231034542430a01083c72617720352f3e01100643454236323205444f432d3503"
      "313230053c72352f3e02034542430245320109696e76656e746f7279026b35027635000203494430d01fc0843d"
      "04494e56350861636365707465640a024230d01fc09a0c04494e56350861636365707465640a";
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    frame.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  auto out = DecodeFrame(frame);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  const CommitBatch& x = (*out)[0];
  EXPECT_EQ(x.message.seq, 3);
  EXPECT_EQ(x.message.guid, "M-5");
  EXPECT_EQ(x.message.raw, "<raw 5/>");
  EXPECT_EQ(x.message.raw_format, 0);
  ASSERT_EQ(x.receipts.size(), 1u);
  EXPECT_EQ(x.receipts[0].id, 8);
  EXPECT_EQ(x.receipts[0].audience, (std::vector<std::string>{"EBC", "E2"}));
  ASSERT_EQ(x.changes.size(), 1u);
  EXPECT_EQ(x.changes[0].value, "v5");
  ASSERT_EQ(x.ledger.size(), 2u);
  EXPECT_EQ(x.ledger[1].buyer_id, "B0");
  // The same batch written now differs only in the version and the raw format after the bytes.
  CommitBatch again = Batch(5);
  again.message.seq = 3;
  again.receipts[0].id = 8;
  const std::string now = EncodeFrame({&again});
  EXPECT_EQ(now[0], 3);
  const size_t raw_end = frame.find("<raw 5/>") + 8;
  EXPECT_EQ(now.substr(1, raw_end - 1), frame.substr(1, raw_end - 1));
  EXPECT_EQ(now[raw_end], 0);  // raw_format 0
  EXPECT_EQ(now.substr(raw_end + 1), frame.substr(raw_end));
}

// After a start, the filter of stored guids is filled from SQLite; once it is complete the repeat
// check trusts its "not there" (no SQLite lookup), and must still find every message stored before
// the start and every one committed since. With a filter of one block (always "maybe") the
// answers are the same, from SQLite.
TEST_F(JournaledStoreTest, MessagesStoredBeforeAndAfterAStartAreFoundOnceTheFilterIsFull) {
  {
    auto s = Open();
    ASSERT_TRUE(s);
    CommitRange(*s, 1, 2001, 50);
  }
  for (const size_t bytes : {size_t{32} << 20, size_t{64}}) {
    std::promise<uint64_t> ready;
    JournaledStoreOptions options;
    options.guid_filter_bytes = bytes;
    options.on_guid_filter_ready = [&ready](uint64_t guids) { ready.set_value(guids); };
    auto s = Open(std::move(options));
    ASSERT_TRUE(s);
    CommitRange(*s, bytes == 64 ? 3001 : 2001, bytes == 64 ? 3101 : 2101, 20);  // during the scan
    auto done = ready.get_future();
    ASSERT_EQ(done.wait_for(std::chrono::seconds(60)), std::future_status::ready);
    EXPECT_GE(done.get(), 2000u);  // what SQLite held at the start (some of the new ones too)
    CommitRange(*s, bytes == 64 ? 3101 : 2101, bytes == 64 ? 3201 : 2201, 20);
    // Projected and gone from memory: only SQLite and the filter know them now.
    for (int i = 0; i < 6000 && s->Unprojected().frames > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(s->Unprojected().frames, 0);
    const int last = bytes == 64 ? 3200 : 2200;
    std::vector<std::string> guids;
    for (int m = 1; m <= last; ++m) {
      const bool stored = m <= 2200 || m > 3000;
      guids.push_back((stored ? "M-" : "N-") + std::to_string(m));
    }
    for (int m = 1; m <= 500; ++m) guids.push_back("NEVER-" + std::to_string(m));
    const std::vector<std::string_view> views(guids.begin(), guids.end());
    auto stored = s->MessagesStored(views);
    ASSERT_TRUE(stored.ok());
    for (size_t i = 0; i < guids.size(); ++i) {
      ASSERT_EQ((*stored)[i], guids[i][0] == 'M' ? 1 : 0) << guids[i] << " filter " << bytes;
    }
    // The one-guid reads (ingest's, replay's) trust the full filter the same way: a stored
    // message is still found, one never stored is answered without SQLite.
    for (size_t i = 0; i < guids.size(); i += 7) {
      const bool want = guids[i][0] == 'M';
      auto receipts = s->ReceiptsOfMessage(guids[i]);
      ASSERT_TRUE(receipts.ok());
      ASSERT_EQ(receipts->has_value(), want) << guids[i] << " filter " << bytes;
      auto sender = s->SenderOfMessage(guids[i]);
      ASSERT_TRUE(sender.ok());
      ASSERT_EQ(sender->has_value(), want) << guids[i] << " filter " << bytes;
    }
  }
}

// A sized filter made again larger as the messages outgrow it: each new one filled
// from SQLite while appends go on, and put in use complete.
TEST_F(JournaledStoreTest, TheGuidFilterGrowsWithTheMessages) {
  std::atomic<int> scans{0};
  JournaledStoreOptions options;
  options.guid_filter_min_guids = 64;
  options.on_guid_filter_ready = [&scans](uint64_t) { ++scans; };
  auto s = Open(std::move(options));
  ASSERT_TRUE(s);
  CommitRange(*s, 1, 3001, 10);  // made for 64, then 256, 1,024 and 4,096 messages
  for (int i = 0; i < 6000 && (s->Unprojected().frames > 0 || scans < 3); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(scans.load(), 3);
  std::vector<std::string> guids;
  for (int m = 1; m <= 3000; ++m) {
    guids.push_back("M-" + std::to_string(m));
    guids.push_back("X-" + std::to_string(m));
  }
  const std::vector<std::string_view> views(guids.begin(), guids.end());
  auto stored = s->MessagesStored(views);
  ASSERT_TRUE(stored.ok());
  for (size_t i = 0; i < guids.size(); ++i) ASSERT_EQ((*stored)[i], i % 2 == 0 ? 1 : 0) << guids[i];
}

TEST_F(JournaledStoreTest, ReadsSeeEveryCommitOnceWhileTheProjectorWrites) {
  auto s = Open();
  ASSERT_TRUE(s);
  // The writer commits while this thread reads right behind it: whether a group is still in
  // memory or already in SQLite, each read must see it exactly once.
  std::atomic<int> committed{0};
  std::thread writer([&] {
    for (int m = 1; m <= 3000; m += 10) {
      CommitRange(*s, m, m + 10, 10);
      committed = m + 9;
    }
  });
  int checked = 0;
  int64_t feed_after = 0;
  int feed_seen = 0;
  while (checked < 3000) {
    const int upto = committed.load();
    if (upto == checked) {
      std::this_thread::yield();
      continue;
    }
    // Asked at once (the writer's question for a group), with guids never sent among them.
    std::vector<std::string> guids;
    for (int m = checked + 1; m <= upto; ++m) {
      guids.push_back("M-" + std::to_string(m));
      guids.push_back("N-" + std::to_string(m));
    }
    const std::vector<std::string_view> views(guids.begin(), guids.end());
    auto stored = s->MessagesStored(views);
    ASSERT_TRUE(stored.ok());
    ASSERT_EQ(stored->size(), guids.size());
    for (size_t i = 0; i < guids.size(); ++i) {
      ASSERT_EQ((*stored)[i], i % 2 == 0 ? 1 : 0) << guids[i];
    }
    for (int m = checked + 1; m <= upto; ++m) {
      auto r = s->ReceiptsOfMessage("M-" + std::to_string(m));
      ASSERT_TRUE(r.ok() && r->has_value()) << m;
      ASSERT_EQ((*r)->size(), 1u);
      EXPECT_EQ((**r)[0].xml, "<r" + std::to_string(m) + "/>");
      auto a = s->ReceiptsAnswering("DOC-" + std::to_string(m));
      ASSERT_TRUE(a.ok());
      ASSERT_EQ(a->size(), 1u) << m;
      EXPECT_EQ(**s->SenderOfMessage("M-" + std::to_string(m)), "EBC");
    }
    checked = upto;
    // The quota ledger: every committed entry counted once, in memory or in SQLite. (The writer
    // may be further on: the sum is at least that of what this thread knows committed.)
    auto sum = s->LedgerSum("ID2", 2024);
    ASSERT_TRUE(sum.ok());
    EXPECT_GE(sum->e5, Decimal::FromUnits(ExpectedSum(2, checked + 1)).e5);
    // Buyer B<k> is complete once message 100k + 100 is committed: exactly 100 CNY, whether its
    // entries are in memory, being written, or in SQLite.
    if (checked >= 100) {
      const int k = (checked - 100) / 100;
      EXPECT_EQ(s->LedgerSum("B" + std::to_string(k), 2024)->e5, Decimal::FromUnits(100).e5) << k;
    }
    // EBC's feed, paged: ids strictly increasing, no gap.
    auto page = s->ReceiptsFor("EBC", feed_after, 37);
    ASSERT_TRUE(page.ok());
    for (const auto& r : *page) {
      EXPECT_EQ(r.id, feed_after + 1);
      feed_after = r.id;
      ++feed_seen;
    }
  }
  writer.join();
  while (true) {
    auto page = s->ReceiptsFor("EBC", feed_after, 500);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const auto& r : *page) {
      EXPECT_EQ(r.id, feed_after + 1);
      feed_after = r.id;
      ++feed_seen;
    }
  }
  EXPECT_EQ(feed_seen, 3000);
  EXPECT_EQ(*s->MessageCount(), 3000);
  EXPECT_EQ(*s->LastReceiptId(), 3000);
  EXPECT_EQ(s->LedgerSum("ID2", 2024)->e5, Decimal::FromUnits(ExpectedSum(2, 3001)).e5);
  // E1's feed holds only what names it.
  auto e1 = s->ReceiptsFor("E1", 0, 5000);
  ASSERT_TRUE(e1.ok());
  EXPECT_EQ(e1->size(), 1000u);
}

// Holds the projector after each SQLite commit, before its frames leave memory: the n-th commit
// until Release(n) or later, every commit once Release() is called.
class HeldProjector {
 public:
  JournaledStoreOptions Options() {
    JournaledStoreOptions options;
    options.between_commit_and_forget = [this](uint64_t) {
      std::unique_lock<std::mutex> lock(mu_);
      const int me = ++held_;
      cv_.notify_all();
      cv_.wait(lock, [this, me] { return released_ >= me; });
    };
    return options;
  }
  // Until the n-th commit is held.
  void WaitHeld(int n = 1) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this, n] { return held_ >= n; });
  }
  void Release(int upto = std::numeric_limits<int>::max()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = upto;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int held_ = 0, released_ = 0;
};

// A failed assertion returns early: the store, closing, waits for a projector held.
struct ReleaseOnExit {
  HeldProjector& p;
  ~ReleaseOnExit() { p.Release(); }
};

TEST_F(JournaledStoreTest, AGroupInSqlAndStillInMemoryIsReadOnce) {
  HeldProjector projector;
  auto s = OpenJournaledStore(dir_.string(), projector.Options());
  ASSERT_TRUE(s.ok());
  CommitRange(**s, 1, 101, 100);  // one group: buyer B0 gets 100 entries of 1 CNY
  projector.WaitHeld();           // committed to SQLite, not yet dropped from memory
  EXPECT_EQ((*s)->LedgerSum("B0", 2024)->e5, Decimal::FromUnits(100).e5);
  EXPECT_EQ((*s)->ReceiptsAnswering("DOC-7")->size(), 1u);
  EXPECT_EQ((*s)->ReceiptsOfMessage("M-7")->value().size(), 1u);
  EXPECT_EQ((*s)->ReceiptsFor("EBC", 0, 1000)->size(), 100u);
  EXPECT_EQ((*s)->ReceiptsFor("EBC", 90, 1000)->size(), 10u);
  EXPECT_EQ((*s)->Unprojected().frames, 1);  // for /metrics
  EXPECT_GT((*s)->Unprojected().bytes, 100 * 20);
  projector.Release();
  // Before the commit the same reads come from memory alone; after, from SQLite alone.
  CommitRange(**s, 101, 201, 100);
  EXPECT_EQ((*s)->LedgerSum("B1", 2024)->e5, Decimal::FromUnits(100).e5);
  EXPECT_EQ((*s)->ReceiptsFor("EBC", 0, 1000)->size(), 200u);
  for (int i = 0; i < 1000 && (*s)->Unprojected().frames > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ((*s)->Unprojected().bytes, 0);
}

// The engine reads the rows of clearances it keeps out of memory: the value last committed,
// whether its frame is in memory, in SQLite or both, and nothing once erased.
TEST_F(JournaledStoreTest, StateRowsReadAsLastCommitted) {
  HeldProjector projector;
  auto s = OpenJournaledStore(dir_.string(), projector.Options());
  ASSERT_TRUE(s.ok());
  CommitRange(**s, 1, 11, 10);  // rows inventory/k1 ... k10
  projector.WaitHeld();         // in SQLite and still in memory
  CommitBatch next = Batch(11);
  next.changes = {{"inventory", "k1", "newer", false}, {"inventory", "k2", "", true}};
  ASSERT_TRUE((*s)->Commit({&next}).ok());  // in memory only (the projector is held)
  auto expect = [&](const char* when) {
    SCOPED_TRACE(when);
    EXPECT_EQ((*s)->ReadState("inventory", "k1")->value_or("-"), "newer");
    EXPECT_FALSE((*s)->ReadState("inventory", "k2")->has_value());
    EXPECT_EQ((*s)->ReadState("inventory", "k3")->value_or("-"), "v3");
    EXPECT_FALSE((*s)->ReadState("order", "k3")->has_value());
    EXPECT_FALSE((*s)->ReadState("inventory", "k99")->has_value());
  };
  expect("frames in memory");
  projector.Release();
  for (int i = 0; i < 1000 && (*s)->Unprojected().frames > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ((*s)->Unprojected().frames, 0);
  expect("frames in SQLite only");
  s->reset();
  auto reopened = Open();  // the SQL store alone answers the same after a restart
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->ReadState("inventory", "k1")->value_or("-"), "newer");
  EXPECT_FALSE(reopened->ReadState("inventory", "k2")->has_value());
}

// A state row and a guid in two frames: after the older frame has left memory, while the newer is
// still there (in SQLite and in memory, or in memory only), the newest value and every receipt are
// read. (Checked with keys that viewed the frames' strings, tried and dropped: AddressSanitizer
// reports a key left viewing the older frame.)
TEST_F(JournaledStoreTest, AKeyInTwoFramesOutlivesTheOlderOne) {
  HeldProjector projector;
  auto s = OpenJournaledStore(dir_.string(), projector.Options());
  ASSERT_TRUE(s.ok());
  ReleaseOnExit release_on_exit{projector};
  // Long keys and guids: not kept inside the string object (a freed one is then freed memory).
  const std::string row(40, 'r'), doc = "DOC-" + std::string(40, 'd');
  auto batch = [&](int m, const std::string& value) {
    CommitBatch b = Batch(m);
    b.receipts[0].answers_guid = doc;
    b.changes = {{"inventory", row, value, false}};
    return b;
  };
  CommitBatch first = batch(1, "older");
  ASSERT_TRUE((*s)->Commit({&first}).ok());
  projector.WaitHeld(1);  // the first frame is in SQLite, still in memory
  CommitBatch second = batch(2, "newer");
  ASSERT_TRUE((*s)->Commit({&second}).ok());
  projector.Release(1);  // the first frame leaves memory; the second is projected and held
  projector.WaitHeld(2);
  EXPECT_EQ((*s)->ReadState("inventory", row)->value_or("-"), "newer");
  EXPECT_EQ((*s)->ReceiptsAnswering(doc)->size(), 2u);
  CommitBatch third = batch(3, "newest");  // in memory only, beside the second
  ASSERT_TRUE((*s)->Commit({&third}).ok());
  EXPECT_EQ((*s)->ReadState("inventory", row)->value_or("-"), "newest");
  EXPECT_EQ((*s)->ReceiptsAnswering(doc)->size(), 3u);
  projector.Release(2);  // the second leaves memory, the third is projected and held
  projector.WaitHeld(3);
  EXPECT_EQ((*s)->ReadState("inventory", row)->value_or("-"), "newest");
  EXPECT_EQ((*s)->ReceiptsAnswering(doc)->size(), 3u);
  EXPECT_EQ((*s)->ReceiptsOfMessage("M-3")->value().size(), 1u);
}

// The platform's commit hands its batches over instead of having them copied: what the store took
// is read back whole (from memory, from SQLite, after a restart) and the caller keeps the receipts
// it answers with.
TEST_F(JournaledStoreTest, ACommitThatTakesTheBatchesKeepsEverythingItTook) {
  HeldProjector projector;
  auto s = OpenJournaledStore(dir_.string(), projector.Options());
  ASSERT_TRUE(s.ok());
  ReleaseOnExit release_on_exit{projector};
  const std::string raw(5000, 'x');  // not a short string: its bytes move, not copied
  std::vector<CommitBatch> batches{Batch(1), Batch(2)};
  batches[0].message.raw = raw;
  // The second comes packed already, as the server's I/O threads pack what they read.
  std::string declared = "<ceb:CEB621Message>";
  for (int i = 0; i < 40; ++i)
    declared += "<ceb:Inventory>" + std::to_string(i) + "</ceb:Inventory>";
  declared += "</ceb:CEB621Message>";
  BlobCodec codec;
  const auto [packed, format] = codec.Pack(declared);
  ASSERT_EQ(format, BlobFormat::kZstdV2);
  batches[1].message.raw = std::string(packed);
  batches[1].message.raw_format = static_cast<int64_t>(format);
  batches[0].changes[0].value = std::string(3000, 'v');
  std::vector<CommitBatch*> ptrs{&batches[0], &batches[1]};
  ASSERT_TRUE((*s)->CommitTaking(ptrs).ok());
  for (const CommitBatch& b : batches) {  // what the caller answers with
    ASSERT_EQ(b.receipts.size(), 1u);
    EXPECT_EQ(b.receipts[0].xml, b.receipts[0].answers_guid == "DOC-1" ? "<r1/>" : "<r2/>");
  }
  auto expect = [&](Store& store, const char* when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(store.ReadState("inventory", "k1")->value_or("-"), std::string(3000, 'v'));
    EXPECT_EQ(store.ReadState("inventory", "k2")->value_or("-"), "v2");
    auto r = store.ReceiptsOfMessage("M-2");
    ASSERT_TRUE(r.ok() && r->has_value());
    ASSERT_EQ((*r)->size(), 1u);
    EXPECT_EQ((**r)[0].xml, "<r2/>");
    EXPECT_EQ(store.LedgerSum("ID1", 2024)->e5, Decimal::FromUnits(1).e5);
  };
  expect(**s, "frames in memory");
  projector.Release();
  ASSERT_TRUE((*s)->Sync().ok());
  s->reset();
  auto reopened = Open();
  ASSERT_NE(reopened, nullptr);
  expect(*reopened, "after a restart");
  std::vector<std::string> raws;
  ASSERT_TRUE(reopened
                  ->ForEachMessage(INT64_MAX,
                                   [&](const MessageRow& m, const std::vector<StoredReceipt>&) {
                                     raws.push_back(m.raw);
                                     return Status::Ok();
                                   })
                  .ok());
  ASSERT_EQ(raws.size(), 2u);
  EXPECT_EQ(raws[0], raw);
  EXPECT_EQ(raws[1], declared);  // stored as packed, read back as declared
}

// The server's writer commits sharing the receipts: the store takes them, numbered, and the
// answer holds the store's own copy, alive after the frame has left memory.
TEST_F(JournaledStoreTest, ACommitThatSharesTheReceiptsKeepsThemAliveForTheAnswer) {
  auto s = Open();
  ASSERT_TRUE(s);
  CommitRange(*s, 1, 4, 3);  // receipts 1-3
  std::vector<CommitBatch> batches{Batch(4), Batch(5)};
  std::vector<CommitBatch*> ptrs{&batches[0], &batches[1]};
  std::vector<Store::SharedReceipts> kept;
  ASSERT_TRUE(s->CommitUnsyncedSharing(ptrs, &kept).ok());
  ASSERT_TRUE(s->Sync().ok());
  ASSERT_EQ(kept.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    ASSERT_NE(kept[i], nullptr);
    ASSERT_EQ(kept[i]->size(), 1u);
    EXPECT_EQ((*kept[i])[0].id, 4 + i);  // numbered by the store
    EXPECT_EQ((*kept[i])[0].xml, "<r" + std::to_string(4 + i) + "/>");
    EXPECT_EQ((*kept[i])[0].audience, Batch(4 + i).receipts[0].audience);
  }
  // The frame is projected and leaves memory; what the answer holds stays.
  CommitRange(*s, 6, 40, 5);
  for (int i = 0; i < 1000 && s->Unprojected().frames > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(s->Unprojected().frames, 0);
  EXPECT_EQ((*kept[1])[0].answers_guid, "DOC-5");
  auto read = s->ReceiptsAnswering("DOC-5");
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].id, 5);
}

TEST_F(JournaledStoreTest, TheWriterWaitsOnceTheProjectorIsTooFarBehind) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  JournaledStoreOptions options;
  options.between_commit_and_forget = [&](uint64_t) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
  };
  auto s = OpenJournaledStore(dir_.string(), options);
  ASSERT_TRUE(s.ok());
  // Groups of 1 MiB: the projector takes the first and is held; 64 more fill the limit.
  std::atomic<int> committed{0};
  std::thread writer([&] {
    for (int g = 0; g < 70; ++g) {
      CommitBatch b = Batch(g + 1);
      b.message.raw = std::string(1 << 20, 'r');
      ASSERT_TRUE((*s)->Commit({&b}).ok());
      ++committed;
    }
  });
  while (committed.load() < 60) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int stalled = committed.load();
  EXPECT_LT(stalled, 70);  // waiting: kMaxUnprojectedBytes of frames are not in SQLite
  EXPECT_GE(stalled, static_cast<int>(kMaxUnprojectedBytes >> 20));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  writer.join();
  EXPECT_EQ(*(*s)->MessageCount(), 70);
  // What /metrics shows of it: the commits that waited, each flush, the held transaction.
  const Store::Timings t = (*s)->timings();
  ASSERT_NE(t.room_wait, nullptr);
  EXPECT_GE(t.room_wait->count(), 1u);
  EXPECT_LE(t.room_wait->count(), 70u - kMaxUnprojectedBytes / (1 << 20));
  ASSERT_NE(t.journal_sync, nullptr);
  EXPECT_EQ(t.journal_sync->count(), 70u);
  ASSERT_NE(t.projection, nullptr);
  EXPECT_GE(t.projection->count(), 1u);
}

TEST_F(JournaledStoreTest, FramesTheSqlStoreLacksAreWrittenAtOpen) {
  {
    auto s = Open();
    CommitRange(*s, 1, 101, 10);
  }  // closed: everything projected
  // A crash after the journal's flush and before the projection: frames in the journal only.
  {
    auto j = Journal::Open((dir_ / "journal").string(), 0,
                           [](uint64_t, std::string_view) { return Status::Ok(); });
    ASSERT_TRUE(j.ok());
    for (int m = 101; m <= 150; m += 10) {
      std::vector<CommitBatch> batches;
      for (int k = m; k < m + 10; ++k) {
        batches.push_back(Batch(k));
        batches.back().message.seq = k;
        batches.back().receipts[0].id = k;
      }
      std::vector<const CommitBatch*> ptrs;
      for (const auto& b : batches) ptrs.push_back(&b);
      ASSERT_TRUE((*j)->Append(EncodeFrame(ptrs)).ok());
    }
    ASSERT_TRUE((*j)->Sync().ok());
  }
  {
    auto sql = OpenSqliteStore(dir_.string());
    EXPECT_EQ(*(*sql)->MessageCount(), 100);
  }
  {
    auto s = Open();
    ASSERT_TRUE(s);
    EXPECT_EQ(*s->MessageCount(), 150);
    EXPECT_EQ(*s->LastReceiptId(), 150);
    EXPECT_TRUE(s->ReceiptsOfMessage("M-150")->has_value());
    EXPECT_EQ(s->LedgerSum("ID0", 2024)->e5, Decimal::FromUnits(ExpectedSum(0, 151)).e5);
    CommitRange(*s, 151, 161, 10);  // numbering goes on after the recovered frames
    EXPECT_EQ(*s->LastReceiptId(), 160);
  }
  // Opened again, nothing is written twice.
  auto sql = OpenSqliteStore(dir_.string());
  EXPECT_EQ(*(*sql)->MessageCount(), 160);
  EXPECT_EQ((*sql)->LedgerSum("ID0", 2024)->e5, Decimal::FromUnits(ExpectedSum(0, 161)).e5);
  auto feed = (*sql)->ReceiptsFor("EBC", 0, 1000);
  ASSERT_EQ(feed->size(), 160u);
  EXPECT_EQ(feed->back().id, 160);
}

TEST_F(JournaledStoreTest, AStoreFromBeforeTheJournalNumbersOn) {
  {
    auto sql = OpenSqliteStore(dir_.string());
    CommitRange(**sql, 1, 21, 5);
  }
  auto s = Open();
  ASSERT_TRUE(s);
  EXPECT_EQ(*s->MessageCount(), 20);
  CommitRange(*s, 21, 31, 5);
  EXPECT_EQ(*s->LastReceiptId(), 30);
  auto feed = s->ReceiptsFor("EBC", 18, 100);
  ASSERT_EQ(feed->size(), 12u);
  EXPECT_EQ(feed->front().id, 19);
  EXPECT_EQ(feed->back().id, 30);
}

TEST_F(JournaledStoreTest, OneProcessAtATime) {
  auto s = Open();
  ASSERT_TRUE(s);
  auto second = OpenJournaledStore(dir_.string());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);
  s.reset();
  EXPECT_TRUE(OpenJournaledStore(dir_.string()).ok());
}

// The projector gathers frames before a transaction (journaled_store.cc: kGatherDelay), but a
// lone small group still reaches SQLite soon, with nobody draining the store or stopping it.
TEST_F(JournaledStoreTest, ALoneSmallGroupReachesSqlWithoutADrain) {
  auto s = Open();
  CommitRange(*s, 1, 3, 2);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_ / "kuajing.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_busy_timeout(db, 1000);
  int64_t in_sql = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (in_sql < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM messages", -1, &q, nullptr) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
      in_sql = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  EXPECT_EQ(in_sql, 2);
}

TEST_F(JournaledStoreTest, SegmentsGoOnceTheirFramesAreInSql) {
  auto s = Open();
  // ~70 MiB of raw messages: more than one 64 MiB segment.
  for (int g = 0; g < 70; ++g) {
    std::vector<CommitBatch> batches;
    for (int k = 0; k < 8; ++k) {
      batches.push_back(Batch(g * 8 + k + 1));
      batches.back().message.raw = std::string(128 << 10, 'r');
    }
    std::vector<const CommitBatch*> ptrs;
    for (const auto& b : batches) ptrs.push_back(&b);
    ASSERT_TRUE(s->Commit(ptrs).ok());
  }
  // One change of segment, which /metrics shows.
  ASSERT_NE(s->timings().journal_rollover, nullptr);
  EXPECT_EQ(s->timings().journal_rollover->count(), 1u);
  s.reset();  // the projector finishes first
  size_t segments = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "journal"))
    segments += e.path().extension() == ".log";
  EXPECT_EQ(segments, 1u);
  auto again = Open();
  EXPECT_EQ(*again->MessageCount(), 560);
}

}  // namespace
}  // namespace kuajing::storage
