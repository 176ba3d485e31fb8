// Pinned TLS against real gRPC servers on loopback.
#include "common/transport_security.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "renkei/v1/broker.grpc.pb.h"
#include "gtest/gtest.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

class PinnedTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_identity_ = {pki_.provider_server.certificate.Pem(), pki_.provider_server.key.Pem()};
  }
  // A server presenting `identity`, requiring `client_check` to accept client certificates
  // (or not asking for one when `client_check` is null).
  void Serve(const TlsIdentity& identity, FingerprintCheck client_check) {
    grpc::ServerBuilder builder;
    std::shared_ptr<grpc::ServerCredentials> credentials;
    if (client_check) {
      credentials = PinnedServerCredentials(identity, pki_.ca.certificate.Pem(), client_check);
    } else {
      grpc::SslServerCredentialsOptions options;
      options.pem_key_cert_pairs.push_back({identity.key_pem, identity.certificate_pem});
      credentials = grpc::SslServerCredentials(options);
    }
    builder.AddListeningPort("127.0.0.1:0", credentials, &port_);
    builder.RegisterService(&unimplemented_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
  }
  bool Reachable(std::shared_ptr<grpc::ChannelCredentials> credentials) {
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), credentials);
    return channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  TestFederation pki_;
  TlsIdentity server_identity_;
  int port_ = 0;
  // Answers UNIMPLEMENTED: a call that gets this far passed the handshake.
  v1::ConfigurationDistribution::Service unimplemented_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(PinnedTlsTest, ConnectsOnlyToThePinnedCertificate) {
  Serve(server_identity_, nullptr);
  const std::string pinned = pki_.provider_server.certificate.fingerprint();
  auto only = [](std::string fingerprint) {
    return [fingerprint](const std::string& presented) {
      return presented == fingerprint ? absl::OkStatus() : absl::UnauthenticatedError("not pinned");
    };
  };
  EXPECT_TRUE(Reachable(PinnedChannelCredentials("", nullptr, only(pinned))));
  EXPECT_FALSE(Reachable(PinnedChannelCredentials(
      "", nullptr, only(pki_.consumer_server.certificate.fingerprint()))));
  // With roots, the chain must verify too.
  EXPECT_TRUE(Reachable(PinnedChannelCredentials(pki_.ca.certificate.Pem(), nullptr, only(pinned))));
  TestCredentials rogue_ca = pki_.MakeCa("Rogue CA");
  EXPECT_FALSE(
      Reachable(PinnedChannelCredentials(rogue_ca.certificate.Pem(), nullptr, only(pinned))));
}

TEST_F(PinnedTlsTest, TheServerRefusesClientsItsCheckRefuses) {
  const std::string allowed = pki_.consumer_server.certificate.fingerprint();
  Serve(server_identity_, [allowed](const std::string& presented) {
    return presented == allowed ? absl::OkStatus() : absl::UnauthenticatedError("revoked");
  });
  auto any_server = [](const std::string&) { return absl::OkStatus(); };
  auto check = [&](const TestCredentials& client) {
    TlsIdentity identity{client.certificate.Pem(), client.key.Pem()};
    auto channel = grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port_),
        PinnedChannelCredentials(pki_.ca.certificate.Pem(), &identity, any_server));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::GetConfigurationResponse response;
    return v1::ConfigurationDistribution::NewStub(channel)
        ->GetConfiguration(&context, v1::GetConfigurationRequest(), &response)
        .error_code();
  };
  EXPECT_EQ(check(pki_.consumer_server), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(check(pki_.provider_server), grpc::StatusCode::UNAVAILABLE);
}

TEST(IsLoopbackAddress, OnlyLoopbackLiteralsAndLocalhost) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:1"));
  EXPECT_TRUE(IsLoopbackAddress("127.9.8.7:80"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:1"));
  EXPECT_FALSE(IsLoopbackAddress("127.0.0.1.evil.example:1"));
  EXPECT_FALSE(IsLoopbackAddress("1270.0.0.1:1"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1:1"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:1"));
  EXPECT_FALSE(IsLoopbackAddress("localhost.example:1"));
  EXPECT_FALSE(IsLoopbackAddress("127.0.0.1"));
}

TEST(BrokerChannelCredentials, PlaintextOnlyForALoopbackDevelopmentAnchor) {
  v1::ConfigurationAnchor anchor;
  EXPECT_FALSE(BrokerChannelCredentials(anchor, "127.0.0.1:1", nullptr).ok());
  anchor.set_plaintext_loopback_only(true);
  EXPECT_TRUE(BrokerChannelCredentials(anchor, "127.0.0.1:1", nullptr).ok());
  EXPECT_FALSE(BrokerChannelCredentials(anchor, "10.0.0.1:1", nullptr).ok());
}

}  // namespace
}  // namespace renkei
