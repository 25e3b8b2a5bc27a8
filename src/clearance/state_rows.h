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

using ::kuajing::DecodeFields;
using ::kuajing::EncodeFields;
using ::kuajing::Fields;
using ::kuajing::JoinDecimals;
using ::kuajing::SplitDecimals;
using ::kuajing::ToInt;
using ::kuajing::ToStr;

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

}  // namespace kuajing::clearance::rows
