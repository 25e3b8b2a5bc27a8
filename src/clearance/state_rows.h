// The stored form of the engines' state rows (clearance::StateChange values): a few "key\tvalue"
// lines, an empty line, then the document as canonical CEB XML. Shared by the import and the
// export engine; internal to the clearance layer.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "codec/codec.h"
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

template <typename R>
inline std::string EncodeRecord(model::MessageType type, const R& r) {
  model::Message m;
  m.type = type;
  m.guid = model::RecordGuid(model::Record(r));
  m.records.push_back(r);
  return codec::Encode(m);
}

template <typename R>
inline StatusOr<R> DecodeRecord(std::string_view xml) {
  codec::DecodeOptions options;
  options.require_base_transfer = false;
  codec::DecodeResult res = codec::Decode(xml, options);
  if (auto* f = std::get_if<codec::DecodeFailure>(&res))
    return Internal("stored record: " + f->info);
  auto& dm = std::get<codec::DecodedMessage>(res);
  if (dm.message.records.size() != 1 || !std::holds_alternative<R>(dm.message.records[0])) {
    return Internal("stored record has the wrong shape");
  }
  return std::get<R>(std::move(dm.message.records[0]));
}

using Fields = std::map<std::string, std::string>;

inline std::string EncodeFields(const Fields& f) {
  std::string out;
  for (const auto& [k, v] : f) {
    out += k;
    out += '\t';
    for (char c : v) out.push_back(c == '\n' || c == '\t' ? ' ' : c);
    out += '\n';
  }
  out += '\n';
  return out;
}

// Splits "k\tv\n...\n\n<rest>" into the fields and the rest.
inline Fields DecodeFields(std::string_view text, std::string_view* rest) {
  Fields f;
  while (!text.empty() && text.front() != '\n') {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    size_t tab = line.find('\t');
    if (tab != std::string_view::npos) f[std::string(line.substr(0, tab))] = line.substr(tab + 1);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  *rest = text.empty() ? text : text.substr(1);
  return f;
}

inline int64_t ToInt(const Fields& f, const char* k) {
  auto it = f.find(k);
  return it == f.end() || it->second.empty() ? 0 : std::stoll(it->second);
}
inline std::string ToStr(const Fields& f, const char* k) {
  auto it = f.find(k);
  return it == f.end() ? std::string() : it->second;
}

// Turns the (kind, key) pairs an engine touched into state rows: the row's value if the engine
// still has it (`state.Exists`, `state.Serialize`), else an erase.
template <typename S, typename Change>
void FlushDirty(std::set<std::pair<std::string, std::string>>& dirty, const S& state,
                std::vector<Change>* out) {
  for (const auto& [kind, key] : dirty) {
    if (state.Exists(kind, key)) {
      out->push_back(Change{kind, key, state.Serialize(kind, key), false});
    } else {
      out->push_back(Change{kind, key, {}, true});
    }
  }
  dirty.clear();
}

// Per-line quantities as "1,2.5,0" and back.
inline std::string JoinDecimals(const std::vector<Decimal>& v) {
  std::string out;
  for (Decimal d : v) out += (out.empty() ? "" : ",") + d.ToString();
  return out;
}
inline std::vector<Decimal> SplitDecimals(std::string_view text) {
  std::vector<Decimal> out;
  for (size_t p = 0; !text.empty() && p != std::string_view::npos;) {
    size_t c = text.find(',', p);
    out.push_back(Decimal::Parse(text.substr(p, c - p)).value_or(Decimal{}));
    p = c == std::string_view::npos ? c : c + 1;
  }
  return out;
}

}  // namespace kuajing::clearance::rows
