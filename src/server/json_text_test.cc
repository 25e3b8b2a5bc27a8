#include "server/json_text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>
#include <tuple>

#include "codec/codec.h"
#include "model/documents.h"

namespace kuajing::server {
namespace {

namespace json = boost::json;

std::string Ours(std::string_view s) {
  std::string out = "prefix";  // appended, never overwritten
  AppendJsonString(out, s);
  return out.substr(6);
}

std::string Boost(std::string_view s) { return json::serialize(json::string(s)); }

TEST(JsonText, EveryByteIsWrittenAsBoostJsonWritesIt) {
  for (int c = 0; c < 256; ++c) {
    const std::string s = "a" + std::string(1, static_cast<char>(c)) + "b";
    EXPECT_EQ(Ours(s), Boost(s)) << "byte " << c;
  }
  for (std::string_view s : {"", "\"", "\\", "入库成功", "<a x=\"1\">\n</a>\r\n", "\x1f\x7f"}) {
    EXPECT_EQ(Ours(s), Boost(s));
  }
}

TEST(JsonText, RandomStringsAreWrittenAsBoostJsonWritesThem) {
  std::mt19937 rng(11);
  for (int i = 0; i < 4000; ++i) {
    // Short and long, escapes dense and sparse (eight bytes are checked at a time), any byte.
    std::string s(rng() % (i % 2 ? 40 : i % 10 == 0 ? 3000 : 300), '\0');
    const unsigned sparse = 1 + rng() % 64;
    for (char& c : s) {
      c = static_cast<char>(rng() % sparse == 0 ? rng() % 256 : 32 + rng() % 95);
    }
    ASSERT_EQ(Ours(s), Boost(s)) << i;
  }
  // Written a chunk of 512 input bytes at a time: escapes on each side of the chunks' ends, and
  // a string that is escapes only (six bytes written for each) over several chunks.
  for (size_t at = 500; at < 530; ++at) {
    std::string s(1100, 'x');
    s[at] = '\x01';
    s[at + 512] = '"';
    ASSERT_EQ(Ours(s), Boost(s)) << at;
  }
  ASSERT_EQ(Ours(std::string(1537, '\x1f')), Boost(std::string(1537, '\x1f')));
  // One escape at each position of a long string.
  for (size_t at = 0; at < 40; ++at) {
    for (char c : {'"', '\\', '\n', '\x1f', '\0'}) {
      std::string s(40, 'x');
      s[at] = c;
      ASSERT_EQ(Ours(s), Boost(s)) << at;
    }
  }
}

TEST(JsonText, AReceiptIsTheObjectTheApiShowed) {
  storage::StoredReceipt r{"CEB312",
                           "2A3B-GUID",
                           "120",
                           "<?xml version=\"1.0\"?>\n<ceb:CEB312Message>入库</ceb:CEB312Message>\n",
                           {"A"}};
  for (int64_t id : {int64_t{0}, int64_t{7}, int64_t{1} << 40}) {
    r.id = id;
    json::object o{
        {"type", r.type}, {"status", r.status}, {"answers", r.answers_guid}, {"xml", r.xml}};
    if (r.id != 0) o["id"] = r.id;
    std::string ours;
    AppendReceiptJson(ours, r);
    EXPECT_EQ(ours, json::serialize(o));
    EXPECT_GE(ReceiptJsonSizeHint(r), ours.size());
    // The brief form (Prefer: return=minimal) is the same object without "xml".
    o.erase("xml");
    std::string brief = "[";  // appended
    AppendBriefReceiptJson(brief, r);
    EXPECT_EQ(brief, "[" + json::serialize(o));
    EXPECT_GE(BriefReceiptJsonSizeHint(r), brief.size() - 1);
  }
}

// The brief form carries the list number a receipt states (a list's CEB622, a cancellation's and
// a return's receipts), from its packed record or from its XML alike, and no "invtNo" where the
// receipt has none.
TEST(JsonText, ABriefReceiptCarriesItsInvtNo) {
  const std::string kInvtNo = "49002024I000000001";
  model::InventoryReturn list;
  list.guid = "G-LIST";
  list.invtNo = kInvtNo;
  list.returnStatus = "800";
  model::InvtCancelReturn cancel;
  cancel.invtNo = kInvtNo;
  model::InventoryReturn unnumbered;  // accepted, not yet numbered
  const std::vector<std::tuple<std::string, model::Record, std::string>> cases = {
      {"CEB622", list, kInvtNo},
      {"CEB624", cancel, kInvtNo},
      {"CEB622", unnumbered, ""},
      {"CEB312", model::OrderReturn{}, ""}};
  for (const auto& [type, record, want] : cases) {
    storage::StoredReceipt r{type, "G-DECL", "800", "", {"E"}};
    r.id = 9;
    r.packed = codec::PackRecord(record);
    json::object o{{"type", r.type}, {"status", r.status}, {"answers", r.answers_guid}};
    if (!want.empty()) o["invtNo"] = want;
    o["id"] = r.id;
    std::string packed_brief, xml_brief;
    AppendBriefReceiptJson(packed_brief, r);
    EXPECT_EQ(packed_brief, json::serialize(o)) << type;
    ASSERT_TRUE(storage::RenderReceipt(r).ok());
    ASSERT_TRUE(r.packed.empty());
    AppendBriefReceiptJson(xml_brief, r);
    EXPECT_EQ(xml_brief, packed_brief) << type << " from its XML";
    EXPECT_GE(BriefReceiptJsonSizeHint(r), xml_brief.size());
  }
}

// A receipt kept packed is written into the JSON with its XML escaped for both in one pass: the
// bytes of writing its XML out (storage::ReceiptXml) and escaping that (AppendReceiptJson), for
// receipts of three shapes (flat, and a head with lines) whose texts hold every kind of byte the
// two escapes treat: markup, quotes, backslashes, TAB, LF, CR, other controls, UTF-8, and runs
// long enough for the sixteen-byte scans.
TEST(JsonText, APackedReceiptIsWrittenAsItsXmlEscaped) {
  std::mt19937 rng(29);
  const std::vector<std::string> pieces = {"a",    "Z",    "0",  " ",  "<",  ">",    "&",
                                           "\"",   "'",    "\\", "\t", "\n", "\r",   "\x01",
                                           "\x1f", "\x7f", "衡", "é",  "/",  "&amp;"};
  auto text = [&] {
    std::string t;
    const size_t n = rng() % 5 == 0 ? 40 + rng() % 200 : rng() % 12;
    const unsigned plain = rng() % 4;  // how many runs of plain letters between the others
    for (size_t i = 0; i < n; ++i) t += rng() % (plain + 1) ? "x" : pieces[rng() % pieces.size()];
    return t;
  };
  auto fill = [&](auto& entity) {
    model::VisitFields(entity, [&](const model::FieldSpec&, auto& m) {
      using M = std::decay_t<decltype(m)>;
      if constexpr (std::is_same_v<M, std::string>) {
        m = text();
      } else if constexpr (std::is_same_v<M, Decimal>) {
        m = Decimal::FromE5(static_cast<int64_t>(rng()) - (int64_t{1} << 31));
      } else if constexpr (std::is_same_v<M, int64_t>) {
        m = static_cast<int64_t>(rng());
      }
    });
  };
  for (int i = 0; i < 600; ++i) {
    model::Record record;
    std::string type;
    if (i % 3 == 0) {
      model::OrderReturn r;
      fill(r);
      record = r;
      type = "CEB312";
    } else if (i % 3 == 1) {
      model::InventoryReturn r;
      fill(r);
      record = r;
      type = "CEB622";
    } else {
      model::Tax t;
      fill(t.head);
      t.lists.resize(rng() % 4);
      for (auto& line : t.lists) fill(line);
      record = t;
      type = "CEB816";
    }
    storage::StoredReceipt r{type, text(), text(), "", {"E"}};
    r.id = i % 2 ? i : 0;
    r.packed = codec::PackRecord(record);
    auto xml = storage::ReceiptXml(r);
    ASSERT_TRUE(xml.ok()) << xml.status().ToString();
    std::string expected = "[", ours = "[";
    AppendReceiptJson(expected, r, *xml);
    ASSERT_TRUE(AppendPackedReceiptJson(ours, r).ok());
    ASSERT_EQ(ours, expected) << i;
  }
  // A damaged record is an error.
  storage::StoredReceipt damaged{"CEB312", "G", "2", "", {}};
  damaged.packed = codec::PackRecord(model::OrderReturn{}).substr(0, 5);
  std::string out;
  EXPECT_FALSE(AppendPackedReceiptJson(out, damaged).ok());
}

// The access log line is the object the server logged through boost::json before, byte for byte,
// whatever the client put in the path.
TEST(JsonText, AnAccessLogLineIsTheObjectTheServerLogged) {
  for (std::string_view path :
       {"/v1/messages", "/v1/quota?id=\"x\"&n=\\1", "/入库\n\x01", "", "/a\x7f\xff\xfe"}) {
    for (int64_t us : {int64_t{0}, int64_t{153}, int64_t{1} << 40}) {
      const AccessLogEntry e{"20261206150102123", "POST", path, 503, us, "127.0.0.1",
                             "4304961001 \"k\""};
      const json::object o{
          {"time_cst", e.time_cst}, {"event", "http"}, {"method", e.method}, {"path", e.path},
          {"status", e.status},     {"us", e.us},      {"ip", e.ip},         {"who", e.who}};
      std::string ours = "kept";
      AppendAccessLogLine(ours, e);
      EXPECT_EQ(ours, "kept" + json::serialize(o)) << path << " " << us;
    }
  }
}

}  // namespace
}  // namespace kuajing::server
