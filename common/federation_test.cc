#include "common/federation.h"

#include "common/identifiers.h"
#include "gtest/gtest.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

absl::Status Create(const v1::GlobalConfiguration& configuration) {
  return Federation::Create(configuration).status();
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(Federation, IndexesAValidConfiguration) {
  TestFederation test;
  auto federation = test.Build();
  auto service = *ParseSubsystemId(TestFederation::kService);
  ASSERT_EQ(federation->ProvidersOf(service).size(), 1u);
  EXPECT_EQ(federation->ProvidersOf(service)[0]->id_text, TestFederation::kProviderServer);
  EXPECT_TRUE(federation->ProvidersOf(*ParseSubsystemId(TestFederation::kClient)).empty());
  EXPECT_EQ(federation->ServerByAuthenticationCertificate(
                    test.provider_server.certificate.fingerprint())->id_text,
            TestFederation::kProviderServer);
  EXPECT_EQ(federation->ServerByAuthenticationCertificate(std::string(64, '0')), nullptr);
  EXPECT_TRUE(federation->HasSubsystem(service));
  EXPECT_EQ(federation->max_message_bytes(), 4 << 20);
  EXPECT_EQ(federation->max_clock_skew(), absl::Seconds(60));
}

TEST(Federation, RejectsDuplicateMember) {
  TestFederation test;
  *test.configuration.add_members() = test.configuration.members(0);
  absl::Status status = Create(test.configuration);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(status), "duplicate member JP/GOV/MHLW");
}

TEST(Federation, RejectsMalformedAndForeignIdentifiers) {
  TestFederation test;
  test.configuration.mutable_members(0)->set_id("JP/GOV");
  EXPECT_NE(Message(Create(test.configuration)).find("malformed member identifier"),
            std::string::npos);
  test = TestFederation();
  test.configuration.mutable_members(0)->set_id("EE/GOV/MHLW");
  EXPECT_NE(Message(Create(test.configuration)).find("instance EE, not JP"), std::string::npos);
}

TEST(Federation, RejectsUnknownReferences) {
  TestFederation test;
  test.configuration.mutable_security_servers(1)->add_provides("JP/MUNI/131016/nothing");
  EXPECT_EQ(Message(Create(test.configuration)),
            "security server JP/MUNI/131016/ss1 provides unknown subsystem "
            "JP/MUNI/131016/nothing");
  test = TestFederation();
  test.configuration.mutable_security_servers(0)->set_id("JP/GOV/MOJ/ss1");
  EXPECT_NE(Message(Create(test.configuration)).find("unknown member JP/GOV/MOJ"),
            std::string::npos);
}

TEST(Federation, RejectsBadFingerprintsAndMissingCa) {
  TestFederation test;
  test.configuration.mutable_security_servers(0)->set_authentication_certificate_sha256("ABC");
  EXPECT_NE(Message(Create(test.configuration)).find("not a SHA-256 fingerprint"),
            std::string::npos);
  test = TestFederation();
  test.configuration.clear_trusted_ca_pem();
  EXPECT_NE(Message(Create(test.configuration)).find("no trusted CA"), std::string::npos);
}

TEST(Federation, SeveralAddressesMustBeIpLiterals) {
  TestFederation test;
  test.configuration.mutable_security_servers(1)->add_addresses("[::1]:3");
  EXPECT_TRUE(Create(test.configuration).ok()) << Create(test.configuration);
  test.configuration.mutable_security_servers(1)->add_addresses("ss.example.jp:443");
  EXPECT_NE(Message(Create(test.configuration)).find("IP literal"), std::string::npos);
}

TEST(Federation, RejectsAnAuthenticationCertificateUsedTwice) {
  TestFederation test;
  test.configuration.mutable_security_servers(1)->set_authentication_certificate_sha256(
      test.configuration.security_servers(0).authentication_certificate_sha256());
  EXPECT_NE(Message(Create(test.configuration)).find("also registered"), std::string::npos);
}

}  // namespace
}  // namespace renkei
