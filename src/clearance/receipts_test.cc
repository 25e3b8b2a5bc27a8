#include "clearance/receipts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "clearance/credit_events.h"
#include "codec/codec.h"
#include "test_util.h"

namespace kuajing::clearance {
namespace {

// An inventory list naming its agent twice, a foreign logistics enterprise ("无"), no area code and
// an unregistered assurer ("NO").
model::Inventory ListNaming(std::string agent, std::string ebc) {
  model::Inventory inv;
  inv.head.agentCode = agent;
  inv.head.ebcCode = std::move(ebc);
  inv.head.ebpCode = std::move(agent);
  inv.head.logisticsCode = "无";
  inv.head.areaCode = "";
  inv.head.assureCode = "NO";
  return inv;
}

TEST(Parties, EachEnterpriseOnceInTheStandardsOrderAndNobodyForNoneOrNo) {
  const model::Inventory inv = ListNaming("4304961002", "4304962001");
  const std::vector<std::string> want{"4304961002", "4304962001"};
  EXPECT_EQ(PartiesOf(&inv), want);
  model::Order order;
  order.head.ebpCode = "P";
  order.head.ebcCode = "C";
  order.head.payCode = "P";
  EXPECT_EQ(PartiesOf(&order), (std::vector<std::string>{"P", "C"}));
}

// The enterprise a credit event is charged to: the first named party that is registered, else the
// sender if registered, else nobody.
TEST(Parties, TheResponsiblePartyIsTheFirstRegisteredOne) {
  const reference::ReferenceData ref = testing::ShippedReference();
  ASSERT_NE(ref.FindEnterprise("4304962001"), nullptr);
  ASSERT_EQ(ref.FindEnterprise("9999999999"), nullptr);
  const model::Inventory second = ListNaming("9999999999", "4304962001");
  EXPECT_EQ(ResponsibleParty(&second, "4304961001", ref), "4304962001");
  const model::Inventory nobody = ListNaming("9999999999", "9999999998");
  EXPECT_EQ(ResponsibleParty(&nobody, "4304961001", ref), "4304961001");
  EXPECT_EQ(ResponsibleParty(&nobody, "9999999997", ref), "");
}

// FirstParty walks PartiesOf's order without the list, skips who names nobody, and points into
// the declaration.
TEST(Parties, TheFirstAcceptedPartyIsFoundInPlace) {
  const model::Inventory inv = ListNaming("4304961002", "4304962001");
  const std::string* any = FirstParty(&inv, [](const std::string&) { return true; });
  ASSERT_NE(any, nullptr);
  EXPECT_EQ(any, &inv.head.agentCode);
  const std::string* second =
      FirstParty(&inv, [](const std::string& c) { return c == "4304962001"; });
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(*second, "4304962001");
  EXPECT_EQ(FirstParty(&inv, [](const std::string& c) { return c == "无" || c == "NO"; }), nullptr);
  model::Inventory none = inv;
  none.head.agentCode = "无";
  EXPECT_EQ(*FirstParty(&none, [](const std::string&) { return true; }), "4304962001");
}

// A receipt's fields are fitted to its schema's facets by characters, not bytes (spec 202205: the
// lengths are characters): a multi-byte text within the maximum stays whole however many bytes it
// has, one past it is cut on a character, a fixed-length field of the wrong character count is
// dropped (not required) even when its bytes would fit, and an empty optional field stays empty.
// The engines' receipts are packed from a receipt kept per thread and type (AppendPackedReceipt):
// it must write exactly PackRecord(MakeReceipt(...)) for every kind of declaration, whatever the
// receipt of the same type before it held. Each declaration of the official samples, as given,
// with its head's texts emptied and with them too long (a guid of the wrong length, a copNo over
// its 20 characters), in turn, with and without preNo and invtNo.
TEST(Receipts, PackedInPlaceTheyAreTheBytesOfTheReceiptMade) {
  std::vector<model::Record> declarations;
  for (const char* dir : {"/spec/samples/import", "/spec/samples/export"}) {
    for (const auto& f : std::filesystem::directory_iterator(std::string(KJ_SOURCE_DIR) + dir)) {
      codec::DecodeResult res = codec::Decode(testing::ReadFile(f.path()));
      const auto* m = std::get_if<codec::DecodedMessage>(&res);
      if (m == nullptr) continue;
      for (const model::Record& r : m->message.records) declarations.push_back(r);
    }
  }
  ASSERT_GT(declarations.size(), 30u);
  auto with_texts = [](model::Record r, const std::string& text) {
    std::visit(
        [&](auto& d) {
          auto set = [&](const model::FieldSpec&, auto& m) {
            if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::string>) m = text;
          };
          using model::VisitFields;  // and model::exp's, found by the argument
          if constexpr (requires { d.head; }) {
            VisitFields(d.head, set);
          } else {
            VisitFields(d, set);
          }
        },
        r);
    return r;
  };
  const std::string too_long(30, 'X');
  int compared = 0;
  for (const model::Record& given : declarations) {
    for (const model::Record& d : {given, with_texts(given, ""), with_texts(given, too_long)}) {
      for (const auto& [pre_no, invt_no] : std::vector<std::pair<std::string, std::string>>{
               {"", ""}, {"B20240611000000001", "43042024I000000001"}}) {
        const std::string status = compared % 2 ? "-301010" : "2";
        const std::string info = compared % 3 ? "" : "衡阳综试区 " + std::to_string(compared);
        std::string packed = "before";
        AppendPackedReceipt(packed, model::RefOf(d), status, info, 1718071800123 + compared, pre_no,
                            invt_no);
        EXPECT_EQ(packed,
                  "before" + codec::PackRecord(MakeReceipt(
                                 d, status, info, 1718071800123 + compared, pre_no, invt_no)))
            << model::RecordGuid(d) << " " << compared;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 180);
}

// The same for the tax bill (AppendPackedTaxBill): lists of three, one and two goods lines in turn,
// general-trade and retail rates, a customs code kept and one dropped.
TEST(Receipts, ATaxBillPackedInPlaceIsTheBytesOfTheBillMade) {
  int compared = 0;
  for (size_t lines : {3, 1, 2, 3}) {
    model::Inventory inv;
    inv.head.guid = "0A1B2C3D-0000-4000-8000-00000000000" + std::to_string(lines);
    inv.head.customsCode = lines % 2 ? "4900" : "49001";
    inv.head.ebcCode = "4304962001";
    inv.head.agentCode = "4304963001";
    inv.head.assureCode = lines == 2 ? "" : "4304961001";
    TaxAssessment tax;
    tax.full_tax = lines == 1;
    for (size_t i = 0; i < lines; ++i) {
      tax.lines.push_back(LineTax{static_cast<int64_t>(i + 1), "330499" + std::to_string(9000 + i),
                                  Decimal::FromFen(10000 + 7 * static_cast<int64_t>(i)),
                                  Decimal::FromFen(static_cast<int64_t>(i)), Decimal::FromFen(910),
                                  Decimal::FromFen(1050)});
      tax.customs_tax += tax.lines.back().customs_tax;
      tax.value_added_tax += tax.lines.back().value_added_tax;
      tax.consumption_tax += tax.lines.back().consumption_tax;
    }
    const std::string tax_no = "43042024I00000000" + std::to_string(lines) + "_1";
    std::string packed = "x";
    AppendPackedTaxBill(packed, inv, tax, "43042024I000000001", tax_no, 1718071800123 + lines);
    EXPECT_EQ(packed, "x" + codec::PackRecord(MakeTaxBill(inv, tax, "43042024I000000001", tax_no,
                                                          1718071800123 + lines)))
        << lines;
    ++compared;
  }
  EXPECT_EQ(compared, 4);
}

TEST(Receipts, FieldsAreFittedByCharactersNotBytes) {
  auto chinese = [](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += "衡";
    return s;
  };
  model::Inventory inv;
  inv.head.guid = "0A1B2C3D-0000-4000-8000-000000000001";
  inv.head.ebpCode = "";
  inv.head.ebcCode = "4304961001";
  inv.head.agentCode = chinese(18);  // 54 bytes, 18 characters: the maximum
  auto receipt = [&](std::string customs, std::string cop_no) {
    inv.head.customsCode = std::move(customs);
    inv.head.copNo = std::move(cop_no);
    const model::Record r = MakeReceipt(&inv, "2", chinese(1000), 0, "B20240611000000001");
    return std::get<model::InventoryReturn>(r);
  };
  model::InventoryReturn r = receipt("衡阳衡阳", chinese(20));
  EXPECT_EQ(r.customsCode, "衡阳衡阳");  // 12 bytes, 4 characters: an4
  EXPECT_EQ(r.copNo, chinese(20));       // 60 bytes, an..20
  EXPECT_EQ(r.agentCode, chinese(18));
  EXPECT_EQ(r.ebpCode, "");  // optional and empty
  EXPECT_EQ(r.ebcCode, "4304961001");
  EXPECT_EQ(r.returnInfo, chinese(1000));  // 3,000 bytes, an..1000
  EXPECT_EQ(r.guid, inv.head.guid);
  r = receipt("衡阳", chinese(21));
  EXPECT_EQ(r.customsCode, "");     // 6 bytes but 2 characters
  EXPECT_EQ(r.copNo, chinese(20));  // cut on a character
  r = receipt("a衡", "C");
  EXPECT_EQ(r.customsCode, "");  // 4 bytes but 2 characters
  r = receipt("AB", "C");
  EXPECT_EQ(r.customsCode, "");
  EXPECT_EQ(r.copNo, "C");
  r = receipt("4600", "");
  EXPECT_EQ(r.customsCode, "4600");
  EXPECT_EQ(r.copNo, "无");  // required: the copNo falls back to the (empty) orderNo, then "无"
}

}  // namespace
}  // namespace kuajing::clearance
