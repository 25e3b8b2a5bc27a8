#include "heap.h"

#include <cstdlib>
#include <cstring>

#include "common/huge_page_arena.h"

#if defined(KJ_WITH_TCMALLOC)
#include <gperftools/malloc_extension.h>
#endif

namespace kuajing {

#if defined(KJ_WITH_TCMALLOC)
namespace {

// tcmalloc's source of new memory (gperftools' SysAllocator), called with tcmalloc's own lock
// held, for a megabyte or more at a time.
class HugePageSysAllocator : public SysAllocator {
 public:
  explicit HugePageSysAllocator(SysAllocator* fallback) : fallback_(fallback) {}

  void* Alloc(size_t size, size_t* actual_size, size_t alignment) override {
    if (void* p = arena_.Take(size, alignment)) {
      if (actual_size != nullptr) *actual_size = size;
      return p;
    }
    // Out of address space for a new region: tcmalloc's own allocator may still find some.
    return fallback_ != nullptr ? fallback_->Alloc(size, actual_size, alignment) : nullptr;
  }

 private:
  HugePageArena arena_;
  SysAllocator* fallback_;
};

}  // namespace

void UseHugePagesForTheHeap() {
  if (const char* off = std::getenv("KJ_HUGE_PAGES"); off != nullptr && std::strcmp(off, "0") == 0)
    return;
  MallocExtension* m = MallocExtension::instance();
  // Made once for the life of the process, never freed: tcmalloc calls it until the end.
  static HugePageSysAllocator* const allocator = new HugePageSysAllocator(m->GetSystemAllocator());
  m->SetSystemAllocator(allocator);
  if (std::getenv("TCMALLOC_RELEASE_RATE") == nullptr) m->SetMemoryReleaseRate(0);
}

#else

void UseHugePagesForTheHeap() {}

#endif

}  // namespace kuajing
