#include "codec/codec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "app/demo_batch.h"
#include "clearance/receipts.h"
#include "xsd_validator.h"

namespace kuajing::codec {
namespace {

using namespace kuajing::model;

DecodedMessage Ok(DecodeResult r) {
  if (auto* f = std::get_if<DecodeFailure>(&r)) {
    ADD_FAILURE() << f->info;
    return {};
  }
  return std::get<DecodedMessage>(std::move(r));
}

DecodeFailure Failed(DecodeResult r) {
  if (!std::holds_alternative<DecodeFailure>(r)) {
    ADD_FAILURE() << "the message was read, a failure was expected";
    return {};
  }
  return std::get<DecodeFailure>(std::move(r));
}

std::string FirstError(const DecodedMessage& m) {
  for (const auto& errs : m.errors) {
    if (!errs.empty()) return errs[0].path + ": " + errs[0].reason;
  }
  return "";
}

std::string AllErrors(const DecodedMessage& m) {
  std::string out;
  for (const auto& errs : m.errors) {
    for (const auto& e : errs) out += e.path + ": " + e.reason + "\n";
  }
  return out;
}

TEST(Codec, RoundTripsEveryDeclarationOfTheDemo) {
  for (const app::ClearanceSpec& spec : app::DemoClearances()) {
    app::ClearanceMessages m = app::MakeClearance(spec);
    for (const std::string* xml : {&m.order, &m.payment, &m.waybill, &m.inventory}) {
      const DecodedMessage d = Ok(Decode(*xml));
      EXPECT_EQ(FirstError(d), "");
      EXPECT_EQ(Encode(d.message), *xml) << "the writer is canonical: encode(decode(x)) == x";
    }
  }
}

TEST(Codec, ReadsByNamespaceNotByPrefix) {
  std::string xml = app::MakeClearance(app::DemoClearances()[0]).payment;
  const Message reference = Ok(Decode(xml)).message;
  // The same message with a default namespace and with another prefix reads the same.
  std::string def = std::regex_replace(xml, std::regex("ceb:"), "");
  def = std::regex_replace(def, std::regex("xmlns:ceb="), "xmlns=");
  EXPECT_EQ(Ok(Decode(def)).message, reference);
  std::string other = std::regex_replace(xml, std::regex("ceb:"), "x:");
  other = std::regex_replace(other, std::regex("xmlns:ceb="), "xmlns:x=");
  EXPECT_EQ(Ok(Decode(other)).message, reference);
  // A field in another namespace is not the standard's field.
  std::string foreign =
      std::regex_replace(xml, std::regex("<ceb:payerName>"), "<f:payerName xmlns:f=\"urn:other\">");
  foreign = std::regex_replace(foreign, std::regex("</ceb:payerName>"), "</f:payerName>");
  EXPECT_EQ(AllErrors(Ok(Decode(foreign))),
            "Payment[1].PaymentHead.payerName: unexpected element (unknown, repeated or out of "
            "schema order)\n"
            "Payment[1].PaymentHead.payerName: required element is missing\n");
}

TEST(Codec, HoldsTheSchemasRecordAndLineLimits) {
  std::vector<app::ClearanceSpec> specs;
  for (int i = 0; i < 101; ++i) {
    app::ClearanceSpec s = app::DemoClearances()[0];
    s.order_no = "LIM" + std::to_string(i);
    specs.push_back(s);
  }
  // 101 orders in one message: one over maxOccurs.
  EXPECT_NE(Failed(Decode(app::MakeBatch(specs).orders)).info.find("more than 100 Order elements"),
            std::string::npos);
  specs.pop_back();
  EXPECT_EQ(Ok(Decode(app::MakeBatch(specs).orders)).message.records.size(), 100u);
  // The direct reader reads up to the limit and gives the one over it to the tree (above).
  EXPECT_TRUE(DecodeDirectOnly(app::MakeBatch(specs).orders).has_value());
  specs.push_back(specs.back());
  EXPECT_FALSE(DecodeDirectOnly(app::MakeBatch(specs).orders).has_value());
  // 99 lines are allowed, 100 are not.
  app::ClearanceSpec big = app::DemoClearances()[0];
  big.items.assign(99, big.items[0]);
  EXPECT_EQ(FirstError(Ok(Decode(app::MakeClearance(big).inventory))), "");
  EXPECT_TRUE(DecodeDirectOnly(app::MakeClearance(big).inventory).has_value());
  big.items.push_back(big.items[0]);
  EXPECT_NE(FirstError(Ok(Decode(app::MakeClearance(big).inventory))).find("more than 99 lines"),
            std::string::npos);
  EXPECT_FALSE(DecodeDirectOnly(app::MakeClearance(big).inventory).has_value());
  // The byte limit.
  DecodeOptions small;
  small.max_message_bytes = 100;
  EXPECT_EQ(Failed(Decode(app::MakeClearance(big).order, small)).status, "-1");
}

TEST(Codec, NamesTheFieldAndTheRule) {
  std::string xml = app::MakeClearance(app::DemoClearances()[0]).waybill;
  auto swap = [&](const std::string& from, const std::string& to) {
    return FirstError(Ok(Decode(std::regex_replace(xml, std::regex(from), to))));
  };
  EXPECT_EQ(swap("<ceb:packNo>1</ceb:packNo>", "<ceb:packNo>one</ceb:packNo>"),
            "Logistics[1].LogisticsHead.packNo: not a valid integer: 'one'");
  EXPECT_EQ(
      swap("<ceb:weight>1.2</ceb:weight>", "<ceb:weight>1.2.3</ceb:weight>"),
      "Logistics[1].LogisticsHead.weight: not a valid N19,5 number (two decimal points): '1.2.3'");
  EXPECT_EQ(swap("<ceb:consignee>", "<ceb:consignee>\x10"),
            "Logistics[1].LogisticsHead.consignee: contains a control character, which XML does "
            "not allow");
  // Past the first eight bytes of an ASCII text (read eight at a time), and in the last ones.
  EXPECT_EQ(swap("<ceb:consigneeTelephone>", "<ceb:consigneeTelephone>123456789\x01"),
            "Logistics[1].LogisticsHead.consigneeTelephone: contains a control character, which "
            "XML does not allow");
  EXPECT_EQ(swap("</ceb:consigneeTelephone>", "\x1f</ceb:consigneeTelephone>"),
            "Logistics[1].LogisticsHead.consigneeTelephone: contains a control character, which "
            "XML does not allow");
  EXPECT_EQ(swap("<ceb:consigneeTelephone>[^<]*<", "<ceb:consigneeTelephone>\t1234567\r\n<"), "");
  // Lengths count characters, not bytes, over ASCII words and multi-byte characters alike.
  EXPECT_EQ(swap("<ceb:consigneeTelephone>[^<]*<",
                 "<ceb:consigneeTelephone>" + std::string(50, '1') + "<"),
            "");
  EXPECT_EQ(swap("<ceb:consigneeTelephone>[^<]*<",
                 "<ceb:consigneeTelephone>" + std::string(51, '1') + "<"),
            "Logistics[1].LogisticsHead.consigneeTelephone: longer than 50 characters (51)");
  std::string mixed = std::string(9, '1');
  for (int i = 0; i < 41; ++i) mixed += "电";
  EXPECT_EQ(swap("<ceb:consigneeTelephone>[^<]*<", "<ceb:consigneeTelephone>" + mixed + "<"), "");
  EXPECT_EQ(swap("<ceb:consigneeTelephone>[^<]*<", "<ceb:consigneeTelephone>" + mixed + "1<"),
            "Logistics[1].LogisticsHead.consigneeTelephone: longer than 50 characters (51)");
  // Multi-byte text is counted eight bytes at a time too: every alignment of it, and a control
  // character inside or after it.
  for (int digits = 0; digits < 8; ++digits) {
    std::string text(static_cast<size_t>(digits), '1');
    while (text.size() < static_cast<size_t>(digits) + 3 * (50 - digits)) text += "电";
    EXPECT_EQ(swap("<ceb:consigneeTelephone>[^<]*<", "<ceb:consigneeTelephone>" + text + "<"), "")
        << digits;
    EXPECT_EQ(swap("<ceb:consigneeTelephone>[^<]*<", "<ceb:consigneeTelephone>" + text + "电<"),
              "Logistics[1].LogisticsHead.consigneeTelephone: longer than 50 characters (51)")
        << digits;
    EXPECT_EQ(swap("<ceb:consigneeTelephone>[^<]*<",
                   "<ceb:consigneeTelephone>" + text.substr(0, static_cast<size_t>(digits) + 24) +
                       "\x02<"),
              "Logistics[1].LogisticsHead.consigneeTelephone: contains a control character, which "
              "XML does not allow")
        << digits;
  }
  EXPECT_EQ(swap("<ceb:currency>142</ceb:currency>", "<ceb:currency>1420</ceb:currency>"),
            "Logistics[1].LogisticsHead.currency: must be exactly 3 characters (4)");
  // Out of schema order: currency moved before logisticsCode.
  EXPECT_NE(
      swap("<ceb:currency>142</ceb:currency>", "").find("currency: required element is missing"),
      std::string::npos);
  const DecodedMessage twice =
      Ok(Decode(std::regex_replace(xml, std::regex("<ceb:packNo>1</ceb:packNo>"),
                                   "<ceb:packNo>1</ceb:packNo><ceb:packNo>1</ceb:packNo>")));
  ASSERT_FALSE(twice.errors[0].empty());
  EXPECT_EQ(twice.errors[0].back().path, "Logistics[1].LogisticsHead.packNo");
  EXPECT_EQ(twice.errors[0].back().reason,
            "unexpected element (unknown, repeated or out of schema order)");
}

TEST(Codec, RejectsWhatIsNotAMessage) {
  EXPECT_EQ(Failed(Decode("")).status, "-1");
  EXPECT_EQ(Failed(Decode("<a>")).status, "-1");
  EXPECT_EQ(
      Failed(
          Decode("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
                 "<ceb:CEB311Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\" guid=\"x\" "
                 "version=\"1.0\">&e;</ceb:CEB311Message>"))
          .status,
      "-2");  // external entities are never fetched; the bad guid stops it
  EXPECT_NE(Failed(Decode("<ceb:CEB311Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\" "
                          "guid=\"short\" version=\"1.0\"/>"))
                .info.find("@guid must be 36 characters"),
            std::string::npos);
  std::string bad_utf8 = "<a>\xC3\x28</a>";
  EXPECT_NE(Failed(Decode(bad_utf8)).info.find("not valid UTF-8"), std::string::npos);
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));      // overlong '/'
  EXPECT_TRUE(IsValidUtf8("衡阳"));
}

// IsValidUtf8 against a decoder written from the definition (each sequence decoded to its code
// point, then overlong forms, surrogates and values past U+10FFFF refused): every lead byte with
// second to fourth bytes at the edges of every range, alone, cut short, behind ASCII of 0, 7 and
// 16 bytes (the fast paths read 16 and 8 bytes at a time) or Chinese, and followed by more text or
// nothing.
TEST(Codec, Utf8ValidityAsTheDefinitionSays) {
  auto reference = [](std::string_view s) {
    for (size_t i = 0; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i]);
      int extra;
      uint32_t cp;
      if (c < 0x80) {
        ++i;
        continue;
      }
      if ((c & 0xE0) == 0xC0) {
        extra = 1, cp = c & 0x1F;
      } else if ((c & 0xF0) == 0xE0) {
        extra = 2, cp = c & 0x0F;
      } else if ((c & 0xF8) == 0xF0) {
        extra = 3, cp = c & 0x07;
      } else {
        return false;
      }
      if (i + static_cast<size_t>(extra) >= s.size()) return false;
      for (int k = 1; k <= extra; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
        if ((cc & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (cc & 0x3F);
      }
      if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
          (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        return false;
      }
      i += static_cast<size_t>(extra) + 1;
    }
    return true;
  };
  const unsigned char edges[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  int valid = 0, checked = 0;
  for (unsigned lead = 0x80; lead <= 0xFF; ++lead) {
    for (unsigned char b1 : edges) {
      for (unsigned char b2 : edges) {
        for (unsigned char b3 : edges) {
          const std::string seq{static_cast<char>(lead), static_cast<char>(b1),
                                static_cast<char>(b2), static_cast<char>(b3)};
          for (size_t len = 1; len <= 4; ++len) {
            // Behind Chinese text too: a run of three-byte characters is checked in a loop of its
            // own.
            for (const std::string& before :
                 {std::string(), std::string(7, 'a'), std::string(16, 'a'), std::string("衡"),
                  std::string("a衡阳")}) {
              for (const char* after : {"", "abcdefghijklmnopq"}) {
                const std::string text = before + seq.substr(0, len) + after;
                ASSERT_EQ(IsValidUtf8(text), reference(text))
                    << "lead " << lead << " bytes " << int{b1} << " " << int{b2} << " " << int{b3}
                    << " length " << len << " after '" << before << "', then '" << after << "'";
                valid += reference(text) ? 1 : 0;
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(valid, 1000);  // the sample holds both kinds
  EXPECT_GT(checked - valid, 1000);
  EXPECT_TRUE(IsValidUtf8("衡阳跨境电商综试区 Hengyang 𝄞 é"));
  EXPECT_FALSE(IsValidUtf8(std::string("衡阳") + "\xE8\xA1"));  // the last character cut short
  // Nothing past the end is read: a text that ends where a wide read ends, with a byte that is
  // never UTF-8 right after it (the fuzzer found a read one past the end of sixteen ASCII bytes).
  for (size_t len = 0; len <= 48; ++len) {
    const std::string buffer = std::string(len, 'a') + "\xFF";
    EXPECT_TRUE(IsValidUtf8(std::string_view(buffer.data(), len))) << len;
    const std::string cjk = std::string(len, 'a') + "衡\xFF";
    EXPECT_TRUE(IsValidUtf8(std::string_view(cjk.data(), len + 3))) << len;
  }
}

// Utf8Length counts eight bytes at a time: every mix of one-, two-, three- and four-byte
// characters, at every offset from a word's start and cut at every length, counts as one by one.
TEST(Codec, Utf8LengthCountsCharactersAtEveryOffset) {
  const std::string pieces[] = {"a", "\xC3\xA9", "衡", "\xF0\x9F\x93\xA6", "Z"};  // 1-4 bytes
  std::string text;
  size_t chars = 0;
  for (int i = 0; i < 60; ++i, ++chars) text += pieces[(i * 7 + i / 5) % 5];
  for (size_t from = 0; from < 9; ++from) {
    for (size_t len = 0; from + len <= text.size(); ++len) {
      const std::string_view part = std::string_view(text).substr(from, len);
      size_t slow = 0;
      for (unsigned char c : part) slow += (c & 0xC0) != 0x80;
      ASSERT_EQ(Utf8Length(part), slow) << "from " << from << " length " << len;
    }
  }
  EXPECT_EQ(Utf8Length(text), chars);
  EXPECT_EQ(Utf8Length("衡阳综合保税区 Hengyang"), 16u);
  // CutUtf8 keeps whole characters, and returns a text of no more bytes than that many
  // characters as it is.
  EXPECT_EQ(clearance::CutUtf8("衡阳abc", 2), "衡阳");
  EXPECT_EQ(clearance::CutUtf8("衡阳", 5), "衡阳");
  EXPECT_EQ(clearance::CutUtf8("衡阳", 1), "衡");
  EXPECT_EQ(clearance::CutUtf8("abcd", 3), "abc");
  EXPECT_EQ(clearance::CutUtf8("abc", 3), "abc");
  EXPECT_EQ(clearance::CutUtf8("", 0), "");
}

TEST(Codec, EveryReceiptKindIsSchemaValid) {
  app::ClearanceMessages m = app::MakeClearance(app::DemoClearances()[1]);
  std::vector<std::pair<MessageType, Record>> receipts;
  for (const std::string* xml : {&m.order, &m.payment, &m.waybill, &m.inventory}) {
    const DecodedMessage d = Ok(Decode(*xml));
    receipts.emplace_back(
        ReceiptTypeOf(d.message.type),
        clearance::MakeReceipt(d.message.records[0], "-621003", "理由 <&> \x01 reason",
                               1718069415000, "B20240611000000001", "49002024I000000001"));
  }
  const Inventory inv = std::get<Inventory>(Ok(Decode(m.inventory)).message.records[0]);
  clearance::TaxAssessment t;
  for (const auto& l : inv.lists)
    t.lines.push_back({l.gnum, l.gcode, l.totalPrice, Decimal{}, Decimal{}, Decimal{}});
  receipts.emplace_back(MessageType::kCEB816, clearance::MakeTaxBill(inv, t, "49002024I000000001",
                                                                     "49002024I000000001_0", 0));
  receipts.emplace_back(MessageType::kCEB818,
                        clearance::MakeTaxStatus(inv, "49002024I000000001", "x_0", "3", 0));
  receipts.emplace_back(MessageType::kCEB900,
                        clearance::MakeFormatReceipt("", "-1", "bad", "Unknown", "<a", 0));
  for (auto& [type, record] : receipts) {
    Message msg;
    msg.type = type;
    msg.guid = "4CDE1CFD-EDED-46B1-946C-B8022E42FC94";
    msg.records.push_back(record);
    std::string xml = Encode(msg);
    EXPECT_EQ(testing::ValidateAgainstCebXsd(xml), "") << xml;
    EXPECT_EQ(Encode(Ok(Decode(xml)).message), xml) << "receipts read back too";
  }
}

}  // namespace
}  // namespace kuajing::codec

namespace kuajing::codec {
namespace {

// The simple form AppendEscaped had before its fast path: the reference it must equal.
std::string EscapedByteByByte(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '&') {
      out += "&amp;";
    } else if (c == '"') {
      out += "&quot;";
    } else if (c == '\r') {
      out += "&#13;";
    } else if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') {
      out.push_back(c);
    }
  }
  return out;
}

TEST(Escape, EqualsTheByteByByteFormOnEveryKindOfText) {
  std::string out;
  AppendEscaped(out, "a<b>&\"c\"\r\n\td\x01\x1f 衡阳");
  EXPECT_EQ(out, "a&lt;b&gt;&amp;&quot;c&quot;&#13;\n\td 衡阳");
  std::mt19937 rng(3);
  const std::string alphabet = std::string("ab<>&\"\r\n\t\x01\x7f") + "衡阳";
  for (int k = 0; k < 2000; ++k) {
    std::string text;
    for (size_t n = rng() % 40; n > 0; --n) text.push_back(alphabet[rng() % alphabet.size()]);
    std::string got = "prefix";
    AppendEscaped(got, text);
    EXPECT_EQ(got, "prefix" + EscapedByteByByte(text)) << text;
  }
  // Every byte at every place of a text long enough to be read sixteen bytes at a time, alone and
  // after an escape.
  for (int c = 0; c < 256; ++c) {
    for (size_t at = 0; at < 40; ++at) {
      std::string text(40, 'x');
      text[at] = static_cast<char>(c);
      if (at > 3) text[at - 3] = '&';
      std::string got;
      AppendEscaped(got, text);
      ASSERT_EQ(got, EscapedByteByByte(text)) << c << " at " << at;
    }
  }
  // Room is made in a buffer of the thread's up to 1 MiB (six bytes a byte of text), in the
  // string itself beyond: a short text after a long one, and texts on both sides of the line.
  for (size_t n : {size_t{100'000}, size_t{10}, size_t{174'762}, size_t{174'763}, size_t{400'000},
                   size_t{3}}) {
    std::string text;
    for (size_t i = 0; i < n; ++i) text.push_back(alphabet[rng() % alphabet.size()]);
    std::string got = "prefix";
    AppendEscaped(got, text);
    ASSERT_EQ(got, "prefix" + EscapedByteByByte(text)) << n;
  }
}

// An entity as the encoder wrote it field by field before it wrote through a pointer into room
// made once: the reference the encoder must still equal, byte for byte.
template <typename E>
std::string EntityTheSimpleWay(const E& e) {
  std::string out = std::string("<ceb:") + E::kName + ">";
  VisitFields(e, [&](const FieldSpec& f, const auto& member) {
    using M = std::decay_t<decltype(member)>;
    std::string text;
    if constexpr (std::is_same_v<M, std::string>) {
      if (member.empty() && !f.required) return;
      text = EscapedByteByByte(member);
    } else if constexpr (std::is_same_v<M, Decimal>) {
      text = member.ToString();
    } else if constexpr (std::is_same_v<M, std::optional<Decimal>>) {
      if (!member) return;
      text = member->ToString();
    } else {
      text = std::to_string(member);
    }
    out += std::string("<ceb:") + f.name + ">" + text + "</ceb:" + f.name + ">";
  });
  return out + "</ceb:" + E::kName + ">";
}

// Random text (markup, control characters, Chinese, empty), numbers of every sign and scale, and
// optional numbers absent and present, in a waybill and a list with its lines.
TEST(Encode, WritesEachEntityAsTheSimpleFormDid) {
  std::mt19937_64 rng(5);
  const std::string alphabet = std::string("ab<>&\"\r\n\t\x01\x7f") + "衡阳";
  auto fill = [&](auto& e) {
    VisitFields(e, [&](const FieldSpec&, auto& member) {
      using M = std::decay_t<decltype(member)>;
      if constexpr (std::is_same_v<M, std::string>) {
        member.clear();
        for (size_t n = rng() % 12; n > 0; --n) member.push_back(alphabet[rng() % alphabet.size()]);
      } else if constexpr (std::is_same_v<M, Decimal>) {
        member.e5 = static_cast<int64_t>(rng()) >> (rng() % 64);
      } else if constexpr (std::is_same_v<M, std::optional<Decimal>>) {
        member.reset();
        if (rng() % 2) member = Decimal{static_cast<int64_t>(rng()) >> (rng() % 64)};
      } else {
        member = static_cast<int64_t>(rng()) >> (rng() % 64);
      }
    });
  };
  for (int k = 0; k < 300; ++k) {
    Logistics waybill;
    fill(waybill.head);
    Inventory list;
    fill(list.head);
    list.lists.resize(rng() % 4);
    for (auto& line : list.lists) fill(line);
    Message m;
    m.type = MessageType::kCEB621;
    m.guid = "g";
    m.records = {waybill, list};
    const std::string xml = Encode(m);
    EXPECT_NE(xml.find(EntityTheSimpleWay(waybill.head)), std::string::npos) << xml;
    std::string inventory = EntityTheSimpleWay(list.head);
    for (const auto& line : list.lists) inventory += EntityTheSimpleWay(line);
    EXPECT_NE(xml.find(inventory), std::string::npos) << xml;
  }
}

// Decode's two readers give the same result: the same message and field errors, or the same
// refusal with the same reason.
void ExpectSameAsTree(const std::string& xml, const std::string& what) {
  const DecodeResult direct = Decode(xml), tree = DecodeThroughTree(xml);
  ASSERT_EQ(direct.index(), tree.index()) << what;
  if (const auto* f = std::get_if<DecodeFailure>(&tree)) {
    const auto& g = std::get<DecodeFailure>(direct);
    EXPECT_EQ(g.status, f->status) << what;
    EXPECT_EQ(g.info, f->info) << what;
    EXPECT_EQ(g.root_name, f->root_name) << what;
    EXPECT_EQ(g.message_guid, f->message_guid) << what;
    return;
  }
  const auto& d = std::get<DecodedMessage>(direct);
  const auto& t = std::get<DecodedMessage>(tree);
  EXPECT_EQ(d.message, t.message) << what;
  EXPECT_EQ(AllErrors(d), AllErrors(t)) << what;
  EXPECT_EQ(d.errors.size(), t.errors.size()) << what;
}

std::vector<std::string> OfficialSamples() {
  std::vector<std::string> out;
  for (const char* dir : {"/spec/samples/import", "/spec/samples/export"}) {
    for (const auto& e : std::filesystem::directory_iterator(std::string(KJ_SOURCE_DIR) + dir)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      out.push_back(ss.str());
    }
  }
  return out;
}

// What enterprises send is read directly (not given up to the tree), and reads as the tree reads
// it: the generated traffic (100 records a message), the demo's messages, and every official
// sample (a byte order mark, indentation, ExtendMessage and ds:Signature after the transport).
TEST(DirectReader, ReadsWhatEnterprisesSendAsTheTreeDoes) {
  std::vector<std::string> messages = OfficialSamples();
  EXPECT_GE(messages.size(), 30u);
  const app::BatchMessages b = app::MakeBatch(app::GeneratedClearances(0, 100));
  for (const std::string* xml : {&b.orders, &b.payments, &b.waybills, &b.inventories}) {
    messages.push_back(*xml);
  }
  for (const app::ClearanceSpec& spec : app::DemoClearances()) {
    app::ClearanceMessages m = app::MakeClearance(spec);
    for (std::string* xml : {&m.order, &m.payment, &m.waybill, &m.inventory}) {
      messages.push_back(std::move(*xml));
    }
  }
  int signed_messages = 0, with_errors = 0;
  for (const std::string& xml : messages) {
    const std::string what = xml.substr(0, 160);
    const std::optional<DecodedMessage> direct = DecodeDirectOnly(xml);
    const DecodedMessage tree = Ok(DecodeThroughTree(xml));
    if (!AllErrors(tree).empty()) {
      // Two samples the standard's own fields refuse (CEB792 lacks the required gseqno, and
      // CEB215 has a field error too): the tree's, to name the field.
      ++with_errors;
      EXPECT_FALSE(direct.has_value()) << what;
      ExpectSameAsTree(xml, what);
      continue;
    }
    ASSERT_TRUE(direct.has_value()) << "given up to the tree: " << what;
    EXPECT_EQ(direct->message, tree.message) << what;
    EXPECT_EQ(direct->errors.size(), tree.errors.size()) << what;
    signed_messages += !direct->message.signature_xml.empty();
  }
  EXPECT_LE(with_errors, 2);
  EXPECT_GE(signed_messages, 10);
}

// Every other form of XML is given up to the tree, and Decode's answer is the tree's: each
// variation of a declaration below, whether the tree reads it, reads it with field errors or
// refuses it.
TEST(DirectReader, GivesEveryOtherFormUpToTheTree) {
  const std::string xml = app::MakeClearance(app::GeneratedClearances(0, 1)[0]).inventory;
  ASSERT_TRUE(DecodeDirectOnly(xml).has_value());
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string out = xml;
    const size_t at = out.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) out.replace(at, from.size(), to);
    return out;
  };
  const std::string name = "<ceb:buyerName>张三</ceb:buyerName>";
  const std::string last = "</ceb:CEB621Message>";
  const size_t t0 = xml.find("<ceb:BaseTransfer>"), t1 = xml.find("</ceb:BaseTransfer>");
  ASSERT_NE(t1, std::string::npos);
  const std::string transfer = xml.substr(t0, t1 + std::string("</ceb:BaseTransfer>").size() - t0);
  struct Case {
    std::string xml;
    bool direct;  // whether the direct reader reads it
  };
  const std::vector<Case> cases = {
      // Read directly: other prefixes, the default namespace, whitespace, an empty optional field.
      {std::regex_replace(std::regex_replace(xml, std::regex("ceb:"), "x:"),
                          std::regex("xmlns:ceb="), "xmlns:x="),
       true},
      {std::regex_replace(std::regex_replace(xml, std::regex("ceb:"), ""), std::regex("xmlns:ceb="),
                          "xmlns="),
       true},
      // The prefix bound to another namespace, and to none.
      {std::regex_replace(xml, std::regex("xmlns:ceb="), "xmlns:ceb=\"urn:x\" xmlns:c="), false},
      {std::regex_replace(xml, std::regex("ceb:"), "x:"), false},
      {std::regex_replace(xml, std::regex("><ceb:"), ">\n\t <ceb:"), true},
      {replaced("<ceb:barCode>无</ceb:barCode>", "<ceb:barCode/>"), true},
      {replaced("<ceb:barCode>无</ceb:barCode>", "<ceb:barCode />"), true},
      // A start tag the expected name's fast check (TryLeaf) does not take, read the long way.
      {replaced(name, "<ceb:buyerName >张三</ceb:buyerName>"), true},
      {replaced(name, "<ceb:buyerName\n>张三</ceb:buyerName>"), true},
      {xml + "\n\n", true},
      {"\xEF\xBB\xBF" + xml, true},
      // Given up: the tree reads these the same or with a field error, or refuses them.
      {replaced(name, "<!-- a comment -->" + name), false},
      {"<!-- before the root -->\n<!---->" + xml.substr(xml.find("?>") + 2), true},
      {replaced("<ceb:CEB621Message", "<!-- -- -->\n<ceb:CEB621Message"), false},
      {replaced("<ceb:CEB621Message", "<!-- x ->\n<ceb:CEB621Message"), false},
      {replaced(name, "<ceb:buyerName><![CDATA[张三]]></ceb:buyerName>"), false},
      {replaced(name, "<ceb:buyerName>张&amp;三</ceb:buyerName>"), false},
      {replaced(name, "<ceb:buyerName>张&#19977;</ceb:buyerName>"), false},
      {replaced(name, "<ceb:buyerName>张\r\n三</ceb:buyerName>"), false},
      {replaced(name, "<ceb:buyerName>  </ceb:buyerName>"), false},
      {replaced(name, "<ceb:buyerName a=\"1\">张三</ceb:buyerName>"), false},
      {replaced(name, "<ceb:buyerName>张三</ceb:buyerName >"), false},
      {replaced(name, "<ceb:buyerName>张三<ceb:b/></ceb:buyerName>"), false},
      {replaced(name, "<ceb:buyerName>张三</ceb:buyerNam>"), false},
      {replaced(name, "<ceb:buyerNameX>张三</ceb:buyerNameX>"), false},
      {replaced(name, "<ceb:buyerName>张三</ceb:buyerNameX>"), false},
      {replaced(name, "<ceb:buyerName>张三"), false},
      {replaced(name,
                "<x:buyerName xmlns:x=\"http://www.chinaport.gov.cn/ceb\">张三</x:buyerName>"),
       false},
      {replaced(name, "<buyerName>张三</buyerName>"), false},
      {replaced(name, "text" + name), false},
      {replaced(name, name + name), false},
      {replaced(name, ""), false},
      {replaced(name, "<ceb:buyerName>" + std::string(61, 'x') + "</ceb:buyerName>"), false},
      {replaced("<ceb:qty>", "<ceb:qty>x"), false},
      {replaced("version=\"1.0\" xmlns:ceb", "version=\"1.0\" xmlns:ceb version=\"2.0\""), false},
      {replaced("version=\"1.0\" xmlns:ceb", "version='1.0' xmlns:ceb"), true},
      {replaced("version=\"1.0\" xmlns:ceb", "version=\"1.0\"guid2=\"x\" xmlns:ceb"), false},
      {replaced("version=\"1.0\" xmlns:ceb", "version=\"\" xmlns:ceb"), false},
      {replaced("version=\"1.0\" xmlns:ceb", "version=\"1.0\" a=\"x\x01y\" xmlns:ceb"), false},
      {replaced("version=\"1.0\" xmlns:ceb", "version=\"1.0\" a=\"x\ty\" xmlns:ceb"), false},
      {replaced("<ceb:CEB621Message", "<!-- \x01 -->\n<ceb:CEB621Message"), false},
      {replaced("http://www.chinaport.gov.cn/ceb", "urn:other"), false},
      {replaced("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", ""), true},
      {replaced("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<!DOCTYPE x>"), false},
      {replaced("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<?xml version=\"1.0\"<?>"), false},
      {replaced("</ceb:BaseTransfer>", "</ceb:BaseTransfer><ceb:Foo/>"), false},
      // BaseTransfer again: the same is read as one (the export samples' form), another refused.
      {replaced("</ceb:CEB621Message>", transfer + "</ceb:CEB621Message>"), true},
      {replaced("</ceb:CEB621Message>",
                std::regex_replace(transfer, std::regex("DXP<"), "EDI<") + "</ceb:CEB621Message>"),
       false},
      {replaced("</ceb:BaseTransfer>",
                "</ceb:BaseTransfer><ceb:ExtendMessage><ceb:a>1</ceb:a></ceb:ExtendMessage>"),
       true},
      {replaced("</ceb:BaseTransfer>",
                "</ceb:BaseTransfer><ceb:ExtendMessage a=\"1\"></ceb:ExtendMessage>"),
       false},
      {replaced("</ceb:BaseTransfer>", "</ceb:BaseTransfer><ds:Signature>x</ds:Signature>"), false},
      {replaced("</ceb:BaseTransfer>", "</ceb:BaseTransfer><ds:Signature xmlns:ds=\"" +
                                           std::string(kDsNamespace) + "\">x</ds:Signature>"),
       true},
      {replaced(last, "<ceb:Inventory/>" + last), false},
      {replaced(last, last + "<x/>"), false},
      {replaced(last, last + "x"), false},
      {replaced(last, ""), false},
      {xml.substr(0, xml.size() / 2), false},
  };
  for (const Case& c : cases) {
    const std::string what =
        c.xml.substr(0, 80) + " ... " + c.xml.substr(c.xml.size() > 400 ? c.xml.size() - 400 : 0);
    EXPECT_EQ(DecodeDirectOnly(c.xml).has_value(), c.direct) << what;
    ExpectSameAsTree(c.xml, what);
  }
}
}  // namespace
}  // namespace kuajing::codec
