#include "clearance/quota_book.h"

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

}  // namespace

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

QuotaBook::Slot* QuotaBook::Probe(uint64_t id, int year) {
  const size_t mask = slots_.size() - 1;
  for (size_t i = Mix(id + static_cast<uint64_t>(year)) & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.id == 0 || (s.id == id && s.year == year)) return &s;
  }
}

const QuotaBook::Slot* QuotaBook::ProbeConst(uint64_t id, int year) const {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = Mix(id + static_cast<uint64_t>(year)) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.id == 0) return nullptr;
    if (s.id == id && s.year == year) return &s;
  }
}

void QuotaBook::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
  for (const Slot& s : old) {
    if (s.id != 0) *Probe(s.id, s.year) = s;
  }
}

Decimal& QuotaBook::Used(std::string_view buyer_id, int year) {
  const uint64_t id = Pack(buyer_id);
  if (id == 0) return other_[OtherKey(buyer_id, std::to_string(year))];
  if ((used_ + 1) * 4 > slots_.size() * 3) Grow();
  Slot* s = Probe(id, year);
  if (s->id == 0) {
    s->id = id;
    s->year = year;
    ++used_;
  }
  return s->amount;
}

Decimal QuotaBook::Find(std::string_view buyer_id, int year) const {
  const uint64_t id = Pack(buyer_id);
  if (id == 0) {
    auto it = other_.find(OtherKey(buyer_id, std::to_string(year)));
    return it == other_.end() ? Decimal{} : it->second;
  }
  const Slot* s = ProbeConst(id, year);
  return s == nullptr ? Decimal{} : s->amount;
}

bool QuotaBook::FindName(uint64_t id, uint64_t h) const {
  if (names_.empty()) return false;
  const size_t mask = names_.size() - 1;
  for (size_t i = Mix(id ^ h) & mask;; i = (i + 1) & mask) {
    const Name& n = names_[i];
    if (n.id == 0) return false;
    if (n.id == id && n.name_hash == h) return true;
  }
}

void QuotaBook::GrowNames() {
  std::vector<Name> old = std::move(names_);
  names_.assign(old.empty() ? 1024 : old.size() * 2, Name{});
  const size_t mask = names_.size() - 1;
  for (const Name& n : old) {
    if (n.id == 0) continue;
    size_t i = Mix(n.id ^ n.name_hash) & mask;
    while (names_[i].id != 0) i = (i + 1) & mask;
    names_[i] = n;
  }
}

void QuotaBook::NoteName(std::string_view buyer_id, std::string_view name) {
  const uint64_t id = Pack(buyer_id);
  if (id == 0) {
    other_names_.insert(OtherKey(buyer_id, name));
    return;
  }
  const uint64_t h = Hash64(name);
  if (FindName(id, h)) return;
  if ((names_used_ + 1) * 4 > names_.size() * 3) GrowNames();
  const size_t mask = names_.size() - 1;
  size_t i = Mix(id ^ h) & mask;
  while (names_[i].id != 0) i = (i + 1) & mask;
  names_[i] = Name{id, h};
  ++names_used_;
}

bool QuotaBook::KnownAs(std::string_view buyer_id, std::string_view name) const {
  const uint64_t id = Pack(buyer_id);
  if (id == 0) return other_names_.count(OtherKey(buyer_id, name)) > 0;
  return FindName(id, Hash64(name));
}

}  // namespace kuajing::clearance
