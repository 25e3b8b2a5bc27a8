// GuidFilter: a Bloom filter of the message guids a store holds, so that the repeat check of a new
// message (Store::MessagesStored) needs no lookup in SQLite's index of guids: "not there" is
// certain, "maybe there" is asked of SQLite as before. A lookup per new message was a fifth of
// the writer's time with one document per message (bench/README.md), and the index it reads
// grows with the history.
//
// Blocked (Putze, Sanders and Singler, "Cache-, hash- and space-efficient Bloom filters", 2007):
// each guid sets three bits of one 64-byte block, so a look touches one cache line. The size is
// fixed when made; with more guids than it was made for the answers are "maybe" more often,
// never wrong (the journaled store makes a larger one then, up to 64 MiB).
//
// Its memory is an anonymous mapping of its own, zero pages until written: a store of a few
// messages (every test) touches a few pages of it, not 32 MiB.
//
// Add and MayContain may run on several threads at once (each word is read and written through
// std::atomic_ref).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/table_hash.h"

namespace kuajing::storage {

class GuidFilter {
 public:
  // `bytes`: rounded down to a power of two, at least one block (64 bytes).
  // Throws std::bad_alloc if the mapping fails.
  explicit GuidFilter(size_t bytes);
  ~GuidFilter();
  GuidFilter(const GuidFilter&) = delete;
  GuidFilter& operator=(const GuidFilter&) = delete;

  // `hash` is the guid's TableHash (storage::HashOfGuid, which the journaled store has made for
  // its own index already); the overloads taking the guid make it.
  void Add(uint64_t hash);
  void Add(std::string_view guid) { Add(TableHash(guid)); }
  // False only if the guid was never added.
  bool MayContain(uint64_t hash) const;
  bool MayContain(std::string_view guid) const { return MayContain(TableHash(guid)); }
  size_t bytes() const { return (block_mask_ + 1) * kBlockBytes; }

 private:
  static constexpr size_t kBlockBytes = 64;
  static constexpr size_t kWordsPerBlock = kBlockBytes / 8;
  // The block and the three bits (each a word of the block and a bit of it) of a guid's hash.
  struct Probe {
    size_t block;
    uint32_t bits[3];  // bit index within the block, 0..511
  };
  Probe ProbeOf(uint64_t hash) const;

  size_t block_mask_;
  uint64_t* words_;
};

}  // namespace kuajing::storage
