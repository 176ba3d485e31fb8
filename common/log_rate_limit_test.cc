#include "common/log_rate_limit.h"

#include "gtest/gtest.h"

namespace renkei {
namespace {

TEST(LogRateLimit, LetsThroughTheLimitAMinuteAndCountsTheRest) {
  LogRateLimit limit(3);
  const absl::Time start = absl::FromUnixSeconds(1795000000);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limit.Admit(start + absl::Seconds(i)), 0u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limit.Admit(start + absl::Seconds(10)), std::nullopt);
  EXPECT_EQ(limit.suppressed(), 5u);
  // A new minute: the first line through says how many were held back.
  EXPECT_EQ(limit.Admit(start + absl::Seconds(61)), 5u);
  EXPECT_EQ(limit.Admit(start + absl::Seconds(62)), 0u);
  EXPECT_EQ(limit.suppressed(), 5u);
}

}  // namespace
}  // namespace renkei
