// How the SQL store keeps its large columns, the raw bytes of each message, each message's group
// of receipts and the value of each state row: compressed with zstd against a frozen dictionary
// (issue 7: "compression of stored raw messages"). Messages and receipts were 12 of the 17 KB a
// clearance wrote into SQLite, then again into its log and again at each checkpoint; compressed
// they are 7x smaller on generated traffic. State rows were then 3.1 of the 4 KB a clearance
// left in the store; compressed against their own dictionary they are 2.7x smaller.
//
// Each row says how its blob is stored in a format column beside it, so rows written before
// (format 0) read as they always did and a store never needs rewriting. A format number, once
// used, keeps its meaning forever: a new dictionary or codec takes a new number.
//
// Lossless: Unpack returns the bytes Pack was given, byte for byte (the raw message is the legal
// record). Each frame carries zstd's checksum of its content, so damage on disk is reported, not
// returned as a different message.
//
// Not thread-safe: one BlobCodec per connection (the SQL store's calls are serialized already).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;
struct ZSTD_CDict_s;
struct ZSTD_DDict_s;

namespace kuajing::storage {

enum class BlobFormat : int64_t {
  kPlain = 0,   // the bytes as given: rows of stores made before, and blobs compression cannot help
  kZstdV1 = 1,  // a zstd frame (level 1, content checksum) made with kBlobDictionaryV1 (XML)
  kZstdStateV1 = 2,  // the same made with kStateDictionaryV1 (the engines' state rows)
  // The same made with kBlobDictionaryV2 (trained, with entropy tables): what Pack writes for XML
  // blobs (messages, receipt groups) since 2026-12-06. Small blobs pack 3-4x faster and about
  // half as large as with format 1.
  kZstdV2 = 3,
};

class BlobCodec {
 public:
  // Blobs shorter than this are stored plain: a zstd frame has about 12 bytes of overhead.
  static constexpr size_t kMinPackBytes = 64;
  // The largest blob Unpack restores; a frame claiming more is damage (messages are limited to
  // 8 MiB by default, `limits.max_message_bytes`).
  static constexpr uint64_t kMaxUnpackedBytes = uint64_t{1} << 30;

  BlobCodec();
  ~BlobCodec();
  BlobCodec(const BlobCodec&) = delete;
  BlobCodec& operator=(const BlobCodec&) = delete;

  // The bytes to store for `in`, and their format: `as` (kZstdV2 for messages and receipt
  // groups, kZstdStateV1 for a state row; kZstdV1 only for tests), or kPlain where compression
  // does not pay. The view points into `in` (kPlain) or into this codec's buffer (compressed),
  // valid until the next Pack.
  std::pair<std::string_view, BlobFormat> Pack(std::string_view in,
                                               BlobFormat as = BlobFormat::kZstdV2);

  // The original bytes of a stored blob. Internal if the blob is damaged (bad frame, checksum
  // mismatch, a size beyond kMaxUnpackedBytes) or the format is unknown (a newer kuajing wrote it).
  StatusOr<std::string> Unpack(BlobFormat format, std::string_view stored);

 private:
  // One per compressed format: a context of its own, so each keeps its dictionary loaded. Each
  // part is made on first use (Compressor, Decompressor).
  struct Dictionary {
    ZSTD_CCtx_s* cctx = nullptr;
    ZSTD_CDict_s* cdict = nullptr;
    ZSTD_DDict_s* ddict = nullptr;
  };
  static constexpr int kDictionaries = 3;  // kZstdV1, kZstdStateV1, kZstdV2
  ZSTD_CCtx_s* Compressor(int slot);
  ZSTD_DDict_s* Decompressor(int slot);

  Dictionary dicts_[kDictionaries];
  ZSTD_DCtx_s* dctx_ = nullptr;
  std::vector<char> buffer_;  // Pack's output; grows, never shrinks (no zero-fill per call)
};

// The dictionaries of kZstdV1, kZstdV2 and kZstdStateV1, for tests.
std::string_view BlobDictionaryV1();
std::string_view BlobDictionaryV2();
std::string_view StateDictionaryV1();

}  // namespace kuajing::storage
