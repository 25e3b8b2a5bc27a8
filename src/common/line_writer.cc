#include "common/line_writer.h"

#include <unistd.h>

#include <cerrno>

#include "common/thread_name.h"

namespace kuajing {

LineWriter::LineWriter(int fd, size_t max_buffered, std::chrono::milliseconds gather)
    : fd_(fd), max_buffered_(max_buffered), gather_(gather), thread_([this] { Loop(); }) {}

LineWriter::~LineWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void LineWriter::Write(std::string_view line) {
  bool first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (waiting_.size() + line.size() + 1 > max_buffered_) {
      if (dropped_++ == dropped_noted_ && waiting_.empty()) cv_.notify_one();  // a line too long
      return;
    }
    first = waiting_.empty();
    waiting_.append(line).push_back('\n');
  }
  // Only the first line wakes the thread; it then gathers the rest for `gather_`.
  if (first) cv_.notify_one();
}

uint64_t LineWriter::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void LineWriter::Loop() {
  NameThisThread("kj-log");
  std::string out;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !waiting_.empty() || dropped_ != dropped_noted_; });
    if (waiting_.empty() && dropped_ == dropped_noted_) return;  // stopping, all written
    cv_.wait_for(lock, gather_, [&] { return stopping_; });
    out.swap(waiting_);
    if (dropped_ != dropped_noted_) {
      // A line like the others (JSON), which a log reader can count.
      out += "{\"event\":\"log_lines_dropped\",\"lines\":" +
             std::to_string(dropped_ - dropped_noted_) + "}\n";
      dropped_noted_ = dropped_;
    }
    lock.unlock();
    for (size_t done = 0; done < out.size();) {
      const ssize_t n = ::write(fd_, out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the descriptor is gone: nothing to do but drop
      done += static_cast<size_t>(n);
    }
    out.clear();
    lock.lock();
  }
}

}  // namespace kuajing
