#include "common/files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace kuajing {
namespace {

class FileWarmerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kj_files_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "data").string();
    std::ofstream out(path_, std::ios::binary);
    const std::string chunk(100000, 'x');
    for (int i = 0; i < 30; ++i) out << chunk;  // 3 MB: several of the warmer's reads
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(FileWarmerTest, ReadsTheWholeFile) {
  FileWarmer warm(path_, uint64_t{1} << 30);
  ASSERT_TRUE(warm.started());
  EXPECT_EQ(warm.Finish(), 3000000u);
}

TEST_F(FileWarmerTest, LeavesAFileLargerThanTheLimitAlone) {
  FileWarmer warm(path_, 2999999);
  EXPECT_FALSE(warm.started());
  EXPECT_EQ(warm.Finish(), 0u);
}

TEST_F(FileWarmerTest, PassesOverAMissingFile) {
  FileWarmer warm((dir_ / "none").string(), uint64_t{1} << 30);
  EXPECT_FALSE(warm.started());
}

TEST_F(FileWarmerTest, StopsWhenDestroyed) {
  // Destroyed at once: it stops at its next read and the thread is joined (no leak under ASan,
  // no hang).
  { FileWarmer warm(path_, uint64_t{1} << 30); }
  SUCCEED();
}

TEST(AvailableMemory, IsKnownOnLinux) { EXPECT_GT(AvailableMemoryBytes(), 0u); }

}  // namespace
}  // namespace kuajing
