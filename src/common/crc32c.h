// CRC-32C (Castagnoli), the checksum of the journal's frames (storage/journal.h): a torn or
// damaged frame is found on recovery instead of being read as data. Uses the CPU's crc32
// instruction where there is one (SSE 4.2), a table otherwise; both give the same value.
#pragma once

#include <cstdint>
#include <string_view>

namespace kuajing {

// The CRC-32C of `data`, continuing from `crc` (the value of the bytes before it; 0 to start).
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace kuajing
