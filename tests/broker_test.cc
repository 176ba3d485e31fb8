// The broker and security servers that follow it: real processes on loopback.
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/signed_configuration.h"
#include "common/files.h"
#include "common/transport_security.h"
#include "httplib.h"
#include "tests/live_federation.h"

namespace renkei::testing {
namespace {

using ::testing::HasSubstr;
using municipal::v1::GetResidentRequest;
using municipal::v1::GetResidentResponse;

grpc::Status Call(LiveFederation& federation, const std::string& service,
                  const std::string& code = "131016-0001") {
  grpc::ClientContext context;
  LiveFederation::AddRenkeiMetadata(context, kAllowance, service, code);
  GetResidentRequest request;
  request.set_resident_code(code);
  GetResidentResponse response;
  return federation.LocalRegistry(federation.allowance_client)
      ->GetResident(&context, request, &response);
}

LiveFederationOptions BrokerOptions() {
  LiveFederationOptions options;
  options.use_broker = true;
  options.configuration_refresh_seconds = 1;
  return options;
}

TEST(Broker, SecurityServersStartFromTheBrokersSignedConfiguration) {
  LiveFederation federation("broker_start", BrokerOptions());
  ASSERT_TRUE(federation.Start());
  grpc::Status status = Call(federation, kRegistry);
  EXPECT_TRUE(status.ok()) << status.error_message();

  // Anyone may fetch the signed document; it verifies against the anchor's certificate.
  auto distribution = v1::ConfigurationDistribution::NewStub(federation.BrokerChannel(nullptr));
  grpc::ClientContext context;
  v1::GetConfigurationResponse response;
  ASSERT_TRUE(distribution->GetConfiguration(&context, v1::GetConfigurationRequest(), &response).ok());
  auto verified = VerifyConfiguration(response.configuration(),
                                      federation.configuration_signer.certificate, "JP", absl::Now());
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->security_servers_size(), 3);

  // Over TLS only, and only to the certificate the anchor pins (issue 8, item 3).
  auto plaintext = v1::ConfigurationDistribution::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", federation.broker_distribution_port),
      grpc::InsecureChannelCredentials()));
  grpc::ClientContext plaintext_context;
  plaintext_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  EXPECT_FALSE(
      plaintext->GetConfiguration(&plaintext_context, v1::GetConfigurationRequest(), &response).ok());
  v1::ConfigurationAnchor impostor = federation.Anchor();
  impostor.set_broker_tls_certificate_sha256(0, federation.moj_auth.certificate.fingerprint());
  auto credentials = BrokerChannelCredentials(
      impostor, absl::StrCat("127.0.0.1:", federation.broker_distribution_port), nullptr);
  ASSERT_TRUE(credentials.ok());
  auto pinned_elsewhere = v1::ConfigurationDistribution::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", federation.broker_distribution_port), *credentials));
  grpc::ClientContext pinned_context;
  pinned_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  EXPECT_FALSE(pinned_elsewhere
                   ->GetConfiguration(&pinned_context, v1::GetConfigurationRequest(), &response)
                   .ok());
}

TEST(Broker, RegistryChangeReachesSecurityServersWithoutRestart) {
  LiveFederation federation("broker_change", BrokerOptions());
  ASSERT_TRUE(federation.Start());
  const std::string kCertificates = "JP/MUNI/131016/certificates";
  grpc::Status status = Call(federation, kCertificates);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();

  // The registry learns of a new subsystem and that the provider's server offers it.
  v1::RegistryChange add;
  add.mutable_add_subsystem()->set_id(kCertificates);
  ASSERT_TRUE(federation.ApplyChange(add).ok());
  v1::RegistryChange put;
  v1::SecurityServer* server = put.mutable_put_security_server()->mutable_server();
  server->set_id(TestFederation::kProviderServer);
  server->add_addresses(absl::StrCat("127.0.0.1:", federation.provider_peer_port));
  server->set_authentication_certificate_sha256(
      federation.pki.provider_server.certificate.fingerprint());
  for (const char* provided : {kRegistry, kTestBackend, kTax}) server->add_provides(provided);
  server->add_provides(kCertificates);
  ASSERT_TRUE(federation.ApplyChange(put).ok());

  // The consumer's server now routes it; the provider's server says it does not provide it
  // (its own settings list no backend for it), which proves the call got there.
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    grpc::Status now = Call(federation, kCertificates);
    return now.error_message().find("is not provided by security server") != std::string::npos;
  })) << Call(federation, kCertificates).error_message();
}

TEST(Broker, RevokedSigningCertificateIsRefusedAfterTheNextRefresh) {
  LiveFederation federation("broker_revoke", BrokerOptions());
  ASSERT_TRUE(federation.Start());
  ASSERT_TRUE(Call(federation, kRegistry).ok());
  v1::RegistryChange revoke;
  revoke.mutable_revoke_certificate()->set_certificate_sha256(
      federation.pki.consumer_signer.certificate.fingerprint());
  absl::Time revoked_at = absl::Now();
  ASSERT_TRUE(federation.ApplyChange(revoke).ok());
  grpc::Status status;
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    status = Call(federation, kRegistry);
    return status.error_code() == grpc::StatusCode::UNAUTHENTICATED;
  }));
  EXPECT_THAT(status.error_message(), HasSubstr("revoked"));
  // Informational: refresh interval is 1 s.
  std::cout << "revocation effective after " << absl::FormatDuration(absl::Now() - revoked_at)
            << "\n";
}

TEST(Broker, RevokedServerCertificateIsRefused) {
  LiveFederation federation("broker_revoke_server", BrokerOptions());
  ASSERT_TRUE(federation.Start());
  v1::RegistryChange revoke;
  revoke.mutable_revoke_certificate()->set_certificate_sha256(
      federation.pki.consumer_server.certificate.fingerprint());
  ASSERT_TRUE(federation.ApplyChange(revoke).ok());
  // The provider's server refuses the revoked certificate in the TLS handshake (issue 8,
  // item 6), or, on a connection opened before it learnt of the revocation, on every request
  // (UNAUTHENTICATED naming it): either way nothing reaches the registry.
  grpc::Status status;
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    status = Call(federation, kRegistry);
    return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
           (status.error_code() == grpc::StatusCode::UNAUTHENTICATED &&
            status.error_message().find("revoked") != std::string::npos);
  })) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("provider security server"));
}

TEST(Broker, WithoutTheBrokerServersRunOnTheirCacheUntilExpiryThenFailClosedThenRecover) {
  LiveFederationOptions options = BrokerOptions();
  options.configuration_validity_seconds = 6;
  LiveFederation federation("broker_outage", options);
  ASSERT_TRUE(federation.Start());
  ASSERT_TRUE(Call(federation, kRegistry).ok());

  federation.StopBroker();
  // Still exchanging on the held configuration, and a restarted server starts from its cache.
  EXPECT_TRUE(Call(federation, kRegistry).ok());
  ASSERT_TRUE(federation.RestartConsumer());
  grpc::Status status = Call(federation, kRegistry);
  EXPECT_TRUE(status.ok()) << status.error_message();

  // Then the configuration expires: fail closed, saying why.
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    status = Call(federation, kRegistry);
    return status.error_code() == grpc::StatusCode::UNAVAILABLE;
  }));
  EXPECT_THAT(status.error_message(), HasSubstr("expired"));

  // The broker returns: a fresh configuration arrives and exchanges resume.
  ASSERT_TRUE(federation.StartBroker());
  ASSERT_TRUE(LiveFederation::Eventually([&] { return Call(federation, kRegistry).ok(); }))
      << Call(federation, kRegistry).error_message();
}

TEST(Broker, CallsFailOverToALiveProviderServer) {
  LiveFederationOptions options = BrokerOptions();
  options.provider_replicas = 2;
  LiveFederation federation("broker_failover", options);
  ASSERT_TRUE(federation.Start());
  ASSERT_TRUE(Call(federation, kRegistry).ok());
  federation.provider_ss->Signal(SIGKILL);
  federation.provider_ss->Wait(10);
  // gRPC's pick_first walks the server's addresses: the next calls reach the second replica.
  int ok = 0;
  for (int i = 0; i < 5; ++i) ok += Call(federation, kRegistry).ok() ? 1 : 0;
  EXPECT_EQ(ok, 5);
}

TEST(Broker, AdminCallsNeedARegisteredOperatorCertificate) {
  LiveFederation federation("broker_admin", BrokerOptions());
  ASSERT_TRUE(federation.Start());
  v1::RegistryChange change;
  change.mutable_add_member()->set_id("JP/GOV/MOF");

  const std::vector<const TestCredentials*> callers = {
      nullptr, &federation.unregistered_operator, &federation.rogue_auth};
  for (const TestCredentials* credentials : callers) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ApplyChangeResponse response;
    grpc::Status status = federation.Admin(credentials)->ApplyChange(&context, change, &response);
    EXPECT_FALSE(status.ok());
    if (credentials == &federation.unregistered_operator) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
      EXPECT_THAT(status.error_message(), HasSubstr("not a registered operator certificate"));
    } else {
      // No certificate, or one from a CA the broker does not trust: the handshake fails.
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    }
  }

  // The registered operator's change is applied and recorded in the admin log.
  ASSERT_TRUE(federation.ApplyChange(change).ok());
  grpc::ClientContext context;
  v1::ListAdminLogRequest request;
  request.set_limit(1);
  v1::ListAdminLogResponse log;
  ASSERT_TRUE(federation.Admin(&federation.operator_credentials)
                  ->ListAdminLog(&context, request, &log)
                  .ok());
  ASSERT_EQ(log.entries_size(), 1);
  EXPECT_EQ(log.entries(0).change().add_member().id(), "JP/GOV/MOF");
  EXPECT_EQ(log.entries(0).operator_name(), "tanaka");
  EXPECT_EQ(log.entries(0).operator_certificate_sha256(),
            federation.operator_credentials.certificate.fingerprint());

  // Invalid changes get a precise status and change nothing.
  grpc::ClientContext duplicate_context;
  v1::ApplyChangeResponse response;
  grpc::Status duplicate = federation.Admin(&federation.operator_credentials)
                               ->ApplyChange(&duplicate_context, change, &response);
  EXPECT_EQ(duplicate.error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

// Issue 8, item 9.
TEST(Broker, EnrollmentIsLoggedAndReplacingAKeyNeedsTheFlag) {
  LiveFederation federation("broker_enroll", BrokerOptions());
  ASSERT_TRUE(federation.Start());
  auto enroll = [&](const PrivateKey& key, bool replace) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::EnrollResidentRequest request;
    request.set_resident_id("131016-0001");
    request.set_public_key_pem(key.PublicKeyPem());
    request.set_replace_existing(replace);
    v1::EnrollResidentResponse response;
    return federation.Admin(&federation.operator_credentials)
        ->EnrollResident(&context, request, &response);
  };
  PrivateKey first = PrivateKey::GenerateP256(), second = PrivateKey::GenerateP256();
  ASSERT_TRUE(enroll(first, false).ok());
  grpc::Status again = enroll(second, false);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(again.error_message(), HasSubstr("--replace"));
  EXPECT_TRUE(federation.SignIn("131016-0001", first).ok());
  ASSERT_TRUE(enroll(second, true).ok());
  EXPECT_FALSE(federation.SignIn("131016-0001", first).ok());
  EXPECT_TRUE(federation.SignIn("131016-0001", second).ok());

  grpc::ClientContext context;
  v1::ListAdminLogResponse log;
  ASSERT_TRUE(federation.Admin(&federation.operator_credentials)
                  ->ListAdminLog(&context, v1::ListAdminLogRequest(), &log)
                  .ok());
  ASSERT_GE(log.entries_size(), 2);  // newest first; the refusal is not logged
  const v1::AdminLogEntry& replaced = log.entries(0);
  const v1::AdminLogEntry& enrolled = log.entries(1);
  EXPECT_TRUE(replaced.resident_enrollment().replaced_existing_key());
  EXPECT_FALSE(enrolled.resident_enrollment().replaced_existing_key());
  EXPECT_EQ(enrolled.resident_enrollment().subject_pseudonym_prefix().size(), 16u);
  EXPECT_EQ(replaced.resident_enrollment().subject_pseudonym_prefix(),
            enrolled.resident_enrollment().subject_pseudonym_prefix());
  EXPECT_EQ(replaced.operator_name(), "tanaka");
  EXPECT_FALSE(replaced.has_change());
  EXPECT_EQ(log.DebugString().find("131016-0001"), std::string::npos);
}

// Issue 8, item 8: anyone may ask for a sign-in challenge; a flood holds nothing on the
// broker, and the resident still signs in and everyone else is still answered.
TEST(Broker, AChallengeFloodHoldsNothingAndResidentsStillSignIn) {
  LiveFederation federation("broker_flood", BrokerOptions());
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());
  auto residents = federation.Residents();
  for (int i = 0; i < 2000; ++i) {
    grpc::ClientContext context;
    v1::ChallengeRequest request;
    request.set_resident_id(i % 2 ? "131016-0001" : absl::StrCat("flood-", i));
    v1::ChallengeResponse response;
    ASSERT_TRUE(residents->Challenge(&context, request, &response).ok());
  }
  EXPECT_TRUE(federation.SignIn("131016-0001", saito).ok());
  grpc::ClientContext context;
  v1::SignedTreeHead head;
  EXPECT_TRUE(residents->GetTreeHead(&context, v1::GetTreeHeadRequest(), &head).ok());
  EXPECT_TRUE(Call(federation, kRegistry).ok());
}

// A challenge is bound to its resident and usable once.
TEST(Broker, AChallengeIsForOneResidentAndOneSignIn) {
  LiveFederation federation("broker_challenge", BrokerOptions());
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  PrivateKey takahashi = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());
  ASSERT_TRUE(federation.EnrollResident("131016-0005", takahashi).ok());
  auto residents = federation.Residents();
  grpc::ClientContext challenge_context;
  v1::ChallengeRequest for_saito;
  for_saito.set_resident_id("131016-0001");
  v1::ChallengeResponse challenge;
  ASSERT_TRUE(residents->Challenge(&challenge_context, for_saito, &challenge).ok());
  auto sign_in = [&](const std::string& resident, const PrivateKey& key, std::string text) {
    v1::SignInRequest request;
    request.set_resident_id(resident);
    request.set_challenge(text);
    request.set_signature(*key.Sign(text));
    grpc::ClientContext context;
    v1::SignInResponse session;
    return residents->SignIn(&context, request, &session).error_code();
  };
  // Takahashi cannot use Saito's challenge, nor an edited one.
  EXPECT_EQ(sign_in("131016-0005", takahashi, challenge.challenge()),
            grpc::StatusCode::UNAUTHENTICATED);
  std::string edited = challenge.challenge();
  edited.back() = edited.back() == '0' ? '1' : '0';
  EXPECT_EQ(sign_in("131016-0001", saito, edited), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(sign_in("131016-0001", saito, challenge.challenge()), grpc::StatusCode::OK);
  EXPECT_EQ(sign_in("131016-0001", saito, challenge.challenge()),
            grpc::StatusCode::UNAUTHENTICATED);
}

// Residents reach the portal over TLS (HSTS); plain HTTP is for loopback development only.
TEST(Broker, ThePortalServesHttpsWithTheBrokersCertificate) {
  LiveFederationOptions options = BrokerOptions();
  options.portal = true;
  options.portal_https = true;
  LiveFederation federation("broker_portal_https", options);
  ASSERT_TRUE(federation.Start());
  const std::string ca_file = federation.directory + "/federation-ca.pem";
  ASSERT_TRUE(WriteFileAtomically(ca_file, federation.pki.ca.certificate.Pem(), 0644).ok());
  httplib::SSLClient client("127.0.0.1", federation.portal_port);
  client.set_ca_cert_path(ca_file.c_str());
  client.enable_server_certificate_verification(true);
  client.set_follow_location(true);
  auto page = client.Get("/");
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->get_header_value("Strict-Transport-Security"), HasSubstr("max-age="));
  httplib::Client plain("127.0.0.1", federation.portal_port);
  plain.set_read_timeout(3, 0);
  auto refused = plain.Get("/");
  EXPECT_TRUE(!refused || refused->status != 200);
}

}  // namespace
}  // namespace renkei::testing
