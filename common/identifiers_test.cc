#include "common/identifiers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace renkei {
namespace {

using ::testing::HasSubstr;

TEST(Identifiers, ParsesMember) {
  auto id = ParseMemberId("JP/MUNI/131016");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->instance(), "JP");
  EXPECT_EQ(id->member_class(), "MUNI");
  EXPECT_EQ(id->member_code(), "131016");
  EXPECT_EQ(ToString(*id), "JP/MUNI/131016");
}

TEST(Identifiers, ParsesSubsystemAndServer) {
  auto subsystem = ParseSubsystemId("JP/MUNI/131016/resident-registry");
  ASSERT_TRUE(subsystem.ok()) << subsystem.status();
  EXPECT_EQ(subsystem->subsystem_code(), "resident-registry");
  EXPECT_EQ(ToString(*subsystem), "JP/MUNI/131016/resident-registry");

  auto server = ParseSecurityServerId("JP/GOV/MHLW/ss_1.a");
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->server_code(), "ss_1.a");
  EXPECT_EQ(ToString(*server), "JP/GOV/MHLW/ss_1.a");
}

TEST(Identifiers, RejectsWrongNumberOfParts) {
  auto id = ParseMemberId("JP/MUNI");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("expected 3"));
  EXPECT_FALSE(ParseSubsystemId("JP/MUNI/131016").ok());
  EXPECT_FALSE(ParseSubsystemId("JP/MUNI/131016/a/b").ok());
}

TEST(Identifiers, RejectsEmptyParts) {
  auto id = ParseSubsystemId("JP//131016/registry");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("CLASS part is empty"));
  EXPECT_FALSE(ParseMemberId("").ok());
  EXPECT_FALSE(ParseMemberId("JP/MUNI/131016/").ok());
}

TEST(Identifiers, RejectsCharactersOutsideTheAlphabetWithoutGuessing) {
  EXPECT_FALSE(ParseMemberId("JP/MUNI/ 131016").ok());
  EXPECT_FALSE(ParseMemberId("JP/MUNI/131016 ").ok());
  EXPECT_FALSE(ParseMemberId("JP/MUNI/千代田").ok());
  EXPECT_FALSE(ParseMemberId(std::string("JP/MUNI/13\0" "16", 12)).ok());
  auto id = ParseSubsystemId("JP/MUNI/131016/resident:registry");
  EXPECT_THAT(std::string(id.status().message()),
              HasSubstr("SUBSYSTEM part may contain only"));
}

TEST(Identifiers, RejectsOverlongParts) {
  EXPECT_TRUE(ParseMemberId("JP/MUNI/" + std::string(64, 'a')).ok());
  EXPECT_FALSE(ParseMemberId("JP/MUNI/" + std::string(65, 'a')).ok());
}

TEST(Identifiers, ComparesAllParts) {
  EXPECT_TRUE(*ParseMemberId("JP/MUNI/1") == *ParseMemberId("JP/MUNI/1"));
  EXPECT_FALSE(*ParseMemberId("JP/MUNI/1") == *ParseMemberId("JP/GOV/1"));
  EXPECT_FALSE(*ParseSubsystemId("JP/MUNI/1/a") == *ParseSubsystemId("JP/MUNI/1/b"));
}

TEST(Identifiers, SecurityServerTlsNameIsAValidLowercaseDnsName) {
  auto id = ParseSecurityServerId("JP/MUNI/131016/SS_1");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(SecurityServerTlsName(*id), "ss-1.131016.muni.jp.renkei.internal");
}

}  // namespace
}  // namespace renkei
