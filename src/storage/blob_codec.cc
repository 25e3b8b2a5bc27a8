#include "storage/blob_codec.h"

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_forceAttachDict, ZSTD_createCDict_advanced, below
#include <zstd.h>

#include <cstdlib>

namespace kuajing::storage {

namespace {

#include "storage/blob_dictionary_v1.inc"
#include "storage/blob_dictionary_v2.inc"
#include "storage/state_dictionary_v1.inc"

// Level 1: zstd's fastest with full ratio on this text (the generated batches of 100 documents
// shrink 20-30x, single receipts 6x with the dictionary); higher levels gain little on XML this
// repetitive and cost the projector's time.
constexpr int kLevel = 1;

// The slot of a compressed format in BlobCodec::dicts_, or -1.
int SlotOf(BlobFormat format) {
  switch (format) {
    case BlobFormat::kZstdV1:
      return 0;
    case BlobFormat::kZstdStateV1:
      return 1;
    case BlobFormat::kZstdV2:
      return 2;
    default:
      return -1;
  }
}

// The dictionary's bytes of a slot (SlotOf).
std::string_view DictionaryOf(int slot) {
  switch (slot) {
    case 0:
      return BlobDictionaryV1();
    case 1:
      return StateDictionaryV1();
    default:
      return BlobDictionaryV2();
  }
}

}  // namespace

std::string_view BlobDictionaryV1() { return {kBlobDictionaryV1, sizeof(kBlobDictionaryV1) - 1}; }

std::string_view BlobDictionaryV2() {
  return {reinterpret_cast<const char*>(kBlobDictionaryV2), sizeof(kBlobDictionaryV2)};
}

std::string_view StateDictionaryV1() {
  return {reinterpret_cast<const char*>(kStateDictionaryV1), sizeof(kStateDictionaryV1)};
}

BlobCodec::BlobCodec() {
  dctx_ = ZSTD_createDCtx();
  if (!dctx_) std::abort();  // out of memory at start
}

// Made on first use: a codec that only writes messages never loads the formats that only old rows
// use, and the readers load no compression tables.
ZSTD_CCtx_s* BlobCodec::Compressor(int slot) {
  Dictionary& d = dicts_[slot];
  if (d.cctx) return d.cctx;
  const std::string_view text = DictionaryOf(slot);
  d.cctx = ZSTD_createCCtx();
  // The dictionary digested with the parameters ZSTD_createCDict gives it at kLevel, but made
  // without a level: zstd then uses it for every input. Made with a level, it is set aside for
  // inputs of 128 KiB and more (ZSTD_USE_CDICT_PARAMS_SRCSIZE_CUTOFF), whose frames load the
  // dictionary's 32 KiB into the context again and match against it as an external segment:
  // every message of 100 documents of the generated traffic. Now such a message packs 15-20 %
  // faster and 1.7 % larger; below 128 KiB the frames are the same bytes as before
  // (bench/README.md).
  d.cdict = ZSTD_createCDict_advanced(text.data(), text.size(), ZSTD_dlm_byCopy, ZSTD_dct_auto,
                                      ZSTD_getCParams(kLevel, 0, text.size()), ZSTD_defaultCMem);
  if (!d.cctx || !d.cdict) std::abort();  // out of memory
  // Sticky for every frame of this context: the dictionary and a checksum of the content.
  ZSTD_CCtx_refCDict(d.cctx, d.cdict);
  ZSTD_CCtx_setParameter(d.cctx, ZSTD_c_checksumFlag, 1);
  // The XML blobs are whole messages and receipt groups, up to 200 KB and more. For inputs that
  // large zstd copies the dictionary's tables into the context for each frame (a sixth of
  // ingest's copying); using them in place instead made messages of 100 documents 12-13 % faster
  // to pack, 2 % larger (bench/README.md). Only a hint: a zstd that does not know the parameter
  // packs as before.
  if (slot != SlotOf(BlobFormat::kZstdStateV1))
    ZSTD_CCtx_setParameter(d.cctx, ZSTD_c_forceAttachDict, ZSTD_dictForceAttach);
  return d.cctx;
}

ZSTD_DDict_s* BlobCodec::Decompressor(int slot) {
  Dictionary& d = dicts_[slot];
  if (d.ddict) return d.ddict;
  const std::string_view text = DictionaryOf(slot);
  d.ddict = ZSTD_createDDict(text.data(), text.size());
  if (!d.ddict) std::abort();  // out of memory
  return d.ddict;
}

BlobCodec::~BlobCodec() {
  ZSTD_freeDCtx(dctx_);
  for (Dictionary& d : dicts_) {
    ZSTD_freeCCtx(d.cctx);
    ZSTD_freeCDict(d.cdict);
    ZSTD_freeDDict(d.ddict);
  }
}

std::pair<std::string_view, BlobFormat> BlobCodec::Pack(std::string_view in, BlobFormat as) {
  const int slot = SlotOf(as);
  if (slot < 0 || in.size() < kMinPackBytes) return {in, BlobFormat::kPlain};
  const size_t bound = ZSTD_compressBound(in.size());
  if (buffer_.size() < bound) buffer_.resize(bound);
  const size_t n =
      ZSTD_compress2(Compressor(slot), buffer_.data(), buffer_.size(), in.data(), in.size());
  // An error here can only be a bug of ours (the buffer is the bound); storing plain is correct.
  if (ZSTD_isError(n) || n >= in.size()) return {in, BlobFormat::kPlain};
  return {std::string_view(buffer_.data(), n), as};
}

StatusOr<std::string> BlobCodec::Unpack(BlobFormat format, std::string_view stored) {
  if (format == BlobFormat::kPlain) return std::string(stored);
  const int slot = SlotOf(format);
  if (slot < 0) {
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
                                              stored.size(), Decompressor(slot));
  if (ZSTD_isError(n) || n != out.size()) {
    return Internal(std::string("a stored blob is damaged: ") +
                    (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "shorter than its frame says"));
  }
  return out;
}

}  // namespace kuajing::storage
