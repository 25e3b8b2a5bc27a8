#include "clearance/quota_book.h"

#include <span>

#include "common/hash.h"

namespace kuajing::clearance {

namespace {

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string OtherKey(std::string_view id, std::string_view rest) {
  std::string k(id);
  k.push_back('|');
  k.append(rest);
  return k;
}

// A table's occupied entries with their positions, so that loading needs no hashing.
template <typename T, typename Put>
void SaveTable(std::string& out, const LinearTable<T>& table, Put put) {
  const std::span<const T> slots = table.slots();
  PutVarint(out, slots.size());
  PutVarint(out, table.used());
  SlotPositions at;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].id == 0) continue;
    at.Put(out, i);
    PutFixed64(out, slots[i].id);
    put(slots[i]);
  }
}

template <typename T, typename Get>
void LoadTable(VarintReader& in, LinearTable<T>& table, Get get) {
  const uint64_t size = in.Varint();
  const size_t used = in.Count();
  // Empty, or a power of two from 1,024 on at most 3/4 full: what LinearTable makes, or not ours.
  if (size != 0 && (size < LinearTable<T>::kFirstSize || (size & (size - 1)) != 0 ||
                    used * 4 > size * 3 || size > (uint64_t{1} << 40))) {
    table.Reset(0, 0);
    return in.MarkBad();
  }
  if (size == 0 && used != 0) {
    table.Reset(0, 0);
    return in.MarkBad();
  }
  const std::span<T> slots = table.Reset(size, used);
  SlotPositions at;
  for (size_t k = 0; k < used && in.ok(); ++k) {
    uint64_t i;
    if (!at.Next(in, size, &i)) return in.MarkBad();
    T& e = slots[i];
    e.id = in.Fixed64();
    if (e.id == 0) return in.MarkBad();
    get(e);
  }
}

uint64_t AmountHash(uint64_t id, int year) { return Mix(id + static_cast<uint64_t>(year)); }
uint64_t NameHash(uint64_t id, uint64_t name_hash) { return Mix(id ^ name_hash); }

}  // namespace

uint64_t QuotaBook::Slot::Hash() const { return AmountHash(id, year); }
uint64_t QuotaBook::Name::Hash() const { return NameHash(id, name_hash); }

uint64_t QuotaBook::Pack(std::string_view id) {
  if (id.size() != 18) return 0;
  uint64_t v = 0;
  for (size_t i = 0; i < 17; ++i) {
    if (id[i] < '0' || id[i] > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(id[i] - '0');
  }
  uint64_t check;
  if (id[17] >= '0' && id[17] <= '9') {
    check = static_cast<uint64_t>(id[17] - '0');
  } else if (id[17] == 'X') {
    check = 10;
  } else {
    return 0;
  }
  return v * 11 + check + 1;  // at most ~1.1e18: fits, and never 0 (0 marks an empty slot)
}

Decimal& QuotaBook::Used(std::string_view buyer_id, int year) {
  const uint64_t id = Pack(buyer_id);
  if (id == 0) return other_[OtherKey(buyer_id, std::to_string(year))];
  return slots_
      .FindOrAdd(
          AmountHash(id, year), [&](const Slot& e) { return e.id == id && e.year == year; },
          [&](Slot& e) {
            e.id = id;
            e.year = year;
          })
      .amount;
}

Decimal QuotaBook::Find(std::string_view buyer_id, int year) const {
  const uint64_t id = Pack(buyer_id);
  if (id == 0) {
    auto it = other_.find(OtherKey(buyer_id, std::to_string(year)));
    return it == other_.end() ? Decimal{} : it->second;
  }
  const Slot* s = slots_.Find(AmountHash(id, year),
                              [&](const Slot& e) { return e.id == id && e.year == year; });
  return s == nullptr ? Decimal{} : s->amount;
}

void QuotaBook::NoteName(std::string_view buyer_id, std::string_view name) {
  const uint64_t id = Pack(buyer_id);
  if (id == 0) {
    other_names_.insert(OtherKey(buyer_id, name));
    return;
  }
  const uint64_t h = Hash64(name);
  names_.FindOrAdd(
      NameHash(id, h), [&](const Name& e) { return e.id == id && e.name_hash == h; },
      [&](Name& e) {
        e = Name{id, h};
      });
}

bool QuotaBook::KnownAs(std::string_view buyer_id, std::string_view name) const {
  const uint64_t id = Pack(buyer_id);
  if (id == 0) return other_names_.count(OtherKey(buyer_id, name)) > 0;
  const uint64_t h = Hash64(name);
  return names_.Find(NameHash(id, h),
                     [&](const Name& e) { return e.id == id && e.name_hash == h; }) != nullptr;
}

void QuotaBook::SaveTo(std::string& out) const {
  // The snapshot holds each table as one vector with its entries' positions: a growth under
  // way is finished first (it changes where entries are, not what the book holds).
  slots_.FinishGrowth();
  names_.FinishGrowth();
  SaveTable(out, slots_, [&](const Slot& e) {
    PutSigned(out, e.amount.e5);
    PutSigned(out, e.year);
  });
  SaveTable(out, names_, [&](const Name& e) { PutFixed64(out, e.name_hash); });
  PutVarint(out, other_.size());
  for (const auto& [k, v] : other_) {
    PutText(out, k);
    PutSigned(out, v.e5);
  }
  PutVarint(out, other_names_.size());
  for (const std::string& k : other_names_) PutText(out, k);
}

void QuotaBook::LoadFrom(VarintReader& in) {
  LoadTable(in, slots_, [&](Slot& e) {
    e.amount.e5 = in.Signed();
    e.year = static_cast<int32_t>(in.Signed());
  });
  LoadTable(in, names_, [&](Name& e) { e.name_hash = in.Fixed64(); });
  other_.clear();
  other_names_.clear();
  for (size_t n = in.Count(); n > 0 && in.ok(); --n) {
    std::string k = in.Text();
    other_[std::move(k)].e5 = in.Signed();
  }
  for (size_t n = in.Count(); n > 0 && in.ok(); --n) other_names_.insert(in.Text());
}

}  // namespace kuajing::clearance
