#include "common/hash.h"

#include <array>
#include <cstring>

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

std::string DeterministicGuid(std::string_view key) { return DeterministicGuid(&key, 1); }

std::string DeterministicGuid(std::initializer_list<std::string_view> pieces) {
  return DeterministicGuid(pieces.begin(), pieces.size());
}

std::string DeterministicGuid(const std::string_view* pieces, size_t count) {
  // Hash64(key, 1) and Hash64(key, 2) in one pass: two independent multiply chains (a receipt's
  // guid is made for each receipt shown, eight per clearance), over the pieces as one key.
  uint64_t a = kFnvOffset ^ Mix(1), b = kFnvOffset ^ Mix(2);
  for (size_t i = 0; i < count; ++i) {
    for (unsigned char c : pieces[i]) {
      a = (a ^ c) * kFnvPrime;
      b = (b ^ c) * kFnvPrime;
    }
  }
  a = Mix(a);
  b = Mix(b);
  // Two hex digits per byte from a table, most significant first: 8-4-4-4-12.
  static constexpr char kHex[] = "0123456789ABCDEF";
  static const auto kPairs = [] {
    std::array<char, 512> t{};
    for (int i = 0; i < 256; ++i) {
      t[2 * i] = kHex[i >> 4];
      t[2 * i + 1] = kHex[i & 15];
    }
    return t;
  }();
  std::string out(36, '-');
  char* p = out.data();
  int at = 0;
  for (const uint64_t word : {a, b}) {
    for (int shift = 56; shift >= 0; shift -= 8, at += 2) {
      if (at == 8 || at == 12 || at == 16 || at == 20) ++p;  // past a hyphen
      std::memcpy(p, &kPairs[2 * ((word >> shift) & 0xFF)], 2);
      p += 2;
    }
  }
  return out;
}

}  // namespace kuajing
