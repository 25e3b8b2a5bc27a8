#include "storage/blob_codec.h"

#include <zstd.h>

#include <cstdlib>

namespace kuajing::storage {

namespace {

#include "storage/blob_dictionary_v1.inc"

// Level 1: zstd's fastest with full ratio on this text (the generated batches of 100 documents
// shrink 20-30x, single receipts 6x with the dictionary); higher levels gain little on XML this
// repetitive and cost the projector's time.
constexpr int kLevel = 1;

}  // namespace

std::string_view BlobDictionaryV1() { return {kBlobDictionaryV1, sizeof(kBlobDictionaryV1) - 1}; }

BlobCodec::BlobCodec() {
  const std::string_view dict = BlobDictionaryV1();
  cctx_ = ZSTD_createCCtx();
  dctx_ = ZSTD_createDCtx();
  cdict_ = ZSTD_createCDict(dict.data(), dict.size(), kLevel);
  ddict_ = ZSTD_createDDict(dict.data(), dict.size());
  if (!cctx_ || !dctx_ || !cdict_ || !ddict_) std::abort();  // out of memory at start
  // Sticky for every frame of this context: the dictionary and a checksum of the content.
  ZSTD_CCtx_refCDict(cctx_, cdict_);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
}

BlobCodec::~BlobCodec() {
  ZSTD_freeCCtx(cctx_);
  ZSTD_freeDCtx(dctx_);
  ZSTD_freeCDict(cdict_);
  ZSTD_freeDDict(ddict_);
}

std::pair<std::string_view, BlobFormat> BlobCodec::Pack(std::string_view in) {
  if (in.size() < kMinPackBytes) return {in, BlobFormat::kPlain};
  const size_t bound = ZSTD_compressBound(in.size());
  if (buffer_.size() < bound) buffer_.resize(bound);
  const size_t n = ZSTD_compress2(cctx_, buffer_.data(), buffer_.size(), in.data(), in.size());
  // An error here can only be a bug of ours (the buffer is the bound); storing plain is correct.
  if (ZSTD_isError(n) || n >= in.size()) return {in, BlobFormat::kPlain};
  return {std::string_view(buffer_.data(), n), BlobFormat::kZstdV1};
}

StatusOr<std::string> BlobCodec::Unpack(BlobFormat format, std::string_view stored) {
  switch (format) {
    case BlobFormat::kPlain:
      return std::string(stored);
    case BlobFormat::kZstdV1:
      break;
    default:
      return Internal("a stored blob has format " + std::to_string(static_cast<int64_t>(format)) +
                      ", which this kuajing does not know (written by a newer version?)");
  }
  const unsigned long long size = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
      size > kMaxUnpackedBytes) {
    return Internal("a stored blob is damaged: not a zstd frame of known size");
  }
  std::string out(static_cast<size_t>(size), '\0');
  const size_t n = ZSTD_decompress_usingDDict(dctx_, out.data(), out.size(), stored.data(),
                                              stored.size(), ddict_);
  if (ZSTD_isError(n) || n != out.size()) {
    return Internal(std::string("a stored blob is damaged: ") +
                    (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "shorter than its frame says"));
  }
  return out;
}

}  // namespace kuajing::storage
