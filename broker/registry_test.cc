#include "broker/registry.h"

#include "common/text_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

using ::testing::HasSubstr;

v1::RegistryChange Change(const std::string& text) {
  v1::RegistryChange change;
  EXPECT_TRUE(ParseTextProto(text, "change", &change).ok()) << text;
  return change;
}

class RegistryTest : public ::testing::Test {
 protected:
  absl::StatusOr<v1::GlobalConfiguration> Apply(const std::string& text) {
    return ApplyRegistryChange(pki_.configuration, Change(text));
  }
  absl::Status StatusOf(const std::string& text) { return Apply(text).status(); }
  TestFederation pki_;
};

TEST(Registry, NothingBeforeTheFirstTrustedCa) {
  v1::GlobalConfiguration empty;
  empty.set_instance("JP");
  auto result = ApplyRegistryChange(empty, Change(R"(add_member { id: "JP/GOV/MHLW" })"));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  TestFederation pki;
  v1::RegistryChange add_ca;
  add_ca.mutable_add_trusted_ca()->set_certificate_pem(pki.ca.certificate.Pem());
  auto with_ca = ApplyRegistryChange(empty, add_ca);
  ASSERT_TRUE(with_ca.ok()) << with_ca.status();
  EXPECT_EQ(with_ca->trusted_ca_pem_size(), 1);
  EXPECT_EQ(ApplyRegistryChange(*with_ca, add_ca).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(RegistryTest, AddsMembersSubsystemsAndServers) {
  auto next = Apply(R"(add_member { id: "JP/GOV/MOJ" name: "法務省" })");
  ASSERT_TRUE(next.ok()) << next.status();
  pki_.configuration = *next;
  next = Apply(R"(add_subsystem { id: "JP/GOV/MOJ/family-register" })");
  ASSERT_TRUE(next.ok()) << next.status();
  pki_.configuration = *next;
  next = Apply(R"(put_security_server { server { id: "JP/GOV/MOJ/ss1" addresses: "127.0.0.1:9"
      authentication_certificate_sha256: "0000000000000000000000000000000000000000000000000000000000000001"
      provides: "JP/GOV/MOJ/family-register" } })");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->security_servers_size(), 3);
}

TEST_F(RegistryTest, DuplicateIdsAreAlreadyExists) {
  absl::Status status = StatusOf(R"(add_member { id: "JP/GOV/MHLW" })");
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(status.message(), "member JP/GOV/MHLW already exists");
  EXPECT_EQ(StatusOf(R"(add_subsystem { id: "JP/GOV/MHLW/child-allowance" })").code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(RegistryTest, MalformedIdsAreInvalidArgument) {
  absl::Status status = StatusOf(R"(add_member { id: "JP/GOV" })");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("malformed member identifier"));
  EXPECT_EQ(StatusOf(R"(add_member { id: "EE/GOV/X" })").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusOf(R"(put_security_server { server { id: "JP/GOV/MHLW/ss2" addresses: "a:1"
      authentication_certificate_sha256: "xyz" } })").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusOf("").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, UnknownReferencesAreNotFound) {
  absl::Status status = StatusOf(R"(add_subsystem { id: "JP/GOV/MOJ/family-register" })");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "no member JP/GOV/MOJ for subsystem JP/GOV/MOJ/family-register");
  EXPECT_EQ(StatusOf(R"(remove_security_server { id: "JP/GOV/MHLW/ss9" })").code(),
            absl::StatusCode::kNotFound);
  // A server providing a subsystem that does not exist: refused by whole-document validation.
  status = StatusOf(R"(put_security_server { server { id: "JP/GOV/MHLW/ss2" addresses: "127.0.0.1:9"
      authentication_certificate_sha256: "0000000000000000000000000000000000000000000000000000000000000002"
      provides: "JP/GOV/MHLW/nothing" } })");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("provides unknown subsystem"));
}

TEST_F(RegistryTest, RemovingWhatIsReferredToIsRefused) {
  EXPECT_EQ(StatusOf(R"(remove_member { id: "JP/GOV/MHLW" })").code(),
            absl::StatusCode::kFailedPrecondition);
  absl::Status status = StatusOf(R"(remove_subsystem { id: "JP/MUNI/131016/resident-registry" })");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("still provided by security server"));
}

TEST_F(RegistryTest, SigningCertificateMustChainToATrustedCa) {
  v1::RegistryChange change;
  change.mutable_add_signing_certificate()->set_member("JP/GOV/MHLW");
  change.mutable_add_signing_certificate()->set_certificate_pem(
      pki_.IssueSigning("JP/GOV/MHLW", pki_.ca).certificate.Pem());
  auto next = ApplyRegistryChange(pki_.configuration, change);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->members(0).signing_certificate_sha256_size(), 2);

  TestCredentials rogue_ca = pki_.MakeCa("Rogue");
  change.mutable_add_signing_certificate()->set_certificate_pem(
      pki_.IssueSigning("JP/GOV/MHLW", rogue_ca).certificate.Pem());
  EXPECT_EQ(ApplyRegistryChange(pki_.configuration, change).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, RemovesSigningCertificatesAndCas) {
  std::string fingerprint = pki_.consumer_signer.certificate.fingerprint();
  auto next = Apply(R"(remove_signing_certificate { member: "JP/GOV/MHLW" certificate_sha256: ")" +
                    fingerprint + "\" }");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_TRUE(next->members(0).signing_certificate_sha256().empty());
  EXPECT_EQ(StatusOf(R"(remove_signing_certificate { member: "JP/GOV/MHLW" certificate_sha256: ")" +
                     std::string(64, '0') + "\" }").code(),
            absl::StatusCode::kNotFound);
  absl::Status last_ca = StatusOf(R"(remove_trusted_ca { certificate_sha256: ")" +
                                  pki_.ca.certificate.fingerprint() + "\" }");
  EXPECT_EQ(last_ca.code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RegistryTest, RevocationIsRecordedOnce) {
  std::string text = R"(revoke_certificate { certificate_sha256: ")" +
                     pki_.consumer_signer.certificate.fingerprint() + "\" }";
  auto next = Apply(text);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->revoked_certificate_sha256_size(), 1);
  pki_.configuration = *next;
  EXPECT_EQ(StatusOf(text).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusOf(R"(revoke_certificate { certificate_sha256: "abc" })").code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace renkei
