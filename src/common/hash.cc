#include "common/hash.h"

namespace kuajing {

namespace {
// FNV-1a, 64 bits.
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL, kFnvPrime = 0x100000001b3ULL;

uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

uint64_t Hash64(std::string_view data, uint64_t seed) {
  uint64_t h = kFnvOffset ^ Mix(seed);
  for (unsigned char c : data) h = (h ^ c) * kFnvPrime;
  return Mix(h);
}

std::string DeterministicGuid(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // Hash64(key, 1) and Hash64(key, 2) in one pass: two independent multiply chains (a receipt's
  // guid is made on the writer thread, eight per clearance).
  uint64_t a = kFnvOffset ^ Mix(1), b = kFnvOffset ^ Mix(2);
  for (unsigned char c : key) {
    a = (a ^ c) * kFnvPrime;
    b = (b ^ c) * kFnvPrime;
  }
  a = Mix(a);
  b = Mix(b);
  char out[36];
  size_t n = 0;
  for (int i = 0; i < 32; ++i) {
    const uint64_t word = i < 16 ? a : b;
    const int shift = 60 - 4 * (i % 16);
    if (i == 8 || i == 12 || i == 16 || i == 20) out[n++] = '-';
    out[n++] = kHex[(word >> shift) & 0xF];
  }
  return std::string(out, sizeof out);
}

}  // namespace kuajing
