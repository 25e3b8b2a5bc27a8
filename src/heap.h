// The program's heap (tcmalloc's, when linked: CMakeLists.txt) in transparent huge pages.
#pragma once

namespace kuajing {

// Call first thing in main, before any thread starts. Unless the environment sets
// KJ_HUGE_PAGES=0:
// - tcmalloc takes the memory it grows its heap by from a common::HugePageArena (2 MiB pages as
//   the kernel can give them), falling back to its own way if that fails;
// - tcmalloc keeps the memory it frees for reuse instead of returning it to the kernel page by
//   page (which splits the huge pages and faults them in again), unless the environment sets
//   TCMALLOC_RELEASE_RATE.
// Does nothing in a build without tcmalloc (the sanitizers' and the fuzzer's).
void UseHugePagesForTheHeap();

}  // namespace kuajing
