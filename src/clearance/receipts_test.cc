#include "clearance/receipts.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "clearance/credit_events.h"
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

}  // namespace
}  // namespace kuajing::clearance
