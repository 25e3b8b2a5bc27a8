// Helpers shared by the benchmarks.
#pragma once

#include <cstdint>
#include <fstream>

namespace kuajing::bench {

// Resident memory of this process, bytes (Linux /proc/self/statm). Measure one thing per process:
// RSS does not grow while freed heap is reused.
inline int64_t Rss() {
  std::ifstream in("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * 4096;
}

}  // namespace kuajing::bench
