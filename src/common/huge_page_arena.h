// HugePageArena: memory for an allocator's own heap, in regions the kernel backs with 2 MiB pages
// (transparent huge pages, madvise(MADV_HUGEPAGE)) as they are first touched.
//
// Why: on the machines kuajing is measured on (virtual machines), a 4 KiB page touched for the
// first time costs about 11 µs (common/zeroed_array.h), and tcmalloc's heap, grown a page at a
// time, took such faults all through a run; the load generator, in the same binary, spent most
// of its kernel time in them. With its heap in huge pages the server took 7-14 % less CPU per
// clearance and the load generator 75 % less (bench/README.md, "What changed"). The program
// hands this to tcmalloc (src/heap.cc); without tcmalloc nothing uses it.
//
// Regions are 64 MiB of address space, 2 MiB aligned, mapped as the process needs them; memory is
// only physical once touched. What Take hands out is never given back (an allocator's system
// memory never is: tcmalloc returns unused pages to the kernel inside it, with madvise).
//
// Thread safety: Take may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

namespace kuajing {

class HugePageArena {
 public:
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kRegion = size_t{64} << 20;

  // `size` bytes aligned to `alignment` (a power of two; at least 4 KiB is used), zeroed as new
  // anonymous memory is; null if the kernel gives no more address space.
  void* Take(size_t size, size_t alignment);

  // Bytes of address space mapped so far.
  size_t mapped() const;

 private:
  mutable std::mutex mu_;
  uintptr_t next_ = 0;  // the first free byte of the current region
  uintptr_t end_ = 0;   // the end of the current region
  size_t mapped_ = 0;
};

}  // namespace kuajing
