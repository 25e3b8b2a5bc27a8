#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "app/demo_batch.h"
#include "codec/codec.h"

namespace kuajing::codec {
namespace {

namespace fs = std::filesystem;
using namespace kuajing::model;

// Every record of every official sample (import and export, declarations and receipts) and of the
// demo clearances: the packed form is a lossless round trip.
std::vector<Record> AllRecords() {
  std::vector<Record> out;
  DecodeOptions lenient;
  lenient.require_base_transfer = false;
  for (const char* dir : {"spec/samples/import", "spec/samples/export"}) {
    for (const auto& e : fs::directory_iterator(fs::path(KJ_SOURCE_DIR) / dir)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      auto r = Decode(ss.str(), lenient);
      if (auto* m = std::get_if<DecodedMessage>(&r)) {
        for (auto& rec : m->message.records) out.push_back(std::move(rec));
      }
    }
  }
  for (const app::ClearanceSpec& spec : app::DemoClearances()) {
    app::ClearanceMessages m = app::MakeClearance(spec);
    for (const std::string* xml : {&m.order, &m.payment, &m.waybill, &m.inventory}) {
      auto r = Decode(*xml);
      for (auto& rec : std::get<DecodedMessage>(r).message.records) out.push_back(std::move(rec));
    }
  }
  return out;
}

TEST(Pack, RoundTripsEveryRecordOfTheOfficialSamplesAndTheDemo) {
  const std::vector<Record> records = AllRecords();
  ASSERT_GE(records.size(), 40u);
  std::set<size_t> kinds;
  for (const Record& r : records) {
    kinds.insert(r.index());
    const std::string packed = PackRecord(r);
    size_t consumed = 0;
    auto back = UnpackRecord(packed, &consumed);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(consumed, packed.size());
    EXPECT_TRUE(*back == r) << "kind " << r.index();
    // A tenth of the XML or so: no element names, no escaping.
    Message m;
    m.records.push_back(r);
    EXPECT_LT(packed.size(), Encode(m).size());
  }
  EXPECT_GE(kinds.size(), 30u) << "the samples cover most record kinds";
}

TEST(Pack, ConcatenatedRecordsReadOneAfterTheOther) {
  const std::vector<Record> records = AllRecords();
  std::string both;
  AppendPacked(both, records[0]);
  AppendPacked(both, records[1]);
  size_t first = 0;
  ASSERT_TRUE(UnpackRecord(both, &first).ok());
  auto second = UnpackRecord(std::string_view(both).substr(first));
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(*second == records[1]);
}

// One scratch record read over and over (storage::ReceiptXml's use): every record comes back
// whole, whatever was read into it before, an absent optional included.
TEST(Pack, ARecordReadOverAnotherIsThatRecord) {
  std::vector<Record> records = AllRecords();
  Logistics with;
  for (const Record& r : records) {
    if (const auto* l = std::get_if<Logistics>(&r)) with = *l;
  }
  with.head.freight = Decimal::FromUnits(12);
  Logistics without = with;
  without.head.freight.reset();
  records.push_back(Record(with));
  records.push_back(Record(without));
  Record scratch;
  for (int pass = 0; pass < 2; ++pass) {
    for (const Record& r : records) {
      size_t consumed = 0;
      const std::string packed = PackRecord(r);
      ASSERT_TRUE(UnpackRecordInto(packed, scratch, &consumed).ok());
      EXPECT_EQ(consumed, packed.size());
      EXPECT_TRUE(scratch == r) << "kind " << r.index();
    }
    std::reverse(records.begin(), records.end());
  }
  EXPECT_FALSE(UnpackRecordInto("\x01", scratch).ok());
}

// The typed reading (start-up reads millions of lists over one): each inventory list over the
// others (one longer, with a line more), a waybill with its optional freight and without; another
// kind is an error.
TEST(Pack, ARecordOfAKnownKindReadOverAnotherIsThatRecord) {
  std::vector<Inventory> lists;
  std::vector<Logistics> waybills;
  for (const Record& r : AllRecords()) {
    if (const auto* i = std::get_if<Inventory>(&r)) lists.push_back(*i);
    if (const auto* l = std::get_if<Logistics>(&r)) waybills.push_back(*l);
  }
  ASSERT_GE(lists.size(), 2u);
  ASSERT_FALSE(waybills.empty());
  Inventory longer = lists.front();
  longer.lists.push_back(longer.lists.front());
  longer.head.note = std::string(200, 'x');
  lists.push_back(longer);
  Logistics with = waybills.front();
  with.head.freight = Decimal::FromUnits(12);
  Logistics without = with;
  without.head.freight.reset();
  Inventory list_scratch;
  Logistics waybill_scratch;
  for (int pass = 0; pass < 2; ++pass) {
    for (const Inventory& i : lists) {
      ASSERT_TRUE(UnpackRecordOfInto(PackRecordOf(i), list_scratch).ok());
      EXPECT_TRUE(Record(list_scratch) == Record(i));
    }
    for (const Logistics& l : {with, without, with}) {
      ASSERT_TRUE(UnpackRecordOfInto(PackRecordOf(l), waybill_scratch).ok());
      EXPECT_TRUE(Record(waybill_scratch) == Record(l));
    }
    std::reverse(lists.begin(), lists.end());
  }
  EXPECT_FALSE(UnpackRecordOfInto(PackRecordOf(with), list_scratch).ok());
  EXPECT_FALSE(UnpackRecordOfInto(std::string("\x01"), list_scratch).ok());
}

// A record's head: the entity itself where the record is not a head and lines.
template <typename R>
const auto& HeadOfRecord(const R& r) {
  if constexpr (requires { r.head; }) {
    return r.head;
  } else {
    return r;
  }
}

// PackedHeadText finds each text of a record's head where it is, without unpacking the record:
// every text field of every record of the samples and the demo, with numbers, names the head does
// not have, and records cut short or damaged giving nothing.
TEST(Pack, AHeadsTextsAreFoundWithoutUnpacking) {
  const std::vector<Record> records = AllRecords();
  std::mt19937 rng(11);
  size_t texts = 0, numbers = 0;
  for (const Record& record : records) {
    const std::string packed = PackRecord(record);
    std::visit(
        [&](const auto& r) {
          VisitFields(HeadOfRecord(r), [&](const FieldSpec& f, const auto& member) {
            using M = std::decay_t<decltype(member)>;
            const auto found = PackedHeadText(packed, f.name);
            if constexpr (std::is_same_v<M, std::string>) {
              ASSERT_TRUE(found.has_value()) << f.name << " of kind " << record.index();
              EXPECT_EQ(*found, member) << f.name;
              ++texts;
            } else {
              EXPECT_FALSE(found.has_value()) << f.name << " is a number";
              ++numbers;
            }
          });
        },
        record);
    EXPECT_FALSE(PackedHeadText(packed, "noSuchField").has_value());
    EXPECT_FALSE(PackedHeadText(packed, "").has_value());
    for (size_t cut = 0; cut < packed.size(); ++cut) {
      EXPECT_FALSE(PackedHeadText(std::string_view(packed).substr(0, cut), "guid").has_value());
    }
    for (int k = 0; k < 50; ++k) {  // damaged: something or nothing, never out of bounds (ASan)
      std::string bad = packed;
      bad[rng() % bad.size()] = static_cast<char>(rng());
      (void)PackedHeadText(bad, "invtNo");
    }
  }
  EXPECT_GT(texts, 500u);
  EXPECT_GT(numbers, 50u);
}

TEST(Pack, DamageIsAnErrorNeverACrash) {
  const std::vector<Record> records = AllRecords();
  std::mt19937 rng(7);
  int errors = 0;
  for (size_t i = 0; i < records.size(); i += 3) {
    const std::string packed = PackRecord(records[i]);
    // Cut short anywhere: always an error (the length says more is due).
    for (size_t cut = 0; cut < packed.size(); ++cut) {
      EXPECT_FALSE(UnpackRecord(std::string_view(packed).substr(0, cut)).ok()) << cut;
    }
    // Bytes flipped: an error or some record, never out-of-bounds (ASan runs this).
    for (int k = 0; k < 200; ++k) {
      std::string bad = packed;
      bad[rng() % bad.size()] = static_cast<char>(rng());
      errors += UnpackRecord(bad).ok() ? 0 : 1;
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_FALSE(UnpackRecord("<ceb:Order/>").ok());
  EXPECT_FALSE(UnpackRecord(std::string("\x01\x02\x00\x00\x00\xff\x00", 7)).ok())
      << "an unknown kind";
}

}  // namespace
}  // namespace kuajing::codec
