// Small deterministic hashes: receipt guids and random inspection must come out the same on every
// run and every replay, so they are derived from the input, never from a global RNG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace kuajing {

// 64-bit FNV-1a, finished with the splitmix64 mixer for good bit spread.
uint64_t Hash64(std::string_view data, uint64_t seed = 0);

// An upper-case, hyphenated 36-character id (the standard's guid format) derived from `key`.
std::string DeterministicGuid(std::string_view key);
// The same of the pieces' concatenation, without making it.
std::string DeterministicGuid(std::initializer_list<std::string_view> pieces);
std::string DeterministicGuid(const std::string_view* pieces, size_t count);

}  // namespace kuajing
