#include "common/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "common/thread_name.h"

namespace kuajing {

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open the folder " + dir + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok()
                 : Unavailable("cannot flush the folder " + dir + ": " + std::strerror(err));
}

uint64_t AvailableMemoryBytes() {
  std::ifstream in("/proc/meminfo");
  std::string name;
  uint64_t kb = 0;
  std::string unit;
  while (in >> name >> kb >> unit) {
    if (name == "MemAvailable:") return kb * 1024;
  }
  return 0;
}

FileWarmer::FileWarmer(const std::string& path, uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size <= 0 || static_cast<uint64_t>(size) > max_bytes) {
    ::close(fd);
    return;
  }
  // The kernel's own read-ahead, in the largest steps it allows for a sequential reader.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  thread_ = std::thread([this, fd] { Run(fd); });
}

FileWarmer::~FileWarmer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

uint64_t FileWarmer::Finish() {
  if (thread_.joinable()) thread_.join();
  return read_;
}

void FileWarmer::Run(int fd) {
  NameThisThread("kj-warm");
  // One synchronous stream of 1 MiB reads, as `cat` reads: `cat kuajing.db > /dev/null` beside
  // the scan was how the gain was first measured (bench/README.md).
  std::vector<char> buffer(size_t{1} << 20);
  off_t at = 0;
  while (!stop_) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), at);
    if (n <= 0) break;  // the end, or an error: the scan reads the file itself
    at += n;
    read_ += static_cast<uint64_t>(n);
  }
  ::close(fd);
}

}  // namespace kuajing
