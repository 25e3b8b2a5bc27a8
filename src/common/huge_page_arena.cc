#include "common/huge_page_arena.h"

#include <sys/mman.h>

namespace kuajing {

void* HugePageArena::Take(size_t size, size_t alignment) {
  if (alignment < 4096) alignment = 4096;
  if ((alignment & (alignment - 1)) != 0 || size > (size_t{1} << 46)) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  uintptr_t at = (next_ + alignment - 1) & ~(uintptr_t{alignment} - 1);
  if (next_ == 0 || at + size > end_ || at + size < at) {
    // A new region, of kRegion or what this request needs, 2 MiB aligned (the kernel can only
    // back an aligned 2 MiB range with a huge page): mapped with a huge page to spare, the ends
    // trimmed. What is left of the region before is not used again: less than the request.
    size_t want = size + (alignment > kHugePage ? alignment : 0);
    if (want < kRegion) want = kRegion;
    want = (want + kHugePage - 1) & ~(kHugePage - 1);
    void* m = ::mmap(nullptr, want + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (m == MAP_FAILED) return nullptr;
    const auto base = reinterpret_cast<uintptr_t>(m);
    const uintptr_t start = (base + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
    if (start > base) ::munmap(m, start - base);
    const uintptr_t tail = base + want + kHugePage;
    if (tail > start + want) ::munmap(reinterpret_cast<void*>(start + want), tail - (start + want));
    // Only a hint: where the kernel has no transparent huge pages, ordinary pages serve.
    ::madvise(reinterpret_cast<void*>(start), want, MADV_HUGEPAGE);
    next_ = start;
    end_ = start + want;
    mapped_ += want;
    at = (next_ + alignment - 1) & ~(uintptr_t{alignment} - 1);
  }
  next_ = at + size;
  return reinterpret_cast<void*>(at);
}

size_t HugePageArena::mapped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mapped_;
}

}  // namespace kuajing
