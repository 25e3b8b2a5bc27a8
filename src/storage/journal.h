// The journal: an append-only log of frames in segment files, the store's durable record
// (storage/journaled_store.h). One append per group commit, one fdatasync per flush; a frame is
// never rewritten (only the bytes of a retired segment are, once it is recycled; below).
//
// On disk: DIR/NNNNNNNNNNNNNNNNNNNN.log, each segment named by the number of its first frame
// (20 digits, so names sort in frame order). A frame is
//   u32 payload length, u32 CRC-32C of (number, payload), u64 number  (little-endian)
//   payload
// and frames are numbered 1, 2, 3, ... without gaps across segments.
//
// Segments are recycled: the newest one retired is kept as DIR/spare and becomes the next segment
// (renamed, then written over from its start), so that appends overwrite blocks the file system
// has allocated already instead of growing a file. Each flush of a growing file also committed
// its new blocks and size to the file system's own journal: on these machines recycled segments
// flushed faster (fdatasync p50 0.23-0.32 against 0.36-0.51 ms, 30-frame bursts of 30 KB) and
// the server cleared 1-35 % more (bench/README.md). A recycled segment holds the frames of its
// earlier life after the new ones until it is full: their numbers are lower than any frame the
// segment can follow, so recovery takes the first of them for the end of the log, as it takes a
// torn frame, and cuts it off; a segment is cut to its frames' end before the next one begins.
//
// Recovery (Open): every frame of every segment is read and checked. The last segment may end in
// a torn frame (the process died, or the machine lost power, in the middle of an append): that
// frame was never acknowledged (acknowledgement waits for Sync), so the segment is cut back to
// its last whole frame. Damage anywhere else (a bad checksum in an earlier segment, a gap in the
// numbers) is not a crash's doing: Open refuses, naming the file and offset, and changes nothing.
//
// Thread safety: Append from one thread (the writer); Sync, Retire and Segments from any thread, at
// the same time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/histogram.h"
#include "common/status.h"

namespace kuajing::storage {

class Journal {
 public:
  struct Options {
    // A segment is closed and a new one begun once it holds this much; Retire deletes whole
    // segments only.
    uint64_t segment_bytes = uint64_t{64} << 20;
  };
  // The largest payload a frame may carry (a group commit of 256 messages of at most 10 MiB is
  // far below it); a larger length read back is damage, not data.
  static constexpr uint32_t kMaxPayload = 1u << 30;
  static constexpr size_t kHeaderBytes = 16;

  // Opens (creating if needed) the journal in `dir`, recovers it as described above, and calls
  // `replay` with every frame numbered above `after`, in order (an empty journal numbers its first
  // frame after + 1). Unavailable on an I/O error,
  // Internal on damage that a crash cannot explain.
  using ReplayFn = std::function<Status(uint64_t number, std::string_view payload)>;
  static StatusOr<std::unique_ptr<Journal>> Open(const std::string& dir, uint64_t after,
                                                 const ReplayFn& replay, Options options);
  static StatusOr<std::unique_ptr<Journal>> Open(const std::string& dir, uint64_t after,
                                                 const ReplayFn& replay) {
    return Open(dir, after, replay, Options());
  }
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one frame and returns its number. Durable once a later Sync() returns OK. After a
  // failed append every later one fails too (what reached the file is unknown).
  StatusOr<uint64_t> Append(std::string_view payload);
  // Makes every frame appended so far durable (fdatasync).
  Status Sync();
  // Deletes the segments whose frames are all numbered `upto` or below (never the one being
  // appended to): the caller has made their contents durable elsewhere. The newest of them is
  // kept as the spare when there is none.
  Status Retire(uint64_t upto);

  uint64_t last_number() const { return last_; }
  // How long each Sync's fdatasync took, and each change of segment inside Append (the full
  // segment cut and flushed, the next one begun: the appender waits for it). For /metrics.
  const DurationHistogram& sync_times() const { return sync_times_; }
  const DurationHistogram& rollover_times() const { return rollover_times_; }
  // The segment files, oldest first (tests, and the operator's `status`).
  std::vector<std::string> Segments() const;

 private:
  struct Segment;
  Journal() = default;
  Status StartSegment();

  std::string dir_;
  Options options_;
  uint64_t last_ = 0;
  Status broken_ = Status::Ok();
  std::vector<std::pair<uint64_t, std::string>> segments_;  // first number, path; oldest first
  mutable std::mutex mu_;  // guards segments_ and current_ (Append changes them, others read)
  std::shared_ptr<Segment> current_;
  std::string current_path_;
  uint64_t current_bytes_ = 0;
  std::string spare_;  // DIR/spare while a retired segment waits to be the next one; guarded by mu_
  DurationHistogram sync_times_;
  DurationHistogram rollover_times_;
};

}  // namespace kuajing::storage
