// Every official sample of the 202205 standard (vendored in spec/samples/{import,export}) is read
// without loss: each leaf element's text in the sample appears, with the same value, in what the
// codec writes back from the model (numbers compared by value, empty optional elements skipped),
// and parse -> write -> parse gives the same model.
//
// The export samples that break their own schema are read under the codec's documented
// tolerances (docs/EXPORT.md), or, where the deviation is a field, with exactly that field
// reported; the tests below pin which is which.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <sstream>
#include <utility>

#include "codec/codec.h"
#include "test_util.h"
#include "xsd_validator.h"

namespace kuajing {
namespace {

namespace fs = std::filesystem;
const fs::path kSpec = fs::path(KJ_SOURCE_DIR) / "spec/samples";

using testing::ReadFile;

std::string Local(const char* name) {
  std::string n = name;
  size_t c = n.find(':');
  return c == std::string::npos ? n : n.substr(c + 1);
}

// path -> values of every non-empty leaf element of the business part (Signature, a repeated
// BaseTransfer and CEB214's unknown appSenderId excluded: the tolerances pinned below).
void Leaves(pugi::xml_node n, const std::string& path,
            std::multimap<std::string, std::string>& out) {
  bool seen_base_transfer = false;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    std::string name = Local(c.name());
    if (name == "Signature" || name == "appSenderId") continue;
    if (name == "BaseTransfer" && std::exchange(seen_base_transfer, true)) continue;
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

// "import/CEB311Message.xml", ...
std::vector<std::string> SampleFiles(const std::string& half) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kSpec / half))
    out.push_back(half + "/" + e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(OfficialSamples, AllArePresent) {
  EXPECT_EQ(SampleFiles("import").size(), 16u);
  EXPECT_EQ(SampleFiles("export").size(), 23u);
}

// The two export samples whose fields deviate from the schema (both receipts, which customs
// writes and kuajing only reads in tests): CEB792 writes gnum where the schema has gseqno (the
// summary line number) followed by gnum, so gseqno is reported missing; CEB214 carries an
// appSenderId the schema does not know, reported as unexpected and not kept.
bool KnownFieldDeviation(const std::string& file, const codec::FieldError& e) {
  return (file == "export/CEB792Message.xml" && e.path.ends_with(".gseqno") &&
          e.reason == "required element is missing") ||
         (file == "export/CEB214Message.xml" && e.path.ends_with(".appSenderId") &&
          e.reason.starts_with("unexpected element"));
}

class SampleTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SampleTest, ReadWithoutLoss) {
  const std::string raw = ReadFile(kSpec / GetParam());
  codec::DecodeResult r = codec::Decode(raw);
  ASSERT_TRUE(std::holds_alternative<codec::DecodedMessage>(r))
      << std::get<codec::DecodeFailure>(r).info;
  const auto& dm = std::get<codec::DecodedMessage>(r);
  size_t deviations = 0;
  for (size_t i = 0; i < dm.errors.size(); ++i) {
    for (const auto& e : dm.errors[i]) {
      if (KnownFieldDeviation(GetParam(), e)) {
        ++deviations;
        continue;
      }
      ADD_FAILURE() << "record " << i << ": " << e.path << ": " << e.reason;
    }
  }
  if (GetParam() == "export/CEB792Message.xml") {
    EXPECT_GT(deviations, 0u);
  }
  const std::string written = codec::Encode(dm.message);
  pugi::xml_document a, b;
  ASSERT_TRUE(a.load_string(raw.c_str()));
  ASSERT_TRUE(b.load_string(written.c_str())) << written;
  std::multimap<std::string, std::string> in, out;
  Leaves(a.document_element(), "", in);
  Leaves(b.document_element(), "", out);
  // CEB792: the missing gseqno is written as 0 (it is required); nothing of the sample is lost.
  if (GetParam() == "export/CEB792Message.xml")
    out.erase("/SummaryResult/SummaryResultList/gseqno");
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

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param.substr(info.param.find('/') + 1, 6);
}
INSTANTIATE_TEST_SUITE_P(Import, SampleTest, ::testing::ValuesIn(SampleFiles("import")), TestName);
INSTANTIATE_TEST_SUITE_P(Export, SampleTest, ::testing::ValuesIn(SampleFiles("export")), TestName);

// Tolerances, each pinned: the repeated BaseTransfer of the export declaration samples is read as
// one; a repetition that differs is refused with CEB900 -2.
TEST(OfficialSamples, RepeatedBaseTransferMustBeIdentical) {
  std::string raw = ReadFile(kSpec / "export/CEB303Message.xml");
  auto ok = codec::Decode(raw);
  ASSERT_TRUE(std::holds_alternative<codec::DecodedMessage>(ok));
  EXPECT_EQ(std::get<codec::DecodedMessage>(ok).message.base_transfer->copCode, "1105910159");
  // Make the second BaseTransfer name another enterprise.
  size_t second = raw.find("<ceb:copCode>", raw.find("</ceb:BaseTransfer>"));
  ASSERT_NE(second, std::string::npos);
  raw.replace(raw.find("1105910159", second), 10, "1105910160");
  auto bad = codec::Decode(raw);
  ASSERT_TRUE(std::holds_alternative<codec::DecodeFailure>(bad));
  EXPECT_EQ(std::get<codec::DecodeFailure>(bad).status, "-2");
  EXPECT_NE(std::get<codec::DecodeFailure>(bad).info.find("different content"), std::string::npos);
}

// What kuajing writes follows the schema even where the sample did not: one BaseTransfer, the
// CEB214 root with its "Message" suffix.
TEST(OfficialSamples, WrittenExportMessagesValidate) {
  for (const std::string& f : SampleFiles("export")) {
    if (f == "export/CEB792Message.xml") continue;  // missing gseqno: not valid, by the sample
    auto r = codec::Decode(ReadFile(kSpec / f));
    ASSERT_TRUE(std::holds_alternative<codec::DecodedMessage>(r)) << f;
    std::string written = codec::Encode(std::get<codec::DecodedMessage>(r).message);
    EXPECT_EQ(testing::ValidateAgainstCebXsd(written), "") << f;
  }
}

}  // namespace
}  // namespace kuajing
