#include "common/line_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace kuajing {
namespace {

// The read end of a pipe, read to its end once every writer has closed it.
std::string ReadAll(int fd) {
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) all.append(buf, static_cast<size_t>(n));
  return all;
}

TEST(LineWriter, EveryLineArrivesWholeAndInOrderPerThread) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::string all;
  std::thread reader([&] { all = ReadAll(p[0]); });
  {
    LineWriter w(p[1], size_t{16} << 20, std::chrono::milliseconds(1));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&w, t] {
        for (int i = 0; i < 5000; ++i) w.Write("t" + std::to_string(t) + " " + std::to_string(i));
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(w.dropped(), 0u);
  }  // the destructor writes what is waiting
  ::close(p[1]);
  reader.join();
  ::close(p[0]);
  std::vector<int> next(4, 0);
  size_t lines = 0;
  for (size_t at = 0; at < all.size();) {
    const size_t nl = all.find('\n', at);
    ASSERT_NE(nl, std::string::npos) << "a line without its newline at the end";
    const std::string line = all.substr(at, nl - at);
    const int t = line[1] - '0';
    ASSERT_TRUE(line[0] == 't' && t >= 0 && t < 4) << line;
    EXPECT_EQ(line.substr(3), std::to_string(next[t]++)) << "lost or reordered";
    ++lines;
    at = nl + 1;
  }
  EXPECT_EQ(lines, 20000u);
}

TEST(LineWriter, LinesBeyondTheBoundAreDroppedAndCounted) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  {
    // The thread gathers for far longer than the test: the lines wait until the destructor.
    LineWriter w(p[1], 100, std::chrono::hours(1));
    for (int i = 0; i < 10; ++i) w.Write(std::string(29, static_cast<char>('a' + i)));  // 30 B
    w.Write("123456789");            // 90 + 10: the bound exactly, kept
    w.Write("");                     // 100 + 1: just over it, dropped
    w.Write(std::string(200, 'z'));  // longer than the bound on its own
    EXPECT_EQ(w.dropped(), 9u);
  }
  ::close(p[1]);
  const std::string all = ReadAll(p[0]);
  ::close(p[0]);
  EXPECT_EQ(all, std::string(29, 'a') + "\n" + std::string(29, 'b') + "\n" + std::string(29, 'c') +
                     "\n123456789\n{\"event\":\"log_lines_dropped\",\"lines\":9}\n");
}

}  // namespace
}  // namespace kuajing
