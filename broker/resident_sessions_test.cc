// Resident sign-in state (broker/ledger_services.h, ResidentSessions) against a fake clock:
// challenges expire, are bound to one resident and used once; sessions expire and are capped
// per resident.
#include "broker/ledger_services.h"

#include "common/clock.h"
#include "gtest/gtest.h"

namespace renkei {
namespace {

const std::string kSaito(32, 's');
const std::string kTakahashi(32, 't');

class ResidentSessionsTest : public ::testing::Test {
 protected:
  FakeClock clock_{absl::FromUnixSeconds(1795000000)};
  ResidentSessions sessions_{clock_};
  absl::Time expires_at_;
};

TEST_F(ResidentSessionsTest, AChallengeExpiresAfterTwoMinutes) {
  const std::string challenge = sessions_.NewChallenge(kSaito, &expires_at_);
  EXPECT_EQ(expires_at_, clock_.Now() + absl::Minutes(2));
  clock_.Advance(absl::Minutes(2) - absl::Seconds(1));
  EXPECT_TRUE(sessions_.IsValidChallenge(kSaito, challenge));
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(sessions_.IsValidChallenge(kSaito, challenge));
}

TEST_F(ResidentSessionsTest, AChallengeIsForOneResidentAndUsedOnce) {
  const std::string challenge = sessions_.NewChallenge(kSaito, &expires_at_);
  EXPECT_FALSE(sessions_.IsValidChallenge(kTakahashi, challenge));
  std::string edited = challenge;
  edited[edited.size() - 1] = edited.back() == '0' ? '1' : '0';
  EXPECT_FALSE(sessions_.IsValidChallenge(kSaito, edited));
  EXPECT_FALSE(sessions_.IsValidChallenge(kSaito, challenge.substr(0, challenge.size() - 2)));
  EXPECT_FALSE(sessions_.IsValidChallenge(kSaito, ""));
  EXPECT_TRUE(sessions_.MarkUsed(challenge));
  EXPECT_FALSE(sessions_.MarkUsed(challenge));
}

TEST_F(ResidentSessionsTest, AChallengeFromAnotherBrokerProcessIsNotValid) {
  ResidentSessions other(clock_);
  EXPECT_FALSE(sessions_.IsValidChallenge(kSaito, other.NewChallenge(kSaito, &expires_at_)));
}

TEST_F(ResidentSessionsTest, SessionsExpireAfterFifteenMinutes) {
  const std::string token = sessions_.NewSession(kSaito, &expires_at_);
  EXPECT_EQ(sessions_.SessionPseudonym(token), kSaito);
  clock_.Advance(absl::Minutes(15));
  EXPECT_EQ(sessions_.SessionPseudonym(token), "");
}

TEST_F(ResidentSessionsTest, ANewSessionEndsTheOldestBeyondTheCap) {
  std::vector<std::string> tokens;
  for (size_t i = 0; i <= ResidentSessions::kMaxSessionsPerResident; ++i) {
    tokens.push_back(sessions_.NewSession(kSaito, &expires_at_));
  }
  EXPECT_EQ(sessions_.SessionPseudonym(tokens.front()), "");
  for (size_t i = 1; i < tokens.size(); ++i) {
    EXPECT_EQ(sessions_.SessionPseudonym(tokens[i]), kSaito);
  }
  // Another resident's sessions are not touched.
  const std::string other = sessions_.NewSession(kTakahashi, &expires_at_);
  EXPECT_EQ(sessions_.SessionPseudonym(other), kTakahashi);
}

}  // namespace
}  // namespace renkei
