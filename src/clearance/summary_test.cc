#include "clearance/summary.h"

#include <gtest/gtest.h>

namespace kuajing::clearance {
namespace {

using model::exp::Inventory;
using model::exp::InventoryList;

Inventory List(const std::string& owner, const std::string& country,
               std::vector<std::pair<std::string, int64_t>> lines) {
  Inventory inv;
  inv.head.agentCode = "4304963001";
  inv.head.ebcCode = "4304962002";
  inv.head.ownerCode = owner;
  inv.head.customsCode = "4900";
  inv.head.portCode = "4900";
  inv.head.tradeMode = "9610";
  inv.head.trafMode = "5";
  inv.head.country = country;
  inv.head.grossWeight = Decimal::FromUnits(2);
  inv.head.netWeight = Decimal::FromUnits(1);
  inv.head.packNo = 1;
  int64_t g = 0;
  for (auto& [gcode, qty] : lines) {
    InventoryList l;
    l.gnum = ++g;
    l.gcode = gcode;
    l.itemName = "item " + gcode;
    l.gname = "goods " + gcode;
    l.country = country;
    l.currency = "502";
    l.unit = l.unit1 = "011";
    l.qty = l.qty1 = Decimal::FromUnits(qty);
    l.price = Decimal::FromFen(150);
    l.totalPrice = Decimal::FromFen(150 * qty);
    inv.lists.push_back(l);
  }
  return inv;
}

TEST(Summarize, SameCodeAndDestinationMakeOneLine) {
  Inventory a = List("P1", "502", {{"0902301000", 2}, {"6912001000", 1}});
  Inventory b = List("P2", "502", {{"0902301000", 3}});
  auto decls = Summarize({{&b, "B"}, {&a, "A"}}, SummaryOptions{});
  ASSERT_EQ(decls.size(), 1u);
  ASSERT_EQ(decls[0].lines.size(), 2u);
  EXPECT_EQ(decls[0].lines[0].gcode, "0902301000");  // first seen in list A (sorted by invtNo)
  EXPECT_EQ(decls[0].lines[0].gseqno, 1);
  EXPECT_EQ(decls[0].lines[0].qty, Decimal::FromUnits(5));
  EXPECT_EQ(decls[0].lines[0].amount, Decimal::FromFen(750));
  EXPECT_EQ(decls[0].lines[0].sources.size(), 2u);
  EXPECT_EQ(decls[0].gross_weight, Decimal::FromUnits(4));
  EXPECT_EQ(decls[0].invt_nos, (std::vector<std::string>{"A", "B"}));
}

TEST(Summarize, ProducerAndCountrySplitDeclarations) {
  Inventory a = List("P1", "502", {{"0902301000", 2}});
  Inventory b = List("P2", "502", {{"0902301000", 3}});
  Inventory c = List("P1", "303", {{"0902301000", 1}});
  SummaryOptions per_owner;
  per_owner.per_owner = true;
  EXPECT_EQ(Summarize({{&a, "A"}, {&b, "B"}, {&c, "C"}}, per_owner).size(), 3u);
  EXPECT_EQ(Summarize({{&a, "A"}, {&b, "B"}, {&c, "C"}}, SummaryOptions{}).size(), 2u);
}

TEST(Summarize, MoreLinesThanTheLimitStartAnotherDeclaration) {
  std::vector<std::pair<std::string, int64_t>> lines;
  for (int i = 0; i < 5; ++i) lines.push_back({"090230100" + std::to_string(i), 1});
  Inventory a = List("P1", "502", lines);
  SummaryOptions o;
  o.max_lines = 2;
  auto decls = Summarize({{&a, "A"}}, o);
  ASSERT_EQ(decls.size(), 3u);
  EXPECT_EQ(decls[0].lines.size(), 2u);
  EXPECT_EQ(decls[2].lines.size(), 1u);
  EXPECT_EQ(decls[2].lines[0].gseqno, 1);
  // The list's weight is counted once, in the declaration holding its first line.
  EXPECT_EQ(decls[0].gross_weight, Decimal::FromUnits(2));
  EXPECT_EQ(decls[1].gross_weight, Decimal{});
}

TEST(Summarize, ItemNameFlagChoosesTheName) {
  Inventory a = List("P1", "502", {{"0902301000", 1}});
  SummaryOptions by_gname;
  by_gname.by_item_name = false;
  EXPECT_EQ(Summarize({{&a, "A"}}, SummaryOptions{})[0].lines[0].name, "item 0902301000");
  EXPECT_EQ(Summarize({{&a, "A"}}, by_gname)[0].lines[0].name, "goods 0902301000");
}

}  // namespace
}  // namespace kuajing::clearance
