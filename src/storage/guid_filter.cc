#include "storage/guid_filter.h"

#include <sys/mman.h>

#include <atomic>
#include <bit>
#include <new>

namespace kuajing::storage {

GuidFilter::GuidFilter(size_t bytes) {
  const size_t blocks = std::bit_floor(bytes < kBlockBytes ? size_t{1} : bytes / kBlockBytes);
  block_mask_ = blocks - 1;
  void* p = ::mmap(nullptr, blocks * kBlockBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  words_ = static_cast<uint64_t*>(p);
}

GuidFilter::~GuidFilter() { ::munmap(words_, bytes()); }

// The block from the hash's low bits, the three bits from its top 27 (9 each): apart from the
// block's bits for any table up to 2^37 blocks. TableHash ends with murmur3's finalizer, so every
// bit depends on every byte of the guid.
GuidFilter::Probe GuidFilter::ProbeOf(uint64_t h) const {
  return Probe{static_cast<size_t>(h) & block_mask_,
               {static_cast<uint32_t>(h >> 37) & 511, static_cast<uint32_t>(h >> 46) & 511,
                static_cast<uint32_t>(h >> 55) & 511}};
}

void GuidFilter::Add(uint64_t hash) {
  const Probe p = ProbeOf(hash);
  uint64_t* block = &words_[p.block * kWordsPerBlock];
  for (const uint32_t bit : p.bits) {
    std::atomic_ref<uint64_t>(block[bit >> 6])
        .fetch_or(uint64_t{1} << (bit & 63), std::memory_order_relaxed);
  }
}

bool GuidFilter::MayContain(uint64_t hash) const {
  const Probe p = ProbeOf(hash);
  uint64_t* block = &words_[p.block * kWordsPerBlock];
  for (const uint32_t bit : p.bits) {
    const uint64_t word =
        std::atomic_ref<uint64_t>(block[bit >> 6]).load(std::memory_order_relaxed);
    if ((word & (uint64_t{1} << (bit & 63))) == 0) return false;
  }
  return true;
}

}  // namespace kuajing::storage
