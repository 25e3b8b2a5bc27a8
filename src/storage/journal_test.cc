#include "storage/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace kuajing::storage {
namespace {

namespace fs = std::filesystem;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kj-journal-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Opens the journal and returns it with the frames it replayed (numbered above `after`).
  std::unique_ptr<Journal> Open(std::vector<std::string>* frames, uint64_t after = 0,
                                uint64_t segment_bytes = 1 << 20) {
    auto j = Journal::Open(
        dir_.string(), after,
        [&](uint64_t number, std::string_view payload) {
          EXPECT_EQ(number, after + frames->size() + 1);
          frames->emplace_back(payload);
          return Status::Ok();
        },
        Journal::Options{segment_bytes});
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? std::move(*j) : nullptr;
  }
  Status OpenStatus() {
    auto j =
        Journal::Open(dir_.string(), 0, [](uint64_t, std::string_view) { return Status::Ok(); });
    return j.status();
  }
  static std::string Frame(int i) { return "frame " + std::to_string(i) + std::string(i % 7, '*'); }

  fs::path dir_;
};

TEST_F(JournalTest, WhatWasAppendedComesBackInOrder) {
  {
    std::vector<std::string> none;
    auto j = Open(&none);
    ASSERT_TRUE(j);
    EXPECT_TRUE(none.empty());
    for (int i = 1; i <= 100; ++i) ASSERT_EQ(*j->Append(Frame(i)), static_cast<uint64_t>(i));
    ASSERT_TRUE(j->Sync().ok());
  }
  std::vector<std::string> frames;
  auto j = Open(&frames);
  ASSERT_EQ(frames.size(), 100u);
  for (int i = 1; i <= 100; ++i) EXPECT_EQ(frames[i - 1], Frame(i));
  // Numbering goes on after a reopen, and only frames above `after` are replayed.
  EXPECT_EQ(*j->Append("next"), 101u);
  j.reset();
  std::vector<std::string> tail;
  j = Open(&tail, 98);
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail[2], "next");
}

TEST_F(JournalTest, SegmentsRollOverAndRetireOnlyWhatIsApplied) {
  std::vector<std::string> none;
  auto j = Open(&none, 0, /*segment_bytes=*/1000);
  const std::string payload(300, 'x');  // 316 bytes a frame: the fifth starts a new segment
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(j->Append(payload).ok());
  ASSERT_EQ(j->Segments().size(), 3u);  // 1-4, 5-8, 9-10, named by their first frame
  EXPECT_EQ(fs::path(j->Segments()[1]).filename().string(), "00000000000000000005.log");
  ASSERT_TRUE(j->Retire(3).ok());  // frame 4 is not applied: nothing goes
  EXPECT_EQ(j->Segments().size(), 3u);
  ASSERT_TRUE(j->Retire(7).ok());  // 1-4 goes, 5-8 stays
  EXPECT_EQ(j->Segments().size(), 2u);
  ASSERT_TRUE(j->Retire(1000).ok());  // the segment being appended to always stays
  EXPECT_EQ(j->Segments().size(), 1u);
  ASSERT_TRUE(j->Sync().ok());
  j.reset();
  std::vector<std::string> frames;
  j = Open(&frames, 8, 1000);
  EXPECT_EQ(frames.size(), 2u);
  EXPECT_EQ(*j->Append("x"), 11u);
}

// Retired segments are recycled (journal.h): the newest becomes DIR/spare, then the next
// segment, written over from its start. Its frames from before are never read back as frames.
TEST_F(JournalTest, ARecycledSegmentIsWrittenOverAndItsOldFramesAreNeverRead) {
  const std::string payload(300, 'x');  // 316 bytes a frame, four to a 1,000-byte segment
  {
    std::vector<std::string> none;
    auto j = Open(&none, 0, 1000);
    for (int i = 1; i <= 12; ++i) ASSERT_TRUE(j->Append(payload).ok());  // 1-4, 5-8, 9-12
    ASSERT_TRUE(j->Retire(8).ok());
    EXPECT_FALSE(fs::exists(dir_ / "00000000000000000001.log"));  // deleted
    EXPECT_FALSE(fs::exists(dir_ / "00000000000000000005.log"));  // the spare now
    ASSERT_TRUE(fs::exists(dir_ / "spare"));
    EXPECT_TRUE(fs::is_regular_file(dir_ / "spare"));
    EXPECT_EQ(fs::file_size(dir_ / "spare"), 4u * 316);
    ASSERT_EQ(*j->Append("thirteen"), 13u);  // begins segment 13 in the spare's blocks
    EXPECT_FALSE(fs::exists(dir_ / "spare"));
    // Frame 13 (24 bytes), then frames 5-8 as they were, less the bytes frame 13 took.
    EXPECT_EQ(fs::file_size(dir_ / "00000000000000000013.log"), 4u * 316);
    ASSERT_TRUE(j->Sync().ok());
  }
  std::vector<std::string> frames;
  auto j = Open(&frames, 8, 1000);
  ASSERT_TRUE(j);
  ASSERT_EQ(frames.size(), 5u);  // 9-13, and not one of the old frames behind 13
  EXPECT_EQ(frames.back(), "thirteen");
  EXPECT_EQ(fs::file_size(dir_ / "00000000000000000013.log"), 24u);  // cut at its last frame
  EXPECT_EQ(*j->Append("fourteen"), 14u);
}

// A recycled segment that fills up is cut to its frames before the next one begins, so a segment
// before the last never ends in anything but whole frames (Open refuses that as damage).
TEST_F(JournalTest, AFullRecycledSegmentIsCutToItsFrames) {
  const std::string big(600, 'b'), small(100, 's');  // 616 and 116 bytes a frame
  {
    std::vector<std::string> none;
    auto j = Open(&none, 0, 1000);
    for (int i = 1; i <= 4; ++i) ASSERT_TRUE(j->Append(big).ok());  // 1-2, 3-4: 1,232 each
    ASSERT_TRUE(j->Append(small).ok());                             // 5 begins segment 5
    ASSERT_TRUE(j->Retire(4).ok());  // segment 3 is the spare, segment 1 deleted
    for (int i = 6; i <= 9; ++i) ASSERT_TRUE(j->Append(small).ok());
    // 10-13 go on in segment 5 (1,044 bytes), and 14 begins in the spare's blocks.
    for (int i = 10; i <= 14; ++i) ASSERT_TRUE(j->Append(small).ok());
    const auto segments = j->Segments();
    ASSERT_EQ(segments.size(), 2u);
    EXPECT_EQ(fs::path(segments[1]).filename().string(), "00000000000000000014.log");
    // Segment 5 was new; it ended at its frames anyway. 14 is the recycled one, still 1,232 long.
    EXPECT_EQ(fs::file_size(segments[0]), 9u * 116);
    EXPECT_EQ(fs::file_size(segments[1]), 1232u);
    ASSERT_TRUE(j->Retire(13).ok());  // segment 5 becomes the spare
    for (int i = 15; i <= 30; ++i) ASSERT_TRUE(j->Append(small).ok());
    // Segment 14 filled up in its recycled blocks (9 frames, 1,044 bytes) and was cut there;
    // segment 23 took the spare.
    EXPECT_EQ(fs::file_size(dir_ / "00000000000000000014.log"), 9u * 116);
    ASSERT_TRUE(j->Sync().ok());
  }
  std::vector<std::string> frames;
  auto j = Open(&frames, 13, 1000);
  ASSERT_TRUE(j);                 // no damage before the last segment
  EXPECT_EQ(frames.size(), 17u);  // 14-30
  EXPECT_EQ(*j->Append("next"), 31u);
}

// The spare renamed into the next segment, and the power lost before any frame reached it: the
// segment holds only the old frames, the end of the log, and numbering goes on.
TEST_F(JournalTest, ASpareRenamedWithNoFrameYetIsAnEmptySegment) {
  const std::string payload(300, 'x');
  {
    std::vector<std::string> none;
    auto j = Open(&none, 0, 1000);
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE(j->Append(payload).ok());  // 1-4, 5-8, 9-10
    ASSERT_TRUE(j->Retire(8).ok());
    ASSERT_TRUE(j->Sync().ok());
  }
  fs::rename(dir_ / "spare", dir_ / "00000000000000000011.log");
  std::vector<std::string> frames;
  auto j = Open(&frames, 8, 1000);
  ASSERT_TRUE(j);
  EXPECT_EQ(frames.size(), 2u);  // 9, 10
  EXPECT_EQ(fs::file_size(dir_ / "00000000000000000011.log"), 0u);
  EXPECT_EQ(*j->Append(payload), 11u);
  j.reset();
  frames.clear();
  // Something that is not a file under the spare's name is left alone: segments are created.
  fs::create_directory(dir_ / "spare");
  j = Open(&frames, 8, 1000);
  EXPECT_EQ(frames.size(), 3u);
  for (int i = 12; i <= 20; ++i) ASSERT_TRUE(j->Append(payload).ok());
  EXPECT_TRUE(fs::is_directory(dir_ / "spare"));
}

TEST_F(JournalTest, ATornLastFrameIsCutOffAndAppendsGoOn) {
  std::string last_segment;
  {
    std::vector<std::string> none;
    auto j = Open(&none);
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(j->Append(Frame(i)).ok());
    last_segment = j->Segments().back();
  }
  const auto whole = fs::file_size(last_segment);
  // Every way the last append can be cut short: inside the header, inside the payload.
  for (uintmax_t cut = 1; cut < Journal::kHeaderBytes + Frame(5).size(); ++cut) {
    fs::resize_file(last_segment, whole - cut);
    std::vector<std::string> frames;
    auto j = Open(&frames);
    ASSERT_TRUE(j) << cut;
    ASSERT_EQ(frames.size(), 4u) << cut;
    EXPECT_EQ(fs::file_size(last_segment), whole - Journal::kHeaderBytes - Frame(5).size()) << cut;
    ASSERT_EQ(*j->Append(Frame(5)), 5u);  // the same number again, now whole
  }
  // Zeros where the last frame should be (a file extended but never written, after power loss).
  {
    std::ofstream f(last_segment, std::ios::binary | std::ios::app);
    f << std::string(40, '\0');
  }
  std::vector<std::string> frames;
  auto j = Open(&frames);
  EXPECT_EQ(frames.size(), 5u);
  EXPECT_EQ(fs::file_size(last_segment), whole);
}

TEST_F(JournalTest, ALengthJustOverTheLimitIsATornAppend) {
  std::string path;
  {
    std::vector<std::string> none;
    auto j = Open(&none);
    ASSERT_TRUE(j->Append(Frame(1)).ok());
    path = j->Segments().back();
  }
  const auto whole = fs::file_size(path);
  {
    // A header claiming kMaxPayload + 1 bytes, with that many following it on no disk.
    std::string header(Journal::kHeaderBytes, '\0');
    const uint32_t len = Journal::kMaxPayload + 1;
    for (int i = 0; i < 4; ++i) header[i] = static_cast<char>(len >> (8 * i));
    header[8] = 2;  // frame number 2
    std::ofstream f(path, std::ios::binary | std::ios::app);
    f << header << std::string(64, 'x');
  }
  std::vector<std::string> frames;
  auto j = Open(&frames);
  EXPECT_EQ(frames.size(), 1u);
  EXPECT_EQ(fs::file_size(path), whole);
}

TEST_F(JournalTest, AFlippedBitInTheLastFrameIsATornAppend) {
  std::string path;
  {
    std::vector<std::string> none;
    auto j = Open(&none);
    for (int i = 1; i <= 3; ++i) ASSERT_TRUE(j->Append(Frame(i)).ok());
    path = j->Segments().back();
  }
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) - 2));
    f.put('#');
  }
  std::vector<std::string> frames;
  auto j = Open(&frames);
  EXPECT_EQ(frames.size(), 2u);
}

TEST_F(JournalTest, DamageBeforeTheLastSegmentIsRefusedAndNothingIsChanged) {
  std::string first;
  {
    std::vector<std::string> none;
    auto j = Open(&none, 0, 100);
    for (int i = 1; i <= 6; ++i) ASSERT_TRUE(j->Append(std::string(60, 'a' + i)).ok());
    first = j->Segments().front();
  }
  const auto size = fs::file_size(first);
  {
    std::fstream f(first, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(20);
    f.put('#');
  }
  Status st = OpenStatus();
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find("not the last segment"), std::string::npos) << st.message();
  EXPECT_EQ(fs::file_size(first), size);
}

TEST_F(JournalTest, AMissingSegmentIsRefused) {
  {
    std::vector<std::string> none;
    auto j = Open(&none, 0, 100);
    for (int i = 1; i <= 6; ++i) ASSERT_TRUE(j->Append(std::string(60, 'x')).ok());
    ASSERT_GE(j->Segments().size(), 3u);
    fs::remove(j->Segments()[1]);
  }
  Status st = OpenStatus();
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find("frames are missing"), std::string::npos) << st.message();
}

TEST_F(JournalTest, AnEmptyJournalNumbersOnFromWhatTheCallerHolds) {
  std::vector<std::string> none;
  auto j = Open(&none, 41);
  EXPECT_EQ(*j->Append("a"), 42u);
  EXPECT_EQ(fs::path(j->Segments().front()).filename().string(), "00000000000000000042.log");
}

TEST_F(JournalTest, RefusesEmptyAndOversizedFrames) {
  std::vector<std::string> none;
  auto j = Open(&none);
  EXPECT_EQ(j->Append("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(j->Append("one").value(), 1u);  // a refused frame takes no number
}

TEST_F(JournalTest, AReplayErrorStopsTheOpen) {
  {
    std::vector<std::string> none;
    auto j = Open(&none);
    ASSERT_TRUE(j->Append("a").ok());
  }
  auto j = Journal::Open(dir_.string(), 0, [](uint64_t, std::string_view) {
    return Unavailable("the projection is down");
  });
  EXPECT_EQ(j.status().message(), "the projection is down");
}

}  // namespace
}  // namespace kuajing::storage
