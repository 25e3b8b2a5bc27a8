// Every official import sample of the 202205 standard (../shared/ceb-spec/samples/import) is read
// without loss: each leaf element's text in the sample appears, with the same value, in what the
// codec writes back from the model (numbers compared by value, empty optional elements skipped),
// and parse -> write -> parse gives the same model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <sstream>

#include "codec/codec.h"
#include "test_util.h"

namespace kuajing {
namespace {

namespace fs = std::filesystem;
const fs::path kSamples = fs::path(KJ_SHARED_DIR) / "ceb-spec/samples/import";

using testing::ReadFile;

std::string Local(const char* name) {
  std::string n = name;
  size_t c = n.find(':');
  return c == std::string::npos ? n : n.substr(c + 1);
}

// path -> values of every non-empty leaf element of the business part (Signature excluded).
void Leaves(pugi::xml_node n, const std::string& path,
            std::multimap<std::string, std::string>& out) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    std::string name = Local(c.name());
    if (name == "Signature") continue;
    std::string p = path + "/" + name;
    if (c.first_element_by_path(".") &&
        c.find_child([](pugi::xml_node x) { return x.type() == pugi::node_element; })) {
      Leaves(c, p, out);
    } else {
      std::string v = c.child_value();
      if (v.empty()) continue;
      // Numbers compare by value: "20.00" and "20" are the same N19,5 number.
      if (auto d = Decimal::Parse(v); d && v.find_first_not_of("0123456789.-") == std::string::npos)
        v = d->ToString();
      out.emplace(p, v);
    }
  }
}

std::vector<std::string> SampleFiles() {
  std::vector<std::string> out;
  if (!fs::exists(kSamples)) return out;
  for (const auto& e : fs::directory_iterator(kSamples))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(OfficialSamples, AllSixteenArePresent) {
  if (!fs::exists(kSamples)) GTEST_SKIP() << "no ../shared/ceb-spec beside the checkout";
  EXPECT_EQ(SampleFiles().size(), 16u);
}

class SampleTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SampleTest, ReadWithoutLoss) {
  const std::string raw = ReadFile(kSamples / GetParam());
  codec::DecodeResult r = codec::Decode(raw);
  ASSERT_TRUE(std::holds_alternative<codec::DecodedMessage>(r))
      << std::get<codec::DecodeFailure>(r).info;
  const auto& dm = std::get<codec::DecodedMessage>(r);
  for (size_t i = 0; i < dm.errors.size(); ++i) {
    for (const auto& e : dm.errors[i])
      ADD_FAILURE() << "record " << i << ": " << e.path << ": " << e.reason;
  }
  const std::string written = codec::Encode(dm.message);
  pugi::xml_document a, b;
  ASSERT_TRUE(a.load_string(raw.c_str()));
  ASSERT_TRUE(b.load_string(written.c_str())) << written;
  std::multimap<std::string, std::string> in, out;
  Leaves(a.document_element(), "", in);
  Leaves(b.document_element(), "", out);
  EXPECT_GT(in.size(), 5u) << "the comparison must see the sample's fields";
  EXPECT_EQ(in, out);
  // The signature is kept verbatim for later verification.
  if (raw.find("Signature") != std::string::npos) {
    EXPECT_NE(dm.message.signature_xml.find("SignatureValue"), std::string::npos);
  }
  // Round trip: what we write reads back to the same model.
  codec::DecodeResult again = codec::Decode(written);
  ASSERT_TRUE(std::holds_alternative<codec::DecodedMessage>(again));
  EXPECT_EQ(std::get<codec::DecodedMessage>(again).message, dm.message);
}

INSTANTIATE_TEST_SUITE_P(Import, SampleTest, ::testing::ValuesIn(SampleFiles()),
                         [](const auto& info) { return info.param.substr(0, 6); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SampleTest);

}  // namespace
}  // namespace kuajing
