#include "storage/blob_codec.h"

#include <gtest/gtest.h>

#include <random>

#include "common/crc32c.h"

namespace kuajing::storage {
namespace {

// A receipt as the codec writes them (the golden frame below was made from it).
const std::string kReceipt =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ceb:CEB312Message "
    "guid=\"0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0\" version=\"1.0\" "
    "xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\"><ceb:OrderReturn><ceb:guid>11111111-2222-3333-"
    "4444-555555555555</ceb:guid><ceb:ebpCode>4304961001</ceb:ebpCode><ceb:ebcCode>4304962001</"
    "ceb:ebcCode><ceb:orderNo>HYG-GOLDEN-1</ceb:orderNo><ceb:returnStatus>120</"
    "ceb:returnStatus><ceb:returnTime>20240611100000000</ceb:returnTime><ceb:returnInfo>入库成功</"
    "ceb:returnInfo></ceb:OrderReturn></ceb:CEB312Message>\n";

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(BlobCodec, TheDictionaryOfFormatOneNeverChanges) {
  // Every store written since format 1 depends on these bytes. Changing them is a new format.
  EXPECT_EQ(BlobDictionaryV1().size(), 13167u);
  EXPECT_EQ(Crc32c(BlobDictionaryV1()), 3577351190u);
}

TEST(BlobCodec, TheDictionaryOfFormatThreeNeverChanges) {
  // Every store written since format 3 depends on these bytes. Changing them is a new format.
  EXPECT_EQ(BlobDictionaryV2().size(), 32768u);
  EXPECT_EQ(Crc32c(BlobDictionaryV2()), 469581139u);
}

TEST(BlobCodec, TheDictionaryOfStateRowsNeverChanges) {
  // Every store written since format 2 depends on these bytes. Changing them is a new format.
  EXPECT_EQ(StateDictionaryV1().size(), 8192u);
  EXPECT_EQ(Crc32c(StateDictionaryV1()), 638442945u);
}

// A frame made when its format began (zstd 1.5.4): it reads back as kReceipt in `format`, it is
// what Pack makes of kReceipt in that format now (so a change of level or parameters shows here;
// only the read side is a promise), and read as `other` it is damage, never another message.
void ExpectFrameOfFormat(BlobFormat format, const std::string& frame, BlobFormat other) {
  BlobCodec codec;
  auto out = codec.Unpack(format, frame);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, kReceipt);
  const auto [packed, packed_as] = codec.Pack(kReceipt, format);
  EXPECT_EQ(packed_as, format);
  EXPECT_EQ(packed, frame);
  EXPECT_FALSE(codec.Unpack(other, frame).ok());
}

TEST(BlobCodec, AFrameWrittenByAnEarlierBuildStillReads) {
  const char kFrameOfFormatOne[] =
      "28b52ffd6409019d0500340530423143324433452d344635302d363137322d383339342d4135423643374438"
      "453946307569643e312d323232322d333333332d343434342d353132632d474f4c44454e2de585a5e5ba93e6"
      "8890e58a9f3e0a2200d18ba0b670a0fa168cd601add3808e03d4df90c5706702d539436539f0e00b3d094820"
      "3207c499e83fbc00f601c3480d8388a3785b17761200e5ac8b11b88204eccf0df7374060169eeabada48cf73"
      "001ac80719bcf26cc0be22080428bf5f2d";
  ExpectFrameOfFormat(BlobFormat::kZstdV1, FromHex(kFrameOfFormatOne), BlobFormat::kZstdV2);
}

TEST(BlobCodec, AFrameOfFormatThreeStillReads) {
  // What Pack writes for XML since 2026-12-06.
  const char kFrameOfFormatThree[] =
      "28b52ffd67a7b87e280901050600e3c61873b0c00a4da8420c08018763d8e10664e0c113c748c41a8ec1022b"
      "34a10a31b82a64810b5b604216ca06e8d0e0062fa8170401064ac02d55d5cacc2c44c4aa4216b8b00526e820"
      "0b4c5842166e60e9919f365c3629fdf4c23e2edba485f2a0b962781924fcd1f4d0955123c91797eb884a5acc"
      "73990f22e6622d99b1222b3ca6ec2c5f2b75909b5d7946c29bdafdf8b15e8ef0c0fe061c175ad6790c179625"
      "c685039dc3c6c4b53e1236aea1626ac534fe2fa20ba5a7cbc665e20a443028bf5f2d";
  ExpectFrameOfFormat(BlobFormat::kZstdV2, FromHex(kFrameOfFormatThree), BlobFormat::kZstdV1);
  EXPECT_EQ(BlobCodec().Pack(kReceipt).second, BlobFormat::kZstdV2);
}

TEST(BlobCodec, RestoresEveryBlobByteForByte) {
  BlobCodec codec;
  std::mt19937 rng(7);
  std::string random(5000, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  std::string batch;  // a message of 200 documents
  for (int i = 0; i < 200; ++i) batch += kReceipt.substr(39) + std::to_string(i * 7919);
  // Past 128 KiB, where zstd would set aside a dictionary made with a level (blob_codec.cc).
  std::string large;
  for (int i = 0; large.size() < (size_t{300} << 10); ++i)
    large += kReceipt.substr(39) + std::to_string(i * 104729);
  const std::vector<std::string> blobs = {"",
                                          "<r/>",
                                          std::string(63, 'x'),
                                          kReceipt,
                                          random,
                                          batch,
                                          large,
                                          std::string("\0\x01\xff", 3) + kReceipt};
  for (const std::string& blob : blobs) {
    const auto [stored, format] = codec.Pack(blob);
    const std::string copy(stored);  // the view is only valid until the next Pack
    auto back = codec.Unpack(format, copy);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, blob);
    // Short blobs and blobs compression cannot help are stored as they are.
    if (blob.size() < BlobCodec::kMinPackBytes || blob == random) {
      EXPECT_EQ(format, BlobFormat::kPlain);
    }
  }
  // What compression is for: a receipt against the dictionary, a batch against itself.
  EXPECT_LT(codec.Pack(kReceipt).first.size() * 2, kReceipt.size());
  EXPECT_LT(codec.Pack(batch).first.size() * 20, batch.size());
  EXPECT_LT(codec.Pack(large).first.size() * 20, large.size());
}

TEST(BlobCodec, StateRowsHaveTheirOwnDictionary) {
  BlobCodec codec;
  // The fields of a list's state row as the import engine writes them (clearance/engine.cc,
  // Serialize), values of another day and zone than the dictionary was made from.
  std::string row;
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"phase", "3"},
           {"pre_no", "B20310705000123456"},
           {"invt_no", "51302031I000123456"},
           {"hold_reason", ""},
           {"released_ms", "1940227200000"},
           {"year", "2031"},
           {"counted", "98765400000"},
           {"restored", "0"},
           {"tax_issued", "1"},
           {"tax_seq", "0"},
           {"full_tax", "0"},
           {"risk_ms", "0"},
           {"risk_amount", "0"},
           {"risk_version", ""},
           {"risk_score", "0"},
           {"received_ms", "1940227199000"},
           {"missing_charged", "0"},
           {"first_ms", "1940227198000"},
           {"discredit_evidence", ""},
           {"returned", "0,0,0"},
           {"payment_key", "5130960001\x1fPAY2031070500123456"},
           {"linked", "1"}}) {
    row += name + "\t" + value + "\n";
  }
  row += "\n";
  const auto [stored, format] = codec.Pack(row, BlobFormat::kZstdStateV1);
  EXPECT_EQ(format, BlobFormat::kZstdStateV1);
  EXPECT_LT(stored.size() * 3, row.size());
  const std::string copy(stored);
  auto back = codec.Unpack(BlobFormat::kZstdStateV1, copy);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, row);
  // Read with the other dictionary it is damage, never another row.
  EXPECT_FALSE(codec.Unpack(BlobFormat::kZstdV1, copy).ok());
  EXPECT_FALSE(codec.Unpack(BlobFormat::kZstdV2, copy).ok());
  // The XML's dictionary still serves XML, and a short row is kept as it is.
  EXPECT_EQ(codec.Pack(kReceipt).second, BlobFormat::kZstdV2);
  EXPECT_EQ(codec.Pack("short", BlobFormat::kZstdStateV1).second, BlobFormat::kPlain);
}

TEST(BlobCodec, DamageIsReportedNotReturned) {
  BlobCodec codec;
  const std::string frame(codec.Pack(kReceipt).first);
  std::string flipped = frame;
  flipped[frame.size() / 2] ^= 0x10;  // caught by the frame's checksum if not before
  std::string cut = frame.substr(0, frame.size() - 5);
  std::string resized = frame;
  resized[5] = '\xff';  // the header's content size (521) now says 767
  // A header claiming 2 GiB: refused before anything is allocated.
  const std::string huge = std::string("\x28\xb5\x2f\xfd\xe0", 5) +
                           std::string("\x00\x00\x00\x80\x00\x00\x00\x00", 8) + "rest";
  for (const std::string& bad :
       {flipped, cut, resized, huge, std::string("not a frame at all"), std::string()}) {
    auto out = codec.Unpack(BlobFormat::kZstdV1, bad);
    EXPECT_FALSE(out.ok());
    if (!out.ok()) {
      EXPECT_EQ(out.status().code(), StatusCode::kInternal);
    }
  }
  auto unknown = codec.Unpack(static_cast<BlobFormat>(7), frame);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("format 7"), std::string::npos);
}

}  // namespace
}  // namespace kuajing::storage
