#include "risk/risk.h"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "common/civil_time.h"
#include "common/hash.h"

namespace kuajing::risk {

using namespace kuajing::model;

const char* ActionName(Action a) {
  switch (a) {
    case Action::kRelease:
      return "release";
    case Action::kReview:
      return "review";
    case Action::kInspect:
      return "inspect";
    case Action::kReject:
      return "reject";
  }
  return "?";
}

std::string Verdict::Explain() const {
  std::string out;
  for (const Finding& f : findings) {
    out += (out.empty() ? "" : "; ") + std::string("[") + f.rule_id + "] " + f.reason;
  }
  return out + " (risk score " + std::to_string(score) + ", rules " + rules_version + ")";
}

// --- the rules file
// -------------------------------------------------------------------------------

namespace {

const std::set<std::string> kKinds = {
    "goods_list",           "party_list",          "velocity",
    "shared_contact",       "split_orders",        "under_valuation",
    "payment_before_order", "consignee_not_buyer", "weight_per_unit"};

Status Bad(const std::string& where, const std::string& what) {
  return InvalidArgument("risk rules: " + where + ": " + what);
}

StatusOr<Decimal> Dec(const toml::table& t, const char* key, const std::string& where,
                      bool required) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    if (required) return Bad(where, std::string(key) + " is required");
    return Decimal{};
  }
  auto s = n->value<std::string>();
  std::optional<Decimal> d = s ? Decimal::Parse(*s) : std::nullopt;
  if (!d || d->e5 < 0)
    return Bad(where, std::string(key) + " must be a decimal string such as \"0.3\"");
  return *d;
}

}  // namespace

StatusOr<Rules> ParseRules(std::string_view text) {
  toml::table t;
  try {
    t = toml::parse(text);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(std::string("risk rules: not TOML: ") + std::string(e.description()));
  }
  Rules r;
  auto version = t["version"].value<std::string>();
  if (!version || version->empty()) return Bad("version", "is required (e.g. \"2024-06-01.1\")");
  // The version names the text too: two files with one version string but other rules differ.
  char hash[20];
  std::snprintf(hash, sizeof hash, "%08llx",
                static_cast<unsigned long long>(Hash64(text) & 0xffffffffULL));
  r.version = *version + "#" + hash;
  r.text = std::string(text);
  if (const toml::table* th = t["thresholds"].as_table()) {
    for (auto [key, target] :
         {std::pair{"review", &r.review}, {"inspect", &r.inspect}, {"reject", &r.reject}}) {
      if (auto v = (*th)[key].value<int64_t>()) {
        if (*v < 1 || *v > 100000) return Bad(std::string("thresholds.") + key, "1 to 100000");
        *target = static_cast<int>(*v);
      }
    }
  }
  if (!(r.review <= r.inspect && r.inspect <= r.reject))
    return Bad("thresholds", "need review <= inspect <= reject");
  std::set<std::string> ids;
  if (const toml::array* rules = t["rule"].as_array()) {
    if (rules->size() > 1000) return Bad("rule", "at most 1000 rules");
    for (size_t i = 0; i < rules->size(); ++i) {
      const toml::table* rt = (*rules)[i].as_table();
      const std::string where = "rule[" + std::to_string(i + 1) + "]";
      if (rt == nullptr) return Bad(where, "must be a table ([[rule]])");
      Rule rule;
      rule.id = (*rt)["id"].value_or(std::string());
      rule.kind = (*rt)["kind"].value_or(std::string());
      rule.reason = (*rt)["reason"].value_or(std::string());
      rule.field = (*rt)["field"].value_or(std::string());
      const std::string w = where + " (" + rule.id + ")";
      if (rule.id.empty() || rule.id.size() > 40) return Bad(where, "id is required (<= 40 chars)");
      if (!ids.insert(rule.id).second) return Bad(w, "id is used twice");
      if (!kKinds.count(rule.kind)) return Bad(w, "unknown kind '" + rule.kind + "'");
      if (rule.reason.empty()) return Bad(w, "reason is required: the officer reads it");
      auto score = (*rt)["score"].value<int64_t>();
      if (!score || *score < 0 || *score > 100000) return Bad(w, "score 0 to 100000 is required");
      rule.score = static_cast<int>(*score);
      if (const toml::node* d = rt->get("discredit_buyer")) {
        if (!d->is_boolean()) return Bad(w, "discredit_buyer is true or false");
        rule.discredit_buyer = *d->value<bool>();
      }
      if (const toml::array* vals = (*rt)["values"].as_array()) {
        for (const auto& v : *vals) {
          auto s = v.value<std::string>();
          if (!s) return Bad(w, "values are strings");
          rule.values.push_back(*s);
        }
      }
      if (auto h = (*rt)["window_hours"].value<int64_t>()) {
        if (*h < 1 || *h > 24 * 400) return Bad(w, "window_hours 1 to 9600");
        rule.window_ms = *h * 3'600'000;
      }
      if (auto n = (*rt)["max_count"].value<int64_t>()) {
        // The engine keeps the newest 256 lists per identity: enough to count up to 200.
        if (*n < 1 || *n > 200) return Bad(w, "max_count 1 to 200");
        rule.max_count = static_cast<int>(*n);
      }
      {
        auto d = Dec(*rt, "max_amount", w, false);
        if (!d.ok()) return d.status();
        rule.max_amount = *d;
      }
      {
        auto d = Dec(*rt, "ratio", w, rule.kind == "under_valuation");
        if (!d.ok()) return d.status();
        rule.ratio = *d;
      }
      {
        auto d = Dec(*rt, "max_kg_per_unit", w, false);
        if (!d.ok()) return d.status();
        rule.max_kg_per_unit = *d;
      }
      {
        auto d = Dec(*rt, "min_kg_per_unit", w, false);
        if (!d.ok()) return d.status();
        rule.min_kg_per_unit = *d;
      }
      if (const toml::table* prices = (*rt)["reference_prices"].as_table()) {
        for (const auto& [hs, v] : *prices) {
          auto s = v.value<std::string>();
          auto d = s ? Decimal::Parse(*s) : std::nullopt;
          if (!d || d->e5 <= 0)
            return Bad(w, "reference_prices." + std::string(hs.str()) +
                              " must be a positive decimal string");
          rule.reference_prices[std::string(hs.str())] = *d;
        }
      }
      // What each kind needs.
      const bool keyed = rule.kind == "velocity" || rule.kind == "shared_contact";
      if ((rule.kind == "goods_list" || rule.kind == "party_list") && rule.values.empty())
        return Bad(w, "values are required");
      if (rule.kind == "party_list" && rule.field != "buyer_id" && rule.field != "phone" &&
          rule.field != "address" && rule.field != "enterprise")
        return Bad(w, "field is buyer_id, phone, address or enterprise");
      if (keyed && rule.field != "buyer_id" && rule.field != "phone" && rule.field != "address")
        return Bad(w, "field is buyer_id, phone or address");
      if (keyed && (rule.window_ms == 0 || rule.max_count == 0) &&
          !(rule.kind == "velocity" && rule.window_ms > 0 && rule.max_amount.e5 > 0))
        return Bad(w, "window_hours and max_count (or max_amount) are required");
      if (rule.kind == "shared_contact" && rule.field == "buyer_id")
        return Bad(w, "shared_contact counts buyer IDs behind a phone or an address");
      if (rule.kind == "split_orders" && rule.max_amount.e5 == 0)
        return Bad(w, "max_amount (the single limit, e.g. \"5000\") is required");
      if (rule.kind == "under_valuation" && rule.reference_prices.empty())
        return Bad(w, "reference_prices are required");
      r.rules.push_back(std::move(rule));
    }
  }
  // The past the windows need (keep_ms in risk.h): memory then follows the buyers of the longest
  // window, not of the year (issue 7: a year of 10 million buyers in 2 GB).
  for (const Rule& rule : r.rules) {
    r.keep_ms =
        std::max(r.keep_ms, rule.kind == "split_orders" ? 2 * kMillisPerDay : rule.window_ms);
  }
  if (auto days = t["keep_days"].value<int64_t>()) {
    if (*days < 1 || *days > 400) return Bad("keep_days", "1 to 400");
    r.keep_ms = std::max(r.keep_ms, *days * kMillisPerDay);
  } else if (t.contains("keep_days")) {
    return Bad("keep_days", "is a whole number of days, 1 to 400");
  }
  return r;
}

StatusOr<Rules> LoadRules(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read the risk rules " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (4 << 20)) return InvalidArgument("risk rules over 4 MiB: " + path);
  return ParseRules(ss.str());
}

// --- the engine
// -----------------------------------------------------------------------------------

namespace {

// The identity a velocity window is kept under; 0 for an empty phone or address (no identity).
uint64_t KeyOf(const std::string& field, const InventoryHead& h) {
  const std::string& v = field == "buyer_id" ? h.buyerIdNumber
                         : field == "phone"  ? h.buyerTelephone
                                             : h.consigneeAddress;
  if (v.empty()) return 0;
  return Hash64(v, field == "buyer_id" ? 1 : field == "phone" ? 2 : 3);
}

const std::string& FieldValue(const std::string& field, const InventoryHead& h) {
  if (field == "buyer_id") return h.buyerIdNumber;
  if (field == "phone") return h.buyerTelephone;
  return h.consigneeAddress;
}

std::string Money(Decimal d) { return d.ToMoneyString(); }

}  // namespace

RiskEngine::RiskEngine(std::shared_ptr<const Rules> rules) : rules_(std::move(rules)) {}

namespace {
constexpr size_t kMaxEventsPerKey = 256;
}  // namespace

uint32_t RiskEngine::Place(const InventoryHead& h) {
  return static_cast<uint32_t>(Hash64(h.consigneeAddress, Hash64(h.ebpCode)));
}

bool RiskEngine::Expired(const Slot& s) const {
  const int64_t newest = s.n == 1 ? s.first.at_ms : s.n == 0 ? 0 : spill_[s.spill].back().at_ms;
  return newest < latest_ms_ - rules_->keep_ms;
}

void RiskEngine::Grow() {
  // Identities whose newest list is past every window are forgotten here, so the table holds the
  // buyers of the longest window; it grows only when those fill it.
  size_t live = 0;
  for (const Slot& s : slots_) live += s.key != 0 && !Expired(s);
  std::vector<Slot> old = std::move(slots_);
  const size_t capacity = live * 2 < old.size() ? old.size() : old.size() + old.size() / 2;
  slots_.assign(std::max<size_t>(1024, capacity), Slot{});
  size_ = 0;
  for (Slot& s : old) {
    if (s.key == 0) continue;
    if (Expired(s)) {
      if (s.n > 1) {
        std::vector<Event>().swap(spill_[s.spill]);
        free_spill_.push_back(s.spill);
      }
      continue;
    }
    ++size_;
    size_t i = static_cast<size_t>((static_cast<unsigned __int128>(s.key) * slots_.size()) >> 64);
    while (slots_[i].key != 0) i = i + 1 == slots_.size() ? 0 : i + 1;
    slots_[i] = s;
  }
}

RiskEngine::Slot& RiskEngine::SlotFor(uint64_t key) {
  if ((size_ + 1) * 100 > slots_.size() * 85) Grow();
  size_t i = static_cast<size_t>((static_cast<unsigned __int128>(key) * slots_.size()) >> 64);
  while (slots_[i].key != 0 && slots_[i].key != key) i = i + 1 == slots_.size() ? 0 : i + 1;
  if (slots_[i].key == 0) {
    slots_[i].key = key;
    ++size_;
  }
  return slots_[i];
}

std::span<const RiskEngine::Event> RiskEngine::Events(uint64_t key) const {
  if (slots_.empty() || key == 0) return {};
  size_t i = static_cast<size_t>((static_cast<unsigned __int128>(key) * slots_.size()) >> 64);
  while (slots_[i].key != 0) {
    if (slots_[i].key == key) {
      const Slot& s = slots_[i];
      if (s.n == 1) return {&s.first, 1};
      return s.n == 0 ? std::span<const Event>() : std::span<const Event>(spill_[s.spill]);
    }
    i = i + 1 == slots_.size() ? 0 : i + 1;
  }
  return {};
}

void RiskEngine::Observe(const InventoryHead& h, Decimal dutiable, int64_t at_ms) {
  // Only what a window of the rules (or their keep_days) can still see is kept.
  const int64_t horizon = rules_->keep_ms;
  latest_ms_ = std::max(latest_ms_, at_ms);
  if (at_ms < latest_ms_ - horizon) return;  // a stored list from before every window (start-up)
  const int64_t fen = std::clamp<int64_t>(dutiable.e5 / Decimal::kFen, 0, UINT32_MAX);
  const Event e{at_ms, Hash64(h.buyerIdNumber), static_cast<uint32_t>(fen), Place(h)};
  for (uint64_t key : {KeyOf("buyer_id", h), KeyOf("phone", h), KeyOf("address", h)}) {
    if (key == 0) continue;  // an empty phone or address is no identity
    Slot& slot = SlotFor(key);
    if (slot.n == 0) {
      slot.first = e;
      slot.n = 1;
      continue;
    }
    if (slot.n == 1) {  // a second event: the identity moves to the spill vectors
      if (free_spill_.empty()) {
        slot.spill = static_cast<uint32_t>(spill_.size());
        spill_.emplace_back();
      } else {
        slot.spill = free_spill_.back();
        free_spill_.pop_back();
      }
      spill_[slot.spill].push_back(slot.first);
    }
    std::vector<Event>& q = spill_[slot.spill];
    // Stored lists are restored in any order: keep each identity's events sorted by time.
    auto pos = std::upper_bound(q.begin(), q.end(), at_ms,
                                [](int64_t t, const Event& x) { return t < x.at_ms; });
    q.insert(pos, e);
    // Bounded work and memory per identity: the newest kMaxEventsPerKey events are enough for
    // any rule (max_count is at most 200), and older than the horizon is never looked at.
    size_t old = q.size() > kMaxEventsPerKey ? q.size() - kMaxEventsPerKey : 0;
    while (old < q.size() && q[old].at_ms < latest_ms_ - horizon) ++old;
    q.erase(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(old));
    slot.n = static_cast<uint32_t>(q.size());
    if (slot.n == 1) {  // back to one event: inline again (Events reads `first` when n is 1)
      slot.first = q.front();
      std::vector<Event>().swap(q);
      free_spill_.push_back(slot.spill);
    }
  }
}

void RiskEngine::SaveTo(std::string& out) const {
  auto put = [&](const Event& e) {
    PutSigned(out, e.at_ms);
    PutFixed64(out, e.buyer);
    PutVarint(out, e.amount_fen);
    PutVarint(out, e.place);
  };
  PutSigned(out, latest_ms_);
  PutVarint(out, slots_.size());
  PutVarint(out, size_);
  SlotPositions at;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.key == 0) continue;
    at.Put(out, i);
    PutFixed64(out, s.key);
    PutVarint(out, s.n);
    if (s.n == 1) put(s.first);
    if (s.n > 1) {
      for (const Event& e : spill_[s.spill]) put(e);
    }
  }
}

void RiskEngine::LoadFrom(VarintReader& in) {
  auto get = [&](Event& e) {
    e.at_ms = in.Signed();
    e.buyer = in.Fixed64();
    e.amount_fen = static_cast<uint32_t>(in.Varint());
    e.place = static_cast<uint32_t>(in.Varint());
  };
  spill_.clear();
  free_spill_.clear();
  latest_ms_ = in.Signed();
  const uint64_t capacity = in.Varint();
  size_ = in.Count();
  // Empty, or at least 1,024 slots at most 85 % full: what Grow makes, or not ours.
  if ((capacity != 0 && capacity < 1024) || size_ * 100 > capacity * 85 ||
      capacity > (uint64_t{1} << 40)) {
    return in.MarkBad();
  }
  slots_.assign(capacity, Slot{});
  SlotPositions at;
  for (size_t k = 0; k < size_ && in.ok(); ++k) {
    uint64_t i;
    if (!at.Next(in, capacity, &i)) return in.MarkBad();
    Slot& s = slots_[i];
    s.key = in.Fixed64();
    const size_t n = in.Count();
    if (s.key == 0 || n > kMaxEventsPerKey) return in.MarkBad();
    s.n = static_cast<uint32_t>(n);
    if (n == 1) get(s.first);
    if (n > 1) {
      s.spill = static_cast<uint32_t>(spill_.size());
      std::vector<Event>& q = spill_.emplace_back(n);
      for (Event& e : q) get(e);
    }
  }
}

Verdict RiskEngine::Assess(const ListFacts& f, int64_t now) const {
  const Rules& rules = *rules_;
  Verdict v;
  v.rules_version = rules.version;
  const InventoryHead& h = f.inventory->head;
  auto fire = [&](const Rule& r, const std::string& facts) {
    v.findings.push_back(Finding{r.id, r.score, r.reason + ": " + facts, r.discredit_buyer});
    v.score += r.score;
  };
  auto amount = [](const Event& e) { return Decimal::FromFen(e.amount_fen); };
  for (const Rule& r : rules.rules) {
    if (r.kind == "goods_list") {
      for (const InventoryList& l : f.inventory->lists) {
        auto hit = std::find_if(r.values.begin(), r.values.end(), [&](const std::string& p) {
          return l.gcode.compare(0, p.size(), p) == 0;
        });
        if (hit != r.values.end()) {
          fire(r,
               "line " + std::to_string(l.gnum) + " gcode " + l.gcode + " (listed " + *hit + ")");
          break;
        }
      }
    } else if (r.kind == "party_list") {
      std::vector<std::string> seen;
      if (r.field == "enterprise") {
        seen = {h.ebpCode, h.ebcCode, h.agentCode, h.logisticsCode};
        if (f.payment) seen.push_back(f.payment->head.payCode);
      } else {
        seen = {FieldValue(r.field, h)};
      }
      for (const std::string& s : seen) {
        if (!s.empty() && std::find(r.values.begin(), r.values.end(), s) != r.values.end()) {
          fire(r, r.field + " " + s + " is on the list");
          break;
        }
      }
    } else if (r.kind == "velocity") {
      const std::string& value = FieldValue(r.field, h);
      if (value.empty()) continue;
      int count = 1;  // this list
      Decimal total = f.dutiable;
      {
        const auto q = Events(KeyOf(r.field, h));
        for (auto it = q.rbegin(); it != q.rend() && it->at_ms > now - r.window_ms; ++it) {
          if (it->at_ms > now) continue;
          ++count;
          total += amount(*it);
          if (r.max_count > 0 && count > r.max_count) break;  // enough to decide
        }
      }
      const bool too_many = r.max_count > 0 && count > r.max_count;
      const bool too_much = r.max_amount.e5 > 0 && total > r.max_amount;
      if (too_many || too_much) {
        fire(r, std::to_string(count) + " lists, " + Money(total) + " CNY for " + r.field + " " +
                    value + " within " + std::to_string(r.window_ms / 3'600'000) + " h");
      }
    } else if (r.kind == "shared_contact") {
      const std::string& value = FieldValue(r.field, h);
      if (value.empty()) continue;
      std::set<uint64_t> buyers = {Hash64(h.buyerIdNumber)};
      {
        const auto q = Events(KeyOf(r.field, h));
        for (auto it = q.rbegin(); it != q.rend() && it->at_ms > now - r.window_ms; ++it) {
          if (it->at_ms <= now) buyers.insert(it->buyer);
          if (static_cast<int>(buyers.size()) > r.max_count) break;  // enough to decide
        }
      }
      if (static_cast<int>(buyers.size()) > r.max_count) {
        fire(r, std::to_string(buyers.size()) + " different buyer IDs behind " + r.field + " " +
                    value + " within " + std::to_string(r.window_ms / 3'600'000) + " h");
      }
    } else if (r.kind == "split_orders") {
      // Same buyer, same CST day, same platform, same consignee address; each under the limit,
      // together over it.
      if (f.dutiable > r.max_amount) continue;
      const int64_t day = (now + 8 * 3'600'000) / kMillisPerDay;
      Decimal total = f.dutiable;
      int n = 1;
      {
        const uint32_t place = Place(h);  // platform and address (a 32-bit hash: a collision
                                          // among one buyer's lists of a day is negligible)
        for (const Event& e : Events(KeyOf("buyer_id", h))) {
          if ((e.at_ms + 8 * 3'600'000) / kMillisPerDay == day && e.at_ms <= now &&
              e.place == place && amount(e) <= r.max_amount) {
            total += amount(e);
            ++n;
          }
        }
      }
      if (n > 1 && total > r.max_amount) {
        fire(r, std::to_string(n) + " lists of buyer " + h.buyerIdNumber + " on " + h.ebpCode +
                    " today to one address, together " + Money(total) + " CNY over " +
                    Money(r.max_amount));
      }
    } else if (r.kind == "under_valuation") {
      for (const InventoryList& l : f.inventory->lists) {
        // The longest reference prefix of the line's code.
        const Decimal* ref = nullptr;
        size_t best = 0;
        for (const auto& [hs, price] : r.reference_prices) {
          if (hs.size() > best && l.gcode.compare(0, hs.size(), hs) == 0) {
            ref = &price;
            best = hs.size();
          }
        }
        if (ref == nullptr) continue;
        const __int128 floor = static_cast<__int128>(ref->e5) * r.ratio.e5 / Decimal::kScale;
        if (l.price.e5 < floor) {
          fire(r, "line " + std::to_string(l.gnum) + " unit price " + Money(l.price) +
                      " CNY is under " + Money(Decimal::FromE5(static_cast<int64_t>(floor))) +
                      " (" + r.ratio.ToString() + " of the reference " + Money(*ref) + ")");
          break;
        }
      }
    } else if (r.kind == "payment_before_order") {
      if (f.payment && f.order && !f.payment->head.payTime.empty() &&
          f.payment->head.payTime < f.order->head.appTime) {
        fire(r, "paid " + f.payment->head.payTime + ", ordered " + f.order->head.appTime);
      }
    } else if (r.kind == "consignee_not_buyer") {
      if (f.waybill && !f.waybill->head.consignee.empty() &&
          f.waybill->head.consignee != h.buyerName) {
        fire(r, "waybill consignee " + f.waybill->head.consignee + ", buyer " + h.buyerName);
      }
    } else if (r.kind == "weight_per_unit") {
      Decimal units;
      for (const InventoryList& l : f.inventory->lists) units += l.qty;
      if (units.e5 <= 0) continue;
      const __int128 per = static_cast<__int128>(h.netWeight.e5) * Decimal::kScale / units.e5;
      const bool heavy = r.max_kg_per_unit.e5 > 0 && per > r.max_kg_per_unit.e5;
      const bool light = r.min_kg_per_unit.e5 > 0 && per < r.min_kg_per_unit.e5;
      if (heavy || light) {
        fire(r, "net weight " + h.netWeight.ToString() + " kg for " + units.ToString() +
                    " units (" + Decimal::FromE5(static_cast<int64_t>(per)).ToString() +
                    " kg each)");
      }
    }
  }
  v.action = v.score >= rules.reject    ? Action::kReject
             : v.score >= rules.inspect ? Action::kInspect
             : v.score >= rules.review  ? Action::kReview
                                        : Action::kRelease;
  return v;
}

}  // namespace kuajing::risk
