#include "common/table_hash.h"

#include <sys/random.h>

#include <chrono>

namespace kuajing::internal {

uint64_t NewTableHashSeed() {
  uint64_t seed = 0;
  // The kernel's random bytes (getrandom(2), which does not block once the pool is ready at
  // boot). Should it fail, the time and this code's address still differ from process to
  // process: weaker, but never the fixed seed an outsider could plan against.
  if (::getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    seed = static_cast<uint64_t>(now) ^ reinterpret_cast<uintptr_t>(&NewTableHashSeed);
  }
  // Never zero, so that a test can tell the seed is in use (TableHash.TheSeedIsThisProcesss).
  return seed | 1;
}

}  // namespace kuajing::internal
