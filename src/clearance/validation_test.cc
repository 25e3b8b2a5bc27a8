#include "clearance/validation.h"

#include <gtest/gtest.h>

#include "app/demo_batch.h"

namespace kuajing::clearance {
namespace {

template <typename R>
R FirstRecord(const std::string& xml) {
  auto decoded = codec::Decode(xml);
  return std::get<R>(std::get<codec::DecodedMessage>(decoded).message.records.at(0));
}

std::vector<std::string> Details(const model::Record& record) {
  std::vector<std::string> out;
  for (const Finding& f : ValidateRecord(record, RulesConfig{})) out.push_back(f.detail);
  return out;
}

// The paths and reasons are built only for the checks that fail (validation.cc: KJ_EXPECT,
// Joined): what the declarant reads must name the field, the line and the value found, exactly.
TEST(Validation, FindingsNameTheFieldTheLineAndTheValueFound) {
  app::ClearanceSpec spec = app::DemoClearances()[0];
  spec.items.push_back(spec.items[0]);  // two lines
  const app::ClearanceMessages m = app::MakeClearance(spec);
  const model::Order order = FirstRecord<model::Order>(m.order);
  const model::Inventory inventory = FirstRecord<model::Inventory>(m.inventory);
  ASSERT_GE(order.lists.size(), 2u);
  ASSERT_GE(inventory.lists.size(), 2u);
  EXPECT_TRUE(Details(order).empty());
  EXPECT_TRUE(Details(inventory).empty());

  model::Order o = order;
  o.head.ebcCode = "12345";                 // a helper given `p + ".ebcCode"`
  o.head.buyerIdType = "2";                 // `p + "." + field` inside the check
  o.head.freight = Decimal::FromUnits(-1);  // a helper given `p.Dot(field)`
  o.head.acturalPaid = o.head.goodsValue + o.head.freight + o.head.taxTotal - o.head.discount;
  o.lists[1].currency = "502";             // line 2, through a helper
  o.lists[1].qty = Decimal::FromUnits(0);  // line 2, in the check itself
  EXPECT_EQ(Details(o),
            (std::vector<std::string>{
                "OrderHead.ebcCode: must be a 10-character customs code or an 18-character "
                "unified social credit code with a valid check character, found '12345'",
                "OrderHead.buyerIdType: must be 1 (resident identity card), found '2'",
                "OrderHead.freight: must not be negative",
                "OrderList[2].currency: must be 142 (CNY), found '502'",
                "OrderList[2].qty: must be greater than 0",
                "OrderList[2].totalPrice: must equal price x qty (1000 x 0), found 1000",
            }));

  model::Inventory inv = inventory;
  inv.head.agentCode = "ABC";  // one of the codes checked in a loop: `p.Dot(n)`
  inv.lists[0].qty1 = Decimal::FromUnits(0);
  inv.lists[1].gcode = "12";
  EXPECT_EQ(Details(inv),
            (std::vector<std::string>{
                "InventoryHead.agentCode: must be a 10-character customs code or an 18-character "
                "unified social credit code with a valid check character, found 'ABC'",
                "InventoryHead.assureCode: must be the list's agentCode, ebcCode or logisticsCode",
                "InventoryList[1].qty1: must be greater than 0",
                "InventoryList[2].gcode: must be the 10-digit commodity code",
            }));
}

}  // namespace
}  // namespace kuajing::clearance
