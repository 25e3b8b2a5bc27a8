#include "app/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/crc32c.h"

namespace kuajing::app {

namespace {

constexpr char kMagic[8] = {'K', 'J', 'S', 'N', 'A', 'P', '\0', '\1'};

Status Errno(const std::string& what, const std::string& path) {
  return Unavailable(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

std::string SnapshotPath(const std::string& data_dir) { return data_dir + "/engine.snapshot"; }

Status WriteSnapshotFile(const std::string& path, std::string_view body) {
  std::string head(kMagic, sizeof kMagic);
  const uint64_t n = body.size();
  head.append(reinterpret_cast<const char*>(&n), sizeof n);
  const uint32_t crc = Crc32c(body);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  auto write_all = [&](const char* p, size_t len) {
    while (len > 0) {
      const ssize_t w = ::write(fd, p, len);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      p += w;
      len -= static_cast<size_t>(w);
    }
    return true;
  };
  const bool ok = write_all(head.data(), head.size()) && write_all(body.data(), body.size()) &&
                  write_all(reinterpret_cast<const char*>(&crc), sizeof crc) &&
                  ::fdatasync(fd) == 0;
  Status st = ok ? Status::Ok() : Errno("cannot write", tmp);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Errno("cannot rename", tmp);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  // The rename itself is durable once the directory is flushed.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Errno("cannot open", dir);
  const int rc = ::fsync(dfd);
  ::close(dfd);
  return rc == 0 ? Status::Ok() : Errno("cannot flush", dir);
}

StatusOr<std::optional<std::string>> ReadSnapshotFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::optional<std::string>();
    return Errno("cannot open", path);
  }
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr size_t kHead = sizeof kMagic + 8;
  if (all.size() < kHead + 4 || std::memcmp(all.data(), kMagic, sizeof kMagic) != 0)
    return Internal(path + " is not a kuajing snapshot of this format");
  uint64_t n;
  std::memcpy(&n, all.data() + sizeof kMagic, 8);
  if (n != all.size() - kHead - 4) return Internal(path + " is cut short or too long");
  uint32_t crc;
  std::memcpy(&crc, all.data() + kHead + n, 4);
  if (Crc32c(std::string_view(all).substr(kHead, n)) != crc)
    return Internal(path + " is damaged (checksum)");
  all.erase(all.size() - 4);
  all.erase(0, kHead);
  return std::optional<std::string>(std::move(all));
}

}  // namespace kuajing::app
