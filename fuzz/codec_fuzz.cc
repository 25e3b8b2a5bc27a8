// libFuzzer target for every parser of untrusted input on the clearance path: the CEB codec, then
// the field rules and the engine on whatever the codec accepts.
// Properties: nothing crashes or leaks (ASan, UBSan); a message read without field errors is
// written back canonically and reads back to the same model (parse -> write -> parse); whatever
// the direct reader reads, the tree reader reads the same, without field errors (codec.h, Decode).
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "clearance/engine.h"
#include "clearance/export_engine.h"
#include "codec/codec.h"

namespace {

const kuajing::reference::ReferenceData& Reference() {
  static const auto ref =
      *kuajing::reference::ReferenceData::LoadDir(KJ_SOURCE_DIR "/data/reference");
  return ref;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kuajing;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (std::optional<codec::DecodedMessage> direct = codec::DecodeDirectOnly(bytes)) {
    codec::DecodeResult tree = codec::DecodeThroughTree(bytes);
    auto* t = std::get_if<codec::DecodedMessage>(&tree);
    if (t == nullptr || !(t->message == direct->message) ||
        t->errors.size() != direct->errors.size()) {
      std::abort();  // the two readers disagree
    }
    for (const auto& e : t->errors) {
      if (!e.empty()) std::abort();  // the direct reader read a record the tree finds wrong
    }
  }
  codec::DecodeResult r = codec::Decode(bytes);
  auto* d = std::get_if<codec::DecodedMessage>(&r);
  if (d == nullptr) return 0;
  bool clean = true;
  for (const auto& e : d->errors) clean = clean && e.empty();
  if (clean) {
    std::string again = codec::Encode(d->message);
    codec::DecodeResult r2 = codec::Decode(again);
    auto* d2 = std::get_if<codec::DecodedMessage>(&r2);
    if (d2 == nullptr || !(d2->message == d->message)) std::abort();  // round trip broken
  }
  const std::string sender = d->message.base_transfer ? d->message.base_transfer->copCode : "";
  auto run = [&](auto& engine) {
    (void)engine.Process(*d, sender, 1718069415000);
    (void)engine.Process(*d, sender, 1718069416000);  // and once more: the resend paths
  };
  if (!model::IsDeclaration(d->message.type)) return 0;
  if (model::IsExport(d->message.type)) {
    clearance::ExportEngine engine(&Reference(), clearance::RulesConfig{});
    run(engine);
  } else {
    clearance::Engine engine(&Reference(), clearance::RulesConfig{});
    run(engine);
  }
  return 0;
}
