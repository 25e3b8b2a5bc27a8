// The engines' snapshot: a file beside the store (DIR/engine.snapshot) holding what start-up
// would otherwise rebuild by reading, unpacking and decoding every list the zone ever stored
// (issue 7, goal 5: 48-59 s at 10 M documents, growing with the history). It holds the import
// engine's annual amounts and names, the fingerprints and counts of the clearances out of memory,
// its risk windows and numbering, the keys of the rows it holds in memory, and the statistics
// (clearance::Engine::SaveSnapshot, stats::Aggregates::SaveTo). The export engine and the credit
// book read their own rows as before.
//
// It is a cache, never the record: the journal and SQLite are. It is written when the platform
// stops with everything committed (Platform::SaveSnapshot), stamped with the number of the last
// journal frame and the last receipt id. Platform::Open uses it only if the store's are the same
// (nothing was committed since: a crash after new commits, or another store, is a full start),
// the risk rules keep the same span, and the file's checksum and format hold; otherwise it reads
// every row as before and says why (Platform::start_note).
//
// The file: "KJSNAP\0\2", the body, then the body's length (8 bytes) and CRC-32C (4 bytes). It is
// written to a file beside, piece by piece as the parts are made (so the whole body is never held
// twice in memory), flushed, and renamed over the old one, so a crash leaves the old or the new
// one, never half of one. It is read through a mapping of the file, not a copy. Integers are in
// the machine's byte order: it is read back on the machine that wrote it (another order fails
// the magic).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kuajing::app {

// The file under the data directory.
std::string SnapshotPath(const std::string& data_dir);

// Writes a snapshot file: Append the body's pieces in order, then Finish. Until Finish returns
// OK the file at `path` is the old one (or none); destroying an unfinished writer removes what
// it wrote.
class SnapshotWriter {
 public:
  static StatusOr<SnapshotWriter> Create(const std::string& path);
  SnapshotWriter(SnapshotWriter&& o) noexcept;
  SnapshotWriter& operator=(SnapshotWriter&&) = delete;
  SnapshotWriter(const SnapshotWriter&) = delete;
  ~SnapshotWriter();

  // Writes `piece` and clears it (its capacity stays, for the next piece).
  Status Append(std::string& piece);
  // The trailer, fdatasync, the rename, and the directory's flush.
  Status Finish();

 private:
  explicit SnapshotWriter(std::string path) : path_(std::move(path)) {}
  std::string path_;
  int fd_ = -1;
  uint64_t length_ = 0;
  uint32_t crc_ = 0;
};

// A snapshot file mapped into memory, its magic, length and checksum checked.
class SnapshotFile {
 public:
  // nullopt if there is no file at `path`; an error if it is not a snapshot (cut short, damaged,
  // another format).
  static StatusOr<std::optional<SnapshotFile>> Open(const std::string& path);
  SnapshotFile(SnapshotFile&& o) noexcept;
  SnapshotFile& operator=(SnapshotFile&&) = delete;
  SnapshotFile(const SnapshotFile&) = delete;
  ~SnapshotFile();

  std::string_view body() const { return body_; }

 private:
  SnapshotFile() = default;
  void* map_ = nullptr;
  size_t size_ = 0;
  std::string_view body_;
};

}  // namespace kuajing::app
