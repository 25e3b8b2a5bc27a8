#include "credit/credit.h"

#include <algorithm>
#include <cstdio>

#include "common/civil_time.h"
#include "common/fields.h"

namespace kuajing::credit {

namespace {

constexpr const char* kEventNames[kEventKinds] = {
    "declared",      "rejected_format", "rejected_mismatch", "rejected_limit",
    "rejected_risk", "rejected_other",  "missing_documents", "inspected",
    "finding",       "cancelled",       "returned",          "late_summary"};

constexpr size_t kHistoryInMemory = 1000;  // per enterprise; every change stays on disk

std::string MonthText(int month) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", month / 12, month % 12 + 1);
  return buf;
}

std::string Clip(std::string_view s, size_t n) {
  return std::string(s.size() <= n ? s : s.substr(0, n));
}

}  // namespace

const char* EventName(Event e) {
  const auto i = static_cast<size_t>(e);
  return i < kEventKinds ? kEventNames[i] : "?";
}

std::optional<Event> EventFromName(std::string_view name) {
  for (size_t i = 0; i < kEventKinds; ++i)
    if (name == kEventNames[i]) return static_cast<Event>(i);
  return std::nullopt;
}

const char* GradeName(Grade g) {
  static constexpr const char* kNames[] = {"A", "B", "C", "D"};
  return kNames[static_cast<int>(g) & 3];
}

const char* GradeMeaning(Grade g) {
  switch (g) {
    case Grade::kA:
      return "A: trusted, like an advanced-certified enterprise (高级认证企业)";
    case Grade::kB:
      return "B: general (常规)";
    case Grade::kC:
      return "C: under attention (关注)";
    case Grade::kD:
      return "D: discredited (失信)";
  }
  return "?";
}

std::optional<Grade> GradeFromName(std::string_view name) {
  if (name.size() != 1 || name[0] < 'A' || name[0] > 'D') return std::nullopt;
  return static_cast<Grade>(name[0] - 'A');
}

std::array<Decimal, kEventKinds> Config::DefaultPenalties() {
  std::array<Decimal, kEventKinds> p{};
  auto set = [&](Event e, int64_t e5) { p[static_cast<size_t>(e)] = Decimal::FromE5(e5); };
  // Per event per 1,000 declarations: 2 % of lists refused for mismatches costs 20 points.
  set(Event::kRejectedFormat, 50000);
  set(Event::kRejectedMismatch, 100000);
  set(Event::kRejectedLimit, 10000);  // mostly the buyer's doing
  set(Event::kRejectedRisk, 200000);
  set(Event::kRejectedOther, 20000);
  set(Event::kMissingDocuments, 50000);
  set(Event::kCancelled, 10000);
  set(Event::kReturned, 2000);  // returns are the consumer's right
  // Per event.
  set(Event::kFinding, 2000000);
  set(Event::kLateSummary, 1000000);
  return p;
}

std::string RecordView::Explain() const {
  std::string out =
      "score " + score.ToMoneyString() + " over " + std::to_string(declarations) + " declarations";
  for (size_t i = 1; i < kEventKinds; ++i) {
    if (counts[i] == 0) continue;
    out += "; " + std::string(kEventNames[i]) + " " + std::to_string(counts[i]);
    if (points[i].e5 != 0) out += " (-" + points[i].ToMoneyString() + ")";
  }
  return out;
}

Book::Book(Config config) : config_(std::move(config)) {}

int Book::MonthOf(int64_t unix_ms) { return static_cast<int>(CstMonthIndex(unix_ms)); }

Book::Score Book::Compute(const Rec& r, int month) const {
  Score s;
  const int first = month - config_.window_months + 1;
  for (auto it = r.months.lower_bound(first); it != r.months.end() && it->first <= month; ++it)
    for (size_t i = 0; i < kEventKinds; ++i) s.counts[i] += it->second[i];
  s.declarations = s.counts[static_cast<size_t>(Event::kDeclared)];
  // Rates are taken over at least min_declarations, so that a young enterprise's first refusals
  // do not weigh like a rate over a year's volume.
  const int64_t over = std::max<int64_t>({s.declarations, config_.min_declarations, 1});
  Decimal total;
  for (size_t i = 1; i < kEventKinds; ++i) {
    const auto e = static_cast<Event>(i);
    const __int128 penalty = config_.penalty[i].e5;
    if (Config::Absolute(e)) {
      s.points[i].e5 = static_cast<int64_t>(penalty * s.counts[i]);
    } else {
      s.points[i].e5 = static_cast<int64_t>(penalty * s.counts[i] * 1000 / over);
    }
    total += s.points[i];
  }
  s.score = Decimal::FromUnits(100) - total;
  if (s.score.e5 < 0) s.score = Decimal{};
  const int64_t findings = s.counts[static_cast<size_t>(Event::kFinding)];
  if (findings >= config_.d_findings) {
    s.grade = Grade::kD;
  } else if (s.score >= config_.a_score && s.declarations >= config_.a_min_declarations &&
             findings == 0) {
    s.grade = Grade::kA;
  } else if (s.score >= config_.b_score) {
    s.grade = Grade::kB;
  } else if (s.score >= config_.c_score) {
    s.grade = Grade::kC;
  } else {
    s.grade = Grade::kD;
  }
  return s;
}

template <typename CauseFn>
void Book::Refresh(const std::string& code, Rec& r, int month, int64_t now_ms,
                   const CauseFn& cause) {
  if (r.month_seen != month) {
    // Months that left the window are dropped for good.
    r.months.erase(r.months.begin(), r.months.lower_bound(month - config_.window_months + 1));
    r.month_seen = month;
    MarkDirty(code, r);
  }
  const Score s = Compute(r, month);
  if (s.grade == r.grade) return;
  GradeChange c{0, now_ms, r.grade, s.grade, s.score, cause(), "kuajing"};
  // The largest penalties say what the score is made of.
  std::vector<size_t> order;
  for (size_t i = 1; i < kEventKinds; ++i)
    if (s.points[i].e5 != 0) order.push_back(i);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return s.points[a] > s.points[b]; });
  c.cause += "; score " + s.score.ToMoneyString() + " over " + std::to_string(s.declarations) +
             " declarations in " + std::to_string(config_.window_months) + " months";
  for (size_t n = 0; n < order.size() && n < 3; ++n) {
    const size_t i = order[n];
    c.cause += ", " + std::string(kEventNames[i]) + " " + std::to_string(s.counts[i]) + " (-" +
               s.points[i].ToMoneyString() + ")";
  }
  if (s.counts[static_cast<size_t>(Event::kFinding)] >= config_.d_findings)
    c.cause += "; " + std::to_string(config_.d_findings) + " or more inspection findings";
  r.grade = s.grade;
  MarkDirty(code, r);
  AppendChange(code, r, std::move(c));
}

void Book::AppendChange(const std::string& code, Rec& r, GradeChange c) {
  c.seq = r.changes++;
  char seq[24];
  std::snprintf(seq, sizeof seq, "%012lld", static_cast<long long>(c.seq));
  appended_.push_back(Row{"credit_change", code + '\x1f' + seq,
                          EncodeFields({{"seq", std::to_string(c.seq)},
                                        {"at", std::to_string(c.at_ms)},
                                        {"from", GradeName(c.from)},
                                        {"to", GradeName(c.to)},
                                        {"score", std::to_string(c.score.e5)},
                                        {"cause", c.cause},
                                        {"by", c.by}}),
                          false});
  r.history.push_back(std::move(c));
  if (r.history.size() > kHistoryInMemory) r.history.erase(r.history.begin());
}

void Book::Record(std::string_view enterprise, Event e, int64_t now_ms, std::string_view ref,
                  std::string_view detail) {
  if (!config_.enabled || enterprise.empty()) return;
  const std::string code(enterprise);
  Rec& r = records_[code];
  const int month = MonthOf(now_ms);
  // A new month first moves the window (old events leave it), then the event counts.
  if (month != r.month_seen && !r.months.empty())
    Refresh(code, r, month, now_ms, [&] { return "the window moved to " + MonthText(month); });
  ++r.months[month][static_cast<size_t>(e)];
  MarkDirty(code, r);
  Refresh(code, r, month, now_ms, [&] {
    std::string cause = EventName(e);
    if (!ref.empty()) cause += " " + Clip(ref, 64);
    if (!detail.empty()) cause += ": " + Clip(detail, 200);
    return cause;
  });
}

Grade Book::GradeOf(std::string_view enterprise, int64_t now_ms) {
  auto it = records_.find(std::string(enterprise));
  if (it == records_.end()) return Grade::kB;
  Rec& r = it->second;
  if (config_.enabled) {
    const int month = MonthOf(now_ms);
    if (month != r.month_seen)
      Refresh(it->first, r, month, now_ms,
              [&] { return "the window moved to " + MonthText(month); });
  }
  return r.override_grade.value_or(r.grade);
}

Decimal Book::InspectionRate(Decimal base, Grade worst) const {
  if (!config_.enabled) return base;
  if (worst == Grade::kD) return std::max(base, config_.d_inspection_rate);
  Decimal rate = base.Times(config_.inspection_factor[static_cast<size_t>(worst)]);
  return std::min(rate, Decimal::FromUnits(1));
}

void Book::Override(std::string_view enterprise, std::optional<Grade> grade,
                    std::string_view officer, std::string_view reason, int64_t now_ms) {
  const std::string code(enterprise);
  Rec& r = records_[code];
  const Grade before = r.override_grade.value_or(r.grade);
  r.override_grade = grade;
  r.override_reason = grade ? std::string(reason) : std::string();
  r.override_by = grade ? std::string(officer) : std::string();
  r.override_ms = grade ? now_ms : 0;
  MarkDirty(code, r);
  GradeChange c{
      0, now_ms, before, r.override_grade.value_or(r.grade), {}, {}, std::string(officer)};
  c.score = Compute(r, MonthOf(now_ms)).score;
  c.cause =
      (grade ? "set by an officer: " : "officer's grade cleared, the computed grade applies: ") +
      Clip(reason, 500);
  AppendChange(code, r, std::move(c));
}

void Book::AddBuyer(DiscreditedBuyer buyer) {
  const std::string id = buyer.buyer_id;
  auto [it, fresh] = buyers_.try_emplace(id, buyer);
  if (!fresh) {
    // Already listed: the new evidence is added to the old.
    it->second.evidence = Clip(it->second.evidence + " | " + buyer.evidence, 4000);
  }
  dirty_.emplace("credit_buyer", id);
}

bool Book::RemoveBuyer(std::string_view buyer_id) {
  auto it = buyers_.find(buyer_id);
  if (it == buyers_.end()) return false;
  dirty_.emplace("credit_buyer", it->first);
  buyers_.erase(it);
  return true;
}

const DiscreditedBuyer* Book::FindBuyer(std::string_view buyer_id) const {
  if (buyers_.empty()) return nullptr;
  auto it = buyers_.find(buyer_id);
  return it == buyers_.end() ? nullptr : &it->second;
}

std::vector<DiscreditedBuyer> Book::Buyers(std::string_view after, size_t limit) const {
  std::vector<DiscreditedBuyer> out;
  for (auto it = buyers_.upper_bound(after); it != buyers_.end() && out.size() < limit; ++it)
    out.push_back(it->second);
  return out;
}

std::optional<RecordView> Book::View(std::string_view enterprise, int64_t now_ms) const {
  auto it = records_.find(std::string(enterprise));
  if (it == records_.end()) return std::nullopt;
  const Rec& r = it->second;
  const Score s = Compute(r, MonthOf(now_ms));
  RecordView v;
  v.code = it->first;
  v.computed = s.grade;
  v.grade = r.override_grade.value_or(s.grade);
  v.score = s.score;
  v.declarations = s.declarations;
  v.counts = s.counts;
  v.points = s.points;
  v.override_grade = r.override_grade;
  v.override_reason = r.override_reason;
  v.override_by = r.override_by;
  v.override_ms = r.override_ms;
  v.history = r.history;
  return v;
}

std::vector<std::string> Book::Enterprises(std::string_view after, size_t limit) const {
  std::vector<std::string> all;
  for (const auto& [code, r] : records_)
    if (code > after) all.push_back(code);
  std::sort(all.begin(), all.end());
  if (all.size() > limit) all.resize(limit);
  return all;
}

std::string Book::Encode(const Rec& r) const {
  std::string months;
  for (const auto& [m, counts] : r.months) {
    if (!months.empty()) months += ';';
    months += std::to_string(m) + ':';
    for (size_t i = 0; i < kEventKinds; ++i) months += (i ? "," : "") + std::to_string(counts[i]);
  }
  return EncodeFields({{"grade", GradeName(r.grade)},
                       {"month_seen", std::to_string(r.month_seen)},
                       {"changes", std::to_string(r.changes)},
                       {"months", months},
                       {"override", r.override_grade ? GradeName(*r.override_grade) : ""},
                       {"override_reason", r.override_reason},
                       {"override_by", r.override_by},
                       {"override_ms", std::to_string(r.override_ms)}});
}

void Book::TakeDirty(std::vector<Row>* out) {
  for (const auto& [kind, key] : dirty_) {
    if (kind == "credit") {
      Rec& r = records_.at(key);
      r.dirty = false;
      out->push_back(Row{kind, key, Encode(r), false});
    } else {
      auto it = buyers_.find(key);
      if (it == buyers_.end()) {
        out->push_back(Row{kind, key, {}, true});
      } else {
        const DiscreditedBuyer& b = it->second;
        out->push_back(Row{kind, key,
                           EncodeFields({{"name", b.buyer_name},
                                         {"since", std::to_string(b.since_ms)},
                                         {"evidence", b.evidence},
                                         {"by", b.by}}),
                           false});
      }
    }
  }
  dirty_.clear();
  for (Row& r : appended_) out->push_back(std::move(r));
  appended_.clear();
}

Status Book::Restore(const Row& row) {
  std::string_view rest;
  const Fields f = DecodeFields(row.value, &rest);
  if (row.kind == "credit") {
    Rec& r = records_[row.key];
    r.grade = GradeFromName(ToStr(f, "grade")).value_or(Grade::kB);
    r.month_seen = static_cast<int>(ToInt(f, "month_seen"));
    r.changes = std::max(r.changes, ToInt(f, "changes"));
    r.override_grade = GradeFromName(ToStr(f, "override"));
    r.override_reason = ToStr(f, "override_reason");
    r.override_by = ToStr(f, "override_by");
    r.override_ms = ToInt(f, "override_ms");
    r.months.clear();
    const std::string months = ToStr(f, "months");
    for (size_t p = 0; p < months.size();) {
      size_t end = months.find(';', p);
      if (end == std::string::npos) end = months.size();
      const std::string part = months.substr(p, end - p);
      const size_t colon = part.find(':');
      if (colon == std::string::npos) return Internal("credit row " + row.key + ": bad months");
      auto& counts = r.months[std::stoi(part.substr(0, colon))];
      size_t i = 0;
      for (size_t q = colon + 1; q <= part.size() && i < kEventKinds; ++i) {
        size_t c = part.find(',', q);
        if (c == std::string::npos) c = part.size();
        counts[i] = std::stoll(part.substr(q, c - q));
        q = c + 1;
      }
      p = end + 1;
    }
  } else if (row.kind == "credit_change") {
    Rec& r = records_[row.key.substr(0, row.key.find('\x1f'))];
    GradeChange c;
    c.at_ms = ToInt(f, "at");
    c.from = GradeFromName(ToStr(f, "from")).value_or(Grade::kB);
    c.to = GradeFromName(ToStr(f, "to")).value_or(Grade::kB);
    c.score.e5 = ToInt(f, "score");
    c.cause = ToStr(f, "cause");
    c.by = ToStr(f, "by");
    c.seq = ToInt(f, "seq");
    r.changes = std::max(r.changes, c.seq + 1);
    // The store gives rows in no particular order: keep the history in sequence.
    auto at = std::upper_bound(r.history.begin(), r.history.end(), c.seq,
                               [](int64_t seq, const GradeChange& x) { return seq < x.seq; });
    r.history.insert(at, std::move(c));
    if (r.history.size() > kHistoryInMemory) r.history.erase(r.history.begin());
  } else if (row.kind == "credit_buyer") {
    buyers_[row.key] = DiscreditedBuyer{row.key, ToStr(f, "name"), ToInt(f, "since"),
                                        ToStr(f, "evidence"), ToStr(f, "by")};
  } else {
    return Internal("unknown credit row kind " + row.kind);
  }
  return Status::Ok();
}

}  // namespace kuajing::credit
