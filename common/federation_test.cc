#include "common/federation.h"

#include <cstdint>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
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

// Adds a security server of an existing member with a fresh fingerprint.
void AddServer(v1::GlobalConfiguration& configuration, const std::string& id, char fingerprint) {
  v1::SecurityServer* server = configuration.add_security_servers();
  server->set_id(id);
  server->add_addresses("127.0.0.1:9");
  server->set_authentication_certificate_sha256(std::string(64, fingerprint));
}

TEST(Federation, FingerprintsMustBeExactly64LowercaseHexDigits) {
  std::string valid = TestFederation().configuration.security_servers(0)
                          .authentication_certificate_sha256();
  std::string upper = valid;
  for (char& c : upper) c = absl::ascii_toupper(c);
  for (const std::string& bad : {upper, valid.substr(1), valid + "0", std::string(64, 'g'),
                                 std::string(""), " " + valid.substr(1), valid.substr(1) + "\n"}) {
    TestFederation test;
    test.configuration.mutable_security_servers(0)->set_authentication_certificate_sha256(bad);
    absl::Status status = Create(test.configuration);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(Message(status).find("security server JP/GOV/MHLW/ss1: "
                                   "authentication_certificate_sha256"),
              std::string::npos)
        << status;
    EXPECT_NE(Message(status).find("64 lowercase hex digits"), std::string::npos) << status;
  }
}

TEST(Federation, FingerprintErrorsNameTheFieldAndItsOwner) {
  std::string upper(64, 'A');
  TestFederation test;
  test.configuration.mutable_members(0)->add_signing_certificate_sha256(upper);
  EXPECT_NE(Message(Create(test.configuration))
                .find("member JP/GOV/MHLW: signing_certificate_sha256 \"" + upper + "\""),
            std::string::npos)
      << Create(test.configuration);
  test = TestFederation();
  test.configuration.add_revoked_certificate_sha256(upper);
  EXPECT_NE(Message(Create(test.configuration))
                .find("global configuration: revoked_certificate_sha256 \"" + upper + "\""),
            std::string::npos)
      << Create(test.configuration);
  test = TestFederation();
  test.configuration.add_revoked_certificate_sha256(std::string(64, 'a'));
  EXPECT_TRUE(Create(test.configuration).ok()) << Create(test.configuration);
}

TEST(Federation, MaxMessageBytesMustBeWithin64MiBAndZeroMeansTheDefault) {
  TestFederation test;
  for (int64_t bad : {int64_t{-1}, int64_t{(64 << 20) + 1}, int64_t{1} << 31,
                      std::numeric_limits<int64_t>::max()}) {
    test.configuration.mutable_limits()->set_max_message_bytes(bad);
    absl::Status status = Create(test.configuration);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(Message(status).find(absl::StrCat("limits.max_message_bytes is ", bad,
                                                "; it must be between 1 and 67108864 (64 MiB)")),
              std::string::npos)
        << status;
  }
  test.configuration.mutable_limits()->set_max_message_bytes(64 << 20);
  EXPECT_EQ(test.Build()->max_message_bytes(), 64 << 20);
  test.configuration.mutable_limits()->set_max_message_bytes(1);
  EXPECT_EQ(test.Build()->max_message_bytes(), 1);
  test.configuration.mutable_limits()->set_max_message_bytes(0);
  EXPECT_EQ(test.Build()->max_message_bytes(), 4 << 20);
}

TEST(Federation, MaxClockSkewMustBeWithinAnHourAndZeroMeansTheDefault) {
  TestFederation test;
  for (int64_t bad : {int64_t{-1}, int64_t{3601}, std::numeric_limits<int64_t>::min()}) {
    test.configuration.mutable_limits()->set_max_clock_skew_seconds(bad);
    absl::Status status = Create(test.configuration);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(Message(status).find(absl::StrCat("limits.max_clock_skew_seconds is ", bad,
                                                "; it must be between 1 and 3600")),
              std::string::npos)
        << status;
  }
  test.configuration.mutable_limits()->set_max_clock_skew_seconds(3600);
  EXPECT_EQ(test.Build()->max_clock_skew(), absl::Hours(1));
  test.configuration.mutable_limits()->set_max_clock_skew_seconds(0);
  EXPECT_EQ(test.Build()->max_clock_skew(), absl::Seconds(60));
}

TEST(Federation, RejectsTwoServersWhoseTlsNamesDifferOnlyInCase) {
  TestFederation test;
  AddServer(test.configuration, "JP/GOV/MHLW/SS1", '1');
  absl::Status status = Create(test.configuration);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(status).find("security servers JP/GOV/MHLW/ss1 and JP/GOV/MHLW/SS1 would "
                                 "share the TLS name ss1.mhlw.gov.jp.renkei.internal"),
            std::string::npos)
      << status;
}

TEST(Federation, RejectsTwoServersWhoseTlsNamesDifferOnlyInUnderscoreAndHyphen) {
  TestFederation test;
  AddServer(test.configuration, "JP/GOV/MHLW/ss_2", '1');
  AddServer(test.configuration, "JP/GOV/MHLW/ss-2", '2');
  EXPECT_NE(Message(Create(test.configuration))
                .find("security servers JP/GOV/MHLW/ss_2 and JP/GOV/MHLW/ss-2 would share"),
            std::string::npos)
      << Create(test.configuration);
}

TEST(Federation, RejectsTwoServersWhoseDotsShiftTheirTlsNameLabels) {
  TestFederation test;
  for (const char* member : {"JP/d/b.c", "JP/d/c"}) {
    test.configuration.add_members()->set_id(member);
  }
  AddServer(test.configuration, "JP/d/b.c/a", '1');
  AddServer(test.configuration, "JP/d/c/a.b", '2');
  absl::Status status = Create(test.configuration);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(status).find("security servers JP/d/b.c/a and JP/d/c/a.b would share the TLS "
                                 "name a.b.c.d.jp.renkei.internal"),
            std::string::npos)
      << status;
}

TEST(Federation, AcceptsServersWithDistinctTlsNames) {
  TestFederation test;
  AddServer(test.configuration, "JP/GOV/MHLW/ss2", '1');
  AddServer(test.configuration, "JP/GOV/MHLW/ss.2", '2');  // ss.2.mhlw... vs ss2.mhlw...
  EXPECT_TRUE(Create(test.configuration).ok()) << Create(test.configuration);
}

}  // namespace
}  // namespace renkei
