// TableHash: the hash of the in-memory tables keyed by short texts (common/string_map.h, the
// store's storage::PointerTable indexes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace kuajing {

// This process's seed of TableHash: random, made once at first use (table_hash.cc).
//
// The tables' keys come from outside: an order's number, a waybill's, a message's guid, all
// chosen by the enterprise that sends them. With a hash that is the same in every process, which
// anyone can read in this source, keys that share a slot can be made offline (65,536 tries
// each, on average, for the 16 low bits), and the engine's maps, probing linearly, then walk the
// whole run of them at each insert and at each lookup that lands in it: 16,000 such order keys
// took 200 times as long to insert and 100 times as long to look up as ordinary ones
// (bench/README.md, "What changed"). With the seed unknown, a key's slot cannot be chosen in
// advance. It is not a keyed hash in the cryptographic sense
// (SipHash): the aim is that no table can be filled with collisions made ahead of time.
//
// Never stored: a hash a table keeps across processes is Hash64 (hash.h), with a fixed seed.
namespace internal {
uint64_t NewTableHashSeed();
}  // namespace internal

inline uint64_t TableHashSeed() {
  static const uint64_t seed = internal::NewTableHashSeed();
  return seed;
}

// A fast 64-bit hash of a short text for in-memory tables (never stored: Hash64, hash.h, is the
// one whose values are kept), under `seed`. Eight bytes at a time, each mixed in by a multiply,
// then finished with murmur3's fmix64 so that the low bits, which pick the slot, depend on every
// byte. The seed is the starting state, mixed into every block after it.
inline uint64_t TableHashWithSeed(std::string_view s, uint64_t seed) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t h = ((n + 1) * kMul) ^ seed;
  const auto mix = [&h](uint64_t w) {
    h = (h ^ w) * kMul;
    h ^= h >> 32;
  };
  uint64_t w = 0;
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::memcpy(&w, p + i, 8);
      mix(w);
    }
    // The last bytes as the eight that end the text (overlapping those before: the length,
    // mixed in first, keeps texts of different lengths apart), with fixed-size loads only.
    if (i < n) {
      std::memcpy(&w, p + n - 8, 8);
      mix(w);
    }
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    mix((uint64_t{a} << 32) | b);
  } else if (n > 0) {
    const auto byte = [p](size_t i) { return uint64_t{static_cast<unsigned char>(p[i])}; };
    mix((byte(0) << 16) | (byte(n / 2) << 8) | byte(n - 1));
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// TableHashWithSeed under this process's seed: what every in-memory table uses.
inline uint64_t TableHash(std::string_view s) { return TableHashWithSeed(s, TableHashSeed()); }

}  // namespace kuajing
