// BrokerConfigurationSource against an in-process distribution endpoint that serves whatever
// document the test sets, including ones the real broker never would (tampered, rolled back).
#include "security_server/broker_configuration_source.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/signed_configuration.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

class FakeDistribution final : public v1::ConfigurationDistribution::Service {
 public:
  grpc::Status GetConfiguration(grpc::ServerContext*, const v1::GetConfigurationRequest*,
                                v1::GetConfigurationResponse* response) override {
    absl::MutexLock lock(&mu_);
    *response->mutable_configuration() = serving_;
    return grpc::Status::OK;
  }
  void Serve(v1::SignedGlobalConfiguration document) {
    absl::MutexLock lock(&mu_);
    serving_ = std::move(document);
  }

 private:
  absl::Mutex mu_;
  v1::SignedGlobalConfiguration serving_ ABSL_GUARDED_BY(mu_);
};

class BrokerConfigurationSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&distribution_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
    signer_ = std::make_unique<TestCredentials>(pki_.IssueSigning("JP/BROKER/config", pki_.ca));
    anchor_.set_instance("JP");
    anchor_.set_plaintext_loopback_only(true);  // this fake serves plaintext on loopback
    anchor_.add_broker_addresses(absl::StrCat("127.0.0.1:", port_));
    anchor_.set_configuration_signing_certificate_pem(signer_->certificate.Pem());
    cache_ = absl::StrCat(getenv("TEST_TMPDIR"), "/", ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".cache");
  }
  void TearDown() override { server_->Shutdown(); }

  v1::SignedGlobalConfiguration Document(int64_t version, const PrivateKey* key = nullptr,
                                         absl::Duration valid_for = absl::Minutes(10)) {
    v1::GlobalConfiguration configuration = pki_.configuration;
    configuration.set_version(version);
    configuration.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(clock_.Now() + valid_for));
    return *SignConfiguration(configuration, key ? *key : signer_->key);
  }

  absl::StatusOr<std::unique_ptr<BrokerConfigurationSource>> StartSource() {
    // A long interval: the test drives refreshes itself.
    return BrokerConfigurationSource::Start(anchor_, cache_, absl::Hours(1), clock_);
  }

  TestFederation pki_;
  std::unique_ptr<TestCredentials> signer_;
  FakeDistribution distribution_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  v1::ConfigurationAnchor anchor_;
  std::string cache_;
  FakeClock clock_{absl::Now()};
};

TEST_F(BrokerConfigurationSourceTest, KeepsTheHeldVersionWhenOfferedABadOne) {
  distribution_.Serve(Document(2));
  auto source = StartSource();
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->Current()->configuration().version(), 2);

  v1::SignedGlobalConfiguration tampered = Document(3);
  tampered.mutable_configuration()->back() ^= 1;
  distribution_.Serve(tampered);
  EXPECT_EQ((*source)->Refresh().code(), absl::StatusCode::kUnauthenticated);

  PrivateKey stranger = PrivateKey::GenerateP256();
  distribution_.Serve(Document(3, &stranger));
  EXPECT_EQ((*source)->Refresh().code(), absl::StatusCode::kUnauthenticated);

  distribution_.Serve(Document(1));
  EXPECT_EQ((*source)->Refresh().code(), absl::StatusCode::kFailedPrecondition);

  distribution_.Serve(Document(3, nullptr, -absl::Seconds(1)));
  EXPECT_EQ((*source)->Refresh().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*source)->Current()->configuration().version(), 2);

  distribution_.Serve(Document(3));
  EXPECT_TRUE((*source)->Refresh().ok());
  EXPECT_EQ((*source)->Current()->configuration().version(), 3);
}

TEST_F(BrokerConfigurationSourceTest, StartsFromTheCacheWhenTheBrokerIsUnreachable) {
  distribution_.Serve(Document(5));
  ASSERT_TRUE(StartSource().ok());
  server_->Shutdown();
  auto source = StartSource();
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->Current()->configuration().version(), 5);
}

TEST_F(BrokerConfigurationSourceTest, WithNeitherBrokerNorCacheStartFails) {
  server_->Shutdown();
  auto source = StartSource();
  EXPECT_EQ(source.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(source.status().message()).find("no valid cached copy"), std::string::npos);
}

TEST_F(BrokerConfigurationSourceTest, ATamperedCacheIsIgnored) {
  distribution_.Serve(Document(5));
  ASSERT_TRUE(StartSource().ok());
  server_->Shutdown();
  {
    FILE* file = fopen(cache_.c_str(), "r+b");
    ASSERT_NE(file, nullptr);
    fseek(file, 20, SEEK_SET);
    int c = fgetc(file);
    fseek(file, 20, SEEK_SET);
    fputc(c ^ 1, file);
    fclose(file);
  }
  EXPECT_EQ(StartSource().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace renkei
