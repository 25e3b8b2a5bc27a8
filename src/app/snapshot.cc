#include "app/snapshot.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/crc32c.h"
#include "common/files.h"

namespace kuajing::app {

namespace {

constexpr char kMagic[8] = {'K', 'J', 'S', 'N', 'A', 'P', '\0', '\2'};
constexpr size_t kTrailer = 8 + 4;  // the body's length and CRC-32C

Status Errno(const std::string& what, const std::string& path) {
  return Unavailable(what + " " + path + ": " + std::strerror(errno));
}

bool WriteAll(int fd, const char* p, size_t len) {
  while (len > 0) {
    const ssize_t w = ::write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    len -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

std::string SnapshotPath(const std::string& data_dir) { return data_dir + "/engine.snapshot"; }

StatusOr<SnapshotWriter> SnapshotWriter::Create(const std::string& path) {
  SnapshotWriter w(path);
  const std::string tmp = path + ".tmp";
  w.fd_ = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w.fd_ < 0) return Errno("cannot create", tmp);
  if (!WriteAll(w.fd_, kMagic, sizeof kMagic)) return Errno("cannot write", tmp);
  return w;
}

SnapshotWriter::SnapshotWriter(SnapshotWriter&& o) noexcept
    : path_(std::move(o.path_)), fd_(o.fd_), length_(o.length_), crc_(o.crc_) {
  o.fd_ = -1;
}

SnapshotWriter::~SnapshotWriter() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink((path_ + ".tmp").c_str());
}

Status SnapshotWriter::Append(std::string& piece) {
  if (fd_ < 0) return FailedPrecondition("the snapshot is finished");
  crc_ = Crc32c(piece, crc_);
  length_ += piece.size();
  const bool ok = WriteAll(fd_, piece.data(), piece.size());
  piece.clear();
  return ok ? Status::Ok() : Errno("cannot write", path_ + ".tmp");
}

Status SnapshotWriter::Finish() {
  if (fd_ < 0) return FailedPrecondition("the snapshot is finished");
  const std::string tmp = path_ + ".tmp";
  char trailer[kTrailer];
  std::memcpy(trailer, &length_, 8);
  std::memcpy(trailer + 8, &crc_, 4);
  if (!WriteAll(fd_, trailer, sizeof trailer) || ::fdatasync(fd_) != 0)
    return Errno("cannot write", tmp);
  ::close(fd_);
  fd_ = -1;
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    const Status st = Errno("cannot rename", tmp);
    ::unlink(tmp.c_str());
    return st;
  }
  // The rename itself is durable once the folder is flushed.
  const std::string dir = std::filesystem::path(path_).parent_path().string();
  return SyncDir(dir.empty() ? "." : dir);
}

StatusOr<std::optional<SnapshotFile>> SnapshotFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<SnapshotFile>();
    return Errno("cannot open", path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const Status s = Errno("cannot read", path);
    ::close(fd);
    return s;
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size < sizeof kMagic + kTrailer) {
    ::close(fd);
    return Internal(path + " is cut short");
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return Errno("cannot map", path);
  ::madvise(map, size, MADV_SEQUENTIAL);
  SnapshotFile f;
  f.map_ = map;
  f.size_ = size;
  const char* p = static_cast<const char*>(map);
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0)
    return Internal(path + " is not a kuajing snapshot of this format");
  uint64_t n;
  uint32_t crc;
  std::memcpy(&n, p + size - kTrailer, 8);
  std::memcpy(&crc, p + size - 4, 4);
  if (n != size - sizeof kMagic - kTrailer) return Internal(path + " is cut short or too long");
  f.body_ = std::string_view(p + sizeof kMagic, n);
  if (Crc32c(f.body_) != crc) return Internal(path + " is damaged (checksum)");
  return std::optional<SnapshotFile>(std::move(f));
}

SnapshotFile::SnapshotFile(SnapshotFile&& o) noexcept
    : map_(o.map_), size_(o.size_), body_(o.body_) {
  o.map_ = nullptr;
}

SnapshotFile::~SnapshotFile() {
  if (map_ != nullptr) ::munmap(map_, size_);
}

}  // namespace kuajing::app
