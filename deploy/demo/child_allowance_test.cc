#include "deploy/demo/child_allowance.h"

#include "deploy/demo/resident_fixture.h"
#include "gtest/gtest.h"

namespace renkei::demo {
namespace {

municipal::v1::Date Day(int y, int m, int d) {
  municipal::v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

TEST(ChildAllowance, PaysPerChildByAge) {
  auto residents = ChiyodaResidents();
  // 齋藤 household on 2026-11-23: 陽菜 (8) ¥10,000, 蓮 (2) ¥15,000.
  auto decision = DecideEligibility(residents.at("131016-0001"), Day(2026, 11, 23));
  EXPECT_TRUE(decision.eligible());
  ASSERT_EQ(decision.children_size(), 2);
  EXPECT_EQ(decision.children(0).monthly_amount_yen(), 10000);
  EXPECT_EQ(decision.children(1).monthly_amount_yen(), 15000);
  EXPECT_EQ(decision.monthly_total_yen(), 25000);
}

TEST(ChildAllowance, EndsAfterTheMarchFollowingTheEighteenthBirthday) {
  auto residents = ChiyodaResidents();
  const auto& takahashi = residents.at("131016-0005");  // child born 2012-11-05
  EXPECT_TRUE(DecideEligibility(takahashi, Day(2031, 3, 31)).eligible());
  EXPECT_FALSE(DecideEligibility(takahashi, Day(2031, 4, 1)).eligible());
}

TEST(ChildAllowance, NoChildrenNoAllowance) {
  auto decision = DecideEligibility(ChiyodaResidents().at("131016-0007"), Day(2026, 11, 23));
  EXPECT_FALSE(decision.eligible());
  EXPECT_EQ(decision.monthly_total_yen(), 0);
}

}  // namespace
}  // namespace renkei::demo
