// The stored form of the engines' state rows (clearance::StateChange values): a few "key\tvalue"
// lines, an empty line, then the document packed (codec::PackRecord; canonical CEB XML in stores
// written before it). Shared by the import and the
// export engine; internal to the clearance layer.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/codec.h"
#include "common/fields.h"
#include "common/status.h"
#include "model/documents.h"

namespace kuajing::clearance::rows {

// Two parts of a map key, joined by the ASCII unit separator (never in a CEB field).
inline std::string Key(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + b.size() + 1);
  k.append(a);
  k.push_back('\x1f');
  k.append(b);
  return k;
}

// A record in a state row: packed (codec::PackRecord), a tenth of the cost of the canonical XML
// that stores written before the packed form hold, which DecodeRecord still reads.
template <typename R>
inline std::string EncodeRecord(const R& r) {
  return codec::PackRecordOf(r);
}

template <typename R>
inline StatusOr<R> DecodeRecord(std::string_view stored) {
  if (!stored.empty() && stored[0] == codec::kPackedMagic) {
    auto rec = codec::UnpackRecord(stored);
    if (!rec.ok()) return Internal("stored record: " + rec.status().message());
    if (!std::holds_alternative<R>(*rec)) return Internal("stored record has the wrong shape");
    return std::get<R>(std::move(*rec));
  }
  codec::DecodeOptions options;
  options.require_base_transfer = false;
  codec::DecodeResult res = codec::Decode(stored, options);
  if (auto* f = std::get_if<codec::DecodeFailure>(&res))
    return Internal("stored record: " + f->info);
  auto& dm = std::get<codec::DecodedMessage>(res);
  if (dm.message.records.size() != 1 || !std::holds_alternative<R>(dm.message.records[0])) {
    return Internal("stored record has the wrong shape");
  }
  return std::get<R>(std::move(dm.message.records[0]));
}

// A row that holds two records (a list and its tax bill): packed records follow each other, each
// carrying its length; the XML of older stores is separated by '\x1e'. Returns the first and the
// rest (empty if there is no second).
inline std::pair<std::string_view, std::string_view> SplitRecords(std::string_view stored) {
  if (!stored.empty() && stored[0] == codec::kPackedMagic) {
    const size_t first = codec::PackedSize(stored);
    if (first == 0 || first >= stored.size()) return {stored, {}};  // one (or damage: on decode)
    return {stored.substr(0, first), stored.substr(first)};
  }
  const size_t sep = stored.find('\x1e');
  if (sep == std::string_view::npos) return {stored, {}};
  return {stored.substr(0, sep), stored.substr(sep + 1)};
}

using ::kuajing::DecodeFields;
using ::kuajing::EncodeFields;
using ::kuajing::Fields;
using ::kuajing::FieldsView;
using ::kuajing::JoinDecimals;
using ::kuajing::SplitDecimals;
using ::kuajing::ToInt;
using ::kuajing::ToStr;

// The rows an engine touched in a step, as (kind, key): appended as they are touched, then sorted
// once and each kept once (`Settle`), in the order a std::set of the pairs gives. A set made a
// node and compared keys on every touch, also of a row touched again (bench/README.md). `kind` is
// a string literal: only its view is kept.
class Touched {
 public:
  using Row = std::pair<std::string_view, std::string>;
  void Add(std::string_view kind, const std::string& key) { rows_.emplace_back(kind, key); }
  // Sorts the rows and drops the repeats; rows() then holds each (kind, key) once, in order.
  // Rows added after a Settle are sorted apart and merged in.
  void Settle() {
    if (sorted_ == rows_.size()) return;
    const auto mid = rows_.begin() + static_cast<std::ptrdiff_t>(sorted_);
    std::sort(mid, rows_.end(), Before);
    std::inplace_merge(rows_.begin(), mid, rows_.end(), Before);
    rows_.erase(std::unique(rows_.begin(), rows_.end(),
                            [](const Row& a, const Row& b) { return !Before(a, b); }),
                rows_.end());
    sorted_ = rows_.size();
  }
  std::vector<Row>& rows() { return rows_; }
  void clear() {
    rows_.clear();
    sorted_ = 0;
  }

 private:
  // The pairs' order. The kinds are literals: the same literal is the same kind without comparing
  // its bytes (most comparisons of a sort are between rows of one kind).
  static bool Before(const Row& a, const Row& b) {
    if (a.first.data() != b.first.data()) {
      const int c = a.first.compare(b.first);
      if (c != 0) return c < 0;
    }
    return a.second < b.second;
  }

  std::vector<Row> rows_;
  size_t sorted_ = 0;  // rows_[0, sorted_) are settled
};

// Turns the rows an engine touched into state rows, in (kind, key) order: the row's value if
// the engine still has it (`state.SerializeTo` writes it and returns true), else an erase. One
// lookup of the key per row (asking whether it exists, then for its value, looked every key up
// twice; bench/README.md). The keys are moved into the rows.
template <typename S, typename Change>
void FlushDirty(Touched& dirty, const S& state, std::vector<Change>* out) {
  dirty.Settle();
  for (auto& [kind, key] : dirty.rows()) {
    Change c{std::string(kind), {}, {}, false};
    c.erase = !state.SerializeTo(c.kind, key, &c.value);
    c.key = std::move(key);
    out->push_back(std::move(c));
  }
  dirty.clear();
}

}  // namespace kuajing::clearance::rows
