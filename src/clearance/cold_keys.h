// The keys of the clearances the engine keeps only in the store (issue 7, goal 4: a busy zone's
// year does not fit in memory as documents). A decided clearance (released, closed or returned)
// leaves memory; what stays is a 16-bit fingerprint of each key a new document may name (its order,
// payment and waybill): about 3 bytes per key.
//
// It answers "maybe stored" or "certainly not". A fingerprint can collide: a lookup of a key that
// is not there claims it about once in 4,000 lookups at 300,000 keys (cold_keys_test), and up to
// once in 700 at 100 million, where each of about 11 tables adds its share. The engine then reads
// the store and finds nothing, which costs one read and changes no answer. It never forgets a
// key: a clearance read back into memory keeps its fingerprints. Inserting a key the newest table
// holds adds nothing; a key only an older table holds gets a second fingerprint in the newest (an
// Insert looks in one table, not in every one).
//
// The fingerprints sit in open-addressing tables, the slot chosen by the hash's low bits. A table
// cannot grow (the hash is not kept, so a fingerprint cannot be moved to its slot in a bigger
// table): when the newest table is 3/4 full a new one twice its size is begun, and a lookup tries
// each (about 11 tables at 100 million keys).
//
// Thread safety: none; the engine's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/varint.h"
#include "common/zeroed_array.h"

namespace kuajing::clearance {

class ColdKeys {
 public:
  // `tag` separates the kinds of key ('o' order, 'p' payment, 'w' waybill).
  void Insert(char tag, std::string_view key);
  bool MayContain(char tag, std::string_view key) const;

  // Fingerprints held: keys inserted, less those that collided with one in the newest table
  // (a key inserted again counts once if the newest table holds it, else twice).
  size_t size() const { return size_; }
  size_t bytes() const;

  // The tables as they are, for the engine's snapshot (app/snapshot.h); LoadFrom replaces this
  // set's contents with what SaveTo wrote and marks `in` bad if it is not that.
  void SaveTo(std::string& out) const;
  void LoadFrom(VarintReader& in);

 private:
  struct Table {
    // A power of two; 0: empty. Made without writing it: a new table of 16M keys is 32 MiB, whose
    // page faults, all in the insert that made it, were 100 ms and more (common/zeroed_array.h).
    ZeroedArray<uint16_t> slots;
    size_t used = 0;
  };
  static bool Find(const Table& t, uint64_t h, uint16_t f);

  std::vector<Table> tables_;  // oldest first, each twice the size of the one before
  size_t size_ = 0;
  // The next table's slots, allocated once the newest table is 5/8 full and zeroed a page at each
  // insert, so that no insert takes all of its page faults (common/zeroed_array.h).
  ZeroedArray<uint16_t> next_;
  size_t next_zeroed_ = 0;
};

}  // namespace kuajing::clearance
