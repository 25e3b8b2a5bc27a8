// Small deterministic hashes: receipt guids and random inspection must come out the same on every
// run and every replay, so they are derived from the input, never from a global RNG.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kuajing {

// 64-bit FNV-1a, finished with the splitmix64 mixer for good bit spread.
uint64_t Hash64(std::string_view data, uint64_t seed = 0);

// An upper-case, hyphenated 36-character id (the standard's guid format) derived from `key`.
std::string DeterministicGuid(std::string_view key);

}  // namespace kuajing
