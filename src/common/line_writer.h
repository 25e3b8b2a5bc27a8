// Lines written to a file descriptor by a thread of their own: the server's log (stderr), so that
// the threads that answer requests never wait on a write. With one document per message the
// syncer, which answers every request after its flush, spent about a sixth of its time building
// and writing log lines, one system call each (bench/README.md, "Issue 7").
//
// A line is in the file at most `gather` after Write (the thread waits that long after the first
// line to take many in one write) and at once when the writer is destroyed. What a kill -9 cuts
// off is at most that window's lines. Memory is bounded: beyond `max_buffered` bytes waiting (the
// descriptor too slow, say a full pipe) lines are dropped and counted, and a line saying how many,
// {"event":"log_lines_dropped","lines":N}, is written with the next lines.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace kuajing {

class LineWriter {
 public:
  explicit LineWriter(int fd, size_t max_buffered = size_t{16} << 20,
                      std::chrono::milliseconds gather = std::chrono::milliseconds(20));
  ~LineWriter();  // writes what is waiting, then returns
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  // Appends `line` and a newline. Thread-safe; never blocks on the descriptor.
  void Write(std::string_view line);
  uint64_t dropped() const;  // lines dropped since the start

 private:
  void Loop();

  const int fd_;
  const size_t max_buffered_;
  const std::chrono::milliseconds gather_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string waiting_;         // protected by mu_
  uint64_t dropped_ = 0;        // protected by mu_
  uint64_t dropped_noted_ = 0;  // protected by mu_: the drops a line has already reported
  bool stopping_ = false;       // protected by mu_
  std::thread thread_;
};

}  // namespace kuajing
