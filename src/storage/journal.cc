#include "storage/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/crc32c.h"
#include "common/files.h"

namespace kuajing::storage {

namespace fs = std::filesystem;

namespace {

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint64_t GetLe(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

uint32_t FrameCrc(const char* number_le, std::string_view payload) {
  return Crc32c(payload, Crc32c(std::string_view(number_le, 8)));
}

constexpr const char* kSpareName = "spare";

std::string SegmentName(uint64_t first) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.log", static_cast<unsigned long long>(first));
  return name;
}

Status Errno(const std::string& what, int err) {
  return Unavailable(what + ": " + std::strerror(err));
}

StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + path, errno);
  std::string data;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Errno("cannot read " + path, err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

}  // namespace

struct Journal::Segment {
  explicit Segment(int f) : fd(f) {}
  ~Segment() { ::close(fd); }
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  int fd;
};

Journal::~Journal() = default;

StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& dir, uint64_t after,
                                                 const ReplayFn& replay, Options options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create the journal folder " + dir + ": " + ec.message());
  auto j = std::unique_ptr<Journal>(new Journal);
  j->dir_ = dir;
  j->options_ = options;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 24 || !name.ends_with(".log") ||
        !std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    j->segments_.emplace_back(std::stoull(name.substr(0, 20)), entry.path().string());
  }
  if (ec) return Unavailable("cannot list the journal folder " + dir + ": " + ec.message());
  std::sort(j->segments_.begin(), j->segments_.end());
  const std::string spare = (fs::path(dir) / kSpareName).string();
  if (fs::is_regular_file(spare, ec)) j->spare_ = spare;  // anything else there is not ours
  // No journal yet (a new store, or one from before the journal): numbering goes on from what the
  // caller already holds.
  if (j->segments_.empty()) j->last_ = after;

  for (size_t s = 0; s < j->segments_.size(); ++s) {
    const auto& [first, path] = j->segments_[s];
    const bool last_segment = s + 1 == j->segments_.size();
    if (s > 0 && first != j->last_ + 1) {
      return Internal("journal segment " + path + " begins at frame " + std::to_string(first) +
                      " but the one before it ends at " + std::to_string(j->last_) +
                      ": frames are missing; restore the journal folder from a backup");
    }
    if (s == 0) j->last_ = first - 1;
    auto data = ReadFile(path);
    if (!data.ok()) return data.status();
    size_t at = 0;
    std::string torn;  // why the frame at `at` is not whole ("" if every frame is)
    while (at < data->size()) {
      const char* p = data->data() + at;
      const size_t left = data->size() - at;
      if (left < kHeaderBytes) {
        torn = "a frame header is cut short";
        break;
      }
      const uint64_t len = GetLe(p, 4);
      const uint64_t number = GetLe(p + 8, 8);
      if (len == 0 || len > kMaxPayload || left - kHeaderBytes < len) {
        torn = "a frame's length runs past the end of the file";
        break;
      }
      const std::string_view payload(p + kHeaderBytes, len);
      if (FrameCrc(p + 8, payload) != static_cast<uint32_t>(GetLe(p + 4, 4))) {
        torn = "a frame's checksum does not match its contents";
        break;
      }
      if (number != j->last_ + 1) {
        torn = "frame " + std::to_string(number) + " follows frame " + std::to_string(j->last_);
        break;
      }
      if (number > after) KJ_RETURN_IF_ERROR(replay(number, payload));
      j->last_ = number;
      at += kHeaderBytes + len;
    }
    if (!torn.empty()) {
      if (!last_segment) {
        return Internal("journal segment " + path + " is damaged at byte " + std::to_string(at) +
                        " (" + torn +
                        ") and is not the last segment, so a crash cannot explain it; restore the "
                        "journal folder from a backup");
      }
      // The append that was in progress when the process or the machine stopped: never
      // acknowledged, so it is cut off.
      if (::truncate(path.c_str(), static_cast<off_t>(at)) != 0)
        return Errno("cannot cut the torn end off " + path, errno);
      data->resize(at);
    }
    if (last_segment && data->size() < options.segment_bytes) {
      const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return Errno("cannot open " + path + " to append", errno);
      j->current_ = std::make_shared<Segment>(fd);
      j->current_path_ = path;
      j->current_bytes_ = data->size();
      if (!torn.empty() && ::fdatasync(fd) != 0) return Errno("cannot flush " + path, errno);
    }
  }
  if (!j->current_) KJ_RETURN_IF_ERROR(j->StartSegment());
  return j;
}

Status Journal::StartSegment() {
  const uint64_t first = last_ + 1;
  const std::string path = (fs::path(dir_) / SegmentName(first)).string();
  std::string spare;
  {
    std::lock_guard<std::mutex> lock(mu_);
    spare.swap(spare_);
  }
  int fd = -1;
  // Never over a file of that name (there is none unless the folder was tampered with: then the
  // create below fails as it did before segments were recycled).
  if (!spare.empty() &&
      ::renameat2(AT_FDCWD, spare.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) {
    fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);  // recycled: written over from its start
    if (fd < 0) return Errno("cannot open " + path, errno);
  } else {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("cannot create " + path, errno);
  }
  auto segment = std::make_shared<Segment>(fd);
  // The new file's name must survive a power loss before any frame in it is acknowledged.
  KJ_RETURN_IF_ERROR(SyncDir(dir_));
  std::lock_guard<std::mutex> lock(mu_);
  segments_.emplace_back(first, path);
  current_ = std::move(segment);
  current_path_ = path;
  current_bytes_ = 0;
  return Status::Ok();
}

StatusOr<uint64_t> Journal::Append(std::string_view payload) {
  if (!broken_.ok()) return broken_;
  if (payload.empty() || payload.size() > kMaxPayload) {
    return InvalidArgument("a journal frame holds 1 to 2^30 bytes, not " +
                           std::to_string(payload.size()));
  }
  if (current_bytes_ >= options_.segment_bytes) {
    const auto began = std::chrono::steady_clock::now();
    // Everything in the full segment becomes durable before appends move on: Sync() flushes only
    // the segment being appended to. A recycled segment's earlier frames after the new ones go
    // first (only the last segment may end in anything but whole frames).
    if (::ftruncate(current_->fd, static_cast<off_t>(current_bytes_)) != 0) {
      broken_ = Errno("cannot cut the journal segment " + current_path_, errno);
      return broken_;
    }
    if (::fdatasync(current_->fd) != 0) {
      broken_ = Errno("cannot flush the journal segment " + current_path_, errno);
      return broken_;
    }
    Status st = StartSegment();
    if (!st.ok()) {
      broken_ = st;
      return st;
    }
    rollover_times_.Observe(std::chrono::steady_clock::now() - began);
  }
  const uint64_t number = last_ + 1;
  char header[kHeaderBytes];
  PutU32(header, static_cast<uint32_t>(payload.size()));
  PutU64(header + 8, number);
  PutU32(header + 4, FrameCrc(header + 8, payload));
  iovec iov[2] = {{header, kHeaderBytes}, {const_cast<char*>(payload.data()), payload.size()}};
  size_t done = 0;
  const size_t total = kHeaderBytes + payload.size();
  while (done < total) {
    // Skip what an earlier partial write took.
    iovec rest[2];
    int n = 0;
    size_t skip = done;
    for (const iovec& v : iov) {
      if (skip >= v.iov_len) {
        skip -= v.iov_len;
        continue;
      }
      rest[n++] = {static_cast<char*>(v.iov_base) + skip, v.iov_len - skip};
      skip = 0;
    }
    const ssize_t w = ::pwritev(current_->fd, rest, n, static_cast<off_t>(current_bytes_ + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      broken_ = Errno("cannot append to the journal segment " + current_path_, w < 0 ? errno : EIO);
      return broken_;
    }
    done += static_cast<size_t>(w);
  }
  current_bytes_ += total;
  last_ = number;
  return number;
}

Status Journal::Sync() {
  std::shared_ptr<Segment> segment;
  {
    std::lock_guard<std::mutex> lock(mu_);
    segment = current_;
  }
  if (!segment) return Status::Ok();
  const auto began = std::chrono::steady_clock::now();
  if (::fdatasync(segment->fd) != 0) return Errno("cannot flush the journal", errno);
  sync_times_.Observe(std::chrono::steady_clock::now() - began);
  return Status::Ok();
}

Status Journal::Retire(uint64_t upto) {
  std::vector<std::string> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (segments_.size() > 1 && segments_[1].first - 1 <= upto) {
      done.push_back(segments_.front().second);
      segments_.erase(segments_.begin());
    }
    // The newest becomes the spare (renamed under the lock, so that StartSegment finds it whole).
    // Lost to a power loss, the rename leaves the segment under its name, read again on recovery.
    const std::string spare = (fs::path(dir_) / kSpareName).string();
    if (!done.empty() && spare_.empty() && ::rename(done.back().c_str(), spare.c_str()) == 0) {
      spare_ = spare;
      done.pop_back();
    }
  }
  // A deletion lost to a power loss only means the segment is read again on recovery, and its
  // frames, already applied, are skipped.
  for (const std::string& path : done) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return Errno("cannot delete " + path, errno);
  }
  return Status::Ok();
}

std::vector<std::string> Journal::Segments() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& s : segments_) out.push_back(s.second);
  return out;
}

}  // namespace kuajing::storage
