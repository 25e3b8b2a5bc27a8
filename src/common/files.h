// Small helpers for files the store and the engines' snapshot make durable.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "common/status.h"

namespace kuajing {

// Flushes the entries of the folder `dir` (fsync of the folder): a file created in it or renamed
// into it survives a power loss only after this returns OK.
Status SyncDir(const std::string& dir);

// Memory the kernel could give without swapping (MemAvailable in /proc/meminfo), in bytes; 0 if
// it cannot be read.
uint64_t AvailableMemoryBytes();

// Reads a file front to back on a thread of its own, so that a reader going through it in another
// order finds its pages in the page cache. Why: start-up without a snapshot scans the SQL store's
// state table in key order, which is page by page in no order on disk. With the cache cold (after
// a power loss or a reboot) each page is then a random read; read ahead in one stream beside the
// scan, the whole file costs what sequential reads cost (issue 7, bench/README.md: 47.5-49.0
// against 60.1-71.0 s at 10 M documents with the page cache dropped).
//
// Only a file of at most `max_bytes` is read (a file the cache cannot hold would push out the
// pages the scan needs); a file that cannot be opened is passed over: this only makes reads faster.
// The destructor stops the reading at the next chunk and waits for the thread.
class FileWarmer {
 public:
  FileWarmer(const std::string& path, uint64_t max_bytes);
  ~FileWarmer();
  FileWarmer(const FileWarmer&) = delete;
  FileWarmer& operator=(const FileWarmer&) = delete;

  // True if the file is being (or was) read.
  bool started() const { return thread_.joinable(); }
  // Waits until the whole file has been read (or reading failed); returns the bytes read.
  uint64_t Finish();

 private:
  void Run(int fd);
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> read_{0};
};

}  // namespace kuajing
