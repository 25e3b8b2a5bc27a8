// The annual amounts per buyer and year (the 26,000 CNY limit: 财关税〔2018〕49号 §1,
// domain-reference 4.1), and the names each buyer ID was declared with (the public quota query asks
// for ID and name, so that an ID alone reveals nothing), held compactly: a busy zone has ten
// million buyers a year and all of them stay in memory (issue 7, goal 4).
//
// A resident identity number (18 characters: 17 digits and a check digit or X; GB 11643-1999,
// domain-reference 6.2) packs into 64 bits; with the year and the amount an entry is 24 bytes in
// an open-addressing table, and each (ID, name) pair 16 bytes (the name kept as a 64-bit hash: the
// query only compares). Any other form of ID goes to an ordinary map beside them. The tables grow
// a little at each insert, never all at once (common/linear_table.h).
// bench/memory_bench measures the bytes per buyer (`--benchmark_filter=Buyers`).
//
// Thread safety: none; the engine's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/decimal.h"
#include "common/linear_table.h"
#include "common/varint.h"

namespace kuajing::clearance {

class QuotaBook {
 public:
  // The amount counted for `buyer_id` in `year` (zero if none), to be changed in place.
  Decimal& Used(std::string_view buyer_id, int year);
  // The same without adding an entry.
  Decimal Find(std::string_view buyer_id, int year) const;

  void NoteName(std::string_view buyer_id, std::string_view name);
  bool KnownAs(std::string_view buyer_id, std::string_view name) const;

  size_t entries() const { return slots_.used() + other_.size(); }

  // The tables as they are, for the engine's snapshot (app/snapshot.h); LoadFrom replaces this
  // book's contents with what SaveTo wrote and marks `in` bad if it is not that.
  void SaveTo(std::string& out) const;
  void LoadFrom(VarintReader& in);

  // The 64-bit form of an 18-character resident ID, or 0 if `id` is not one.
  static uint64_t Pack(std::string_view id);

 private:
  struct Slot {
    uint64_t id = 0;  // 0: empty
    Decimal amount;
    int32_t year = 0;
    uint64_t Hash() const;
  };
  struct Name {
    uint64_t id = 0;  // 0: empty
    uint64_t name_hash = 0;
    uint64_t Hash() const;
  };
  // Mutable: SaveTo finishes a growth under way, which moves entries but changes no amount.
  mutable LinearTable<Slot> slots_;
  mutable LinearTable<Name> names_;
  // IDs of other forms (passports, ...): "ID|year" and "ID|name".
  std::unordered_map<std::string, Decimal> other_;
  std::unordered_set<std::string> other_names_;
};

}  // namespace kuajing::clearance
