// Service metadata and server reflection, against a live federation.
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "grpc/reflection/v1alpha/reflection.pb.h"
#include "renkei/v1/metadata.grpc.pb.h"
#include "renkei/v1/operational.grpc.pb.h"
#include "security_server/reflection_stream.h"
#include "tests/live_federation.h"

namespace renkei::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

class ServiceMetadataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    federation_ = new LiveFederation("service_metadata_test");
    ASSERT_TRUE(federation_->Start());
  }
  static void TearDownTestSuite() {
    delete federation_;
    federation_ = nullptr;
  }
  void SetUp() override {
    if (federation_ == nullptr) GTEST_SKIP() << "federation did not start";
  }

  std::unique_ptr<v1::ServiceMetadata::Stub> Metadata(const TestCredentials& client) {
    return v1::ServiceMetadata::NewStub(federation_->LocalChannel(client));
  }

  grpc::Status Methods(const TestCredentials& caller, const std::string& client,
                       const std::string& service, bool allowed, v1::ListMethodsResponse* out) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!client.empty()) context.AddMetadata("renkei-client", client);
    v1::ListMethodsRequest request;
    request.set_service(service);
    auto stub = Metadata(caller);
    return allowed ? stub->AllowedMethods(&context, request, out)
                   : stub->ListMethods(&context, request, out);
  }

  static LiveFederation* federation_;
};

LiveFederation* ServiceMetadataTest::federation_ = nullptr;

// Lists services the way grpcurl / grpc_cli do, over the reflection protocol.
std::vector<std::string> ReflectedServices(const std::shared_ptr<grpc::Channel>& channel) {
  ReflectionStream stream(channel, absl::Now() + absl::Seconds(10));
  grpc_reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  grpc_reflection::v1alpha::ServerReflectionResponse response;
  std::vector<std::string> names;
  if (!stream.Ask(request, &response)) return names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_TRUE(stream.Finish().ok());
  return names;
}

TEST_F(ServiceMetadataTest, ListClientsShowsTheFederation) {
  grpc::ClientContext context;
  v1::ListClientsResponse response;
  ASSERT_TRUE(Metadata(federation_->allowance_client)
                  ->ListClients(&context, v1::ListClientsRequest(), &response)
                  .ok());
  std::vector<std::string> subsystems;
  for (const auto& member : response.members()) {
    for (const auto& subsystem : member.subsystems()) subsystems.push_back(subsystem);
  }
  EXPECT_THAT(subsystems, IsSupersetOf({std::string(kRegistry), std::string(kAllowance),
                                        std::string("JP/GOV/MOJ/family-register")}));
  EXPECT_EQ(response.configuration_version(), 1);
}

// The declared methods only: never one granted to another member's client (issue 8, item
// 10; the federation grants JP/GOV/MOJ/family-register an undeclared method).
TEST_F(ServiceMetadataTest, ListMethodsAsksTheProvidersSecurityServer) {
  v1::ListMethodsResponse response;
  grpc::Status status = Methods(federation_->allowance_client, "", kRegistry, false, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(response.methods(), ElementsAre(kGetResident));
  ASSERT_TRUE(Methods(federation_->allowance_client, kAllowance, kRegistry, true, &response).ok());
  EXPECT_THAT(response.methods(), ElementsAre(kGetResident));
}

TEST_F(ServiceMetadataTest, AllowedMethodsFollowTheProvidersAccessRights) {
  v1::ListMethodsResponse allowed;
  ASSERT_TRUE(Methods(federation_->allowance_client, kAllowance, kRegistry, true, &allowed).ok());
  EXPECT_THAT(allowed.methods(), ElementsAre(kGetResident));

  v1::ListMethodsResponse none;
  ASSERT_TRUE(Methods(federation_->pension_client, kPension, kRegistry, true, &none).ok());
  EXPECT_TRUE(none.methods().empty());
}

TEST_F(ServiceMetadataTest, CallersMayAskOnlyAsTheirOwnSubsystem) {
  v1::ListMethodsResponse response;
  grpc::Status status = Methods(federation_->pension_client, kAllowance, kRegistry, true, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  status = Methods(federation_->stranger_client, "", kRegistry, false, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  status = Methods(federation_->allowance_client, "", "JP/MUNI/999999/x", false, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  status = Methods(federation_->allowance_client, "", "JP/MUNI", false, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServiceMetadataTest, OwnersFetchOperationalDataOfTheirServer) {
  absl::Time before = absl::Now();
  {
    grpc::ClientContext context;
    LiveFederation::AddRenkeiMetadata(context, kAllowance, kRegistry, "131016-0001");
    municipal::v1::GetResidentRequest request;
    request.set_resident_code("131016-0001");
    municipal::v1::GetResidentResponse response;
    ASSERT_TRUE(federation_->LocalRegistry(federation_->allowance_client)
                    ->GetResident(&context, request, &response).ok());
  }
  v1::OperationalDataRequest request;
  request.mutable_from()->set_seconds(absl::ToUnixSeconds(before) - 1);

  // The consumer's server, asked by a system of its own member.
  auto consumer = v1::OperationalMonitoring::NewStub(
      federation_->LocalChannel(federation_->pension_client));
  // Operational records are queued to the message log's committer: eventually there.
  v1::OperationalDataResponse consumer_data;
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    grpc::ClientContext consumer_context;
    return consumer->GetOperationalData(&consumer_context, request, &consumer_data).ok() &&
           consumer_data.records_size() >= 1;
  }, absl::Seconds(10)));
  const v1::OperationalRecord& out = *consumer_data.records().rbegin();
  EXPECT_EQ(out.role(), v1::OperationalRecord::CONSUMER);
  EXPECT_EQ(out.client(), kAllowance);
  EXPECT_EQ(out.service(), kRegistry);
  EXPECT_EQ(out.method(), kGetResident);
  EXPECT_EQ(out.outcome(), 0);
  EXPECT_GT(out.peer_round_trip_us(), 0);
  EXPECT_GE(out.total_us(), out.peer_round_trip_us());
  EXPECT_GT(out.response_bytes(), 0);

  // The provider's server (plaintext loopback endpoint) has the inbound side.
  auto provider = v1::OperationalMonitoring::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", federation_->provider_local_port), grpc::InsecureChannelCredentials()));
  v1::OperationalDataResponse provider_data;
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    grpc::ClientContext provider_context;
    return provider->GetOperationalData(&provider_context, request, &provider_data).ok() &&
           provider_data.records_size() >= 1;
  }, absl::Seconds(10)));
  const v1::OperationalRecord& in = *provider_data.records().rbegin();
  EXPECT_EQ(in.role(), v1::OperationalRecord::PROVIDER);
  EXPECT_EQ(in.message_id(), out.message_id());
  EXPECT_GT(in.verify_us(), 0);
  EXPECT_GT(in.provider_call_us(), 0);
  EXPECT_GT(in.answer_us(), 0);

  // Not for systems outside the owner's member.
  grpc::ClientContext stranger_context;
  v1::OperationalDataResponse denied;
  EXPECT_EQ(v1::OperationalMonitoring::NewStub(federation_->LocalChannel(federation_->stranger_client))
                ->GetOperationalData(&stranger_context, request, &denied)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ServiceMetadataTest, EveryServerAnswersReflection) {
  EXPECT_THAT(ReflectedServices(federation_->LocalChannel(federation_->allowance_client)),
              IsSupersetOf({"renkei.v1.ServiceMetadata", "grpc.health.v1.Health"}));
  EXPECT_THAT(ReflectedServices(federation_->ProviderPeerChannelAs(federation_->pki.consumer_server)),
              IsSupersetOf({"renkei.v1.PeerExchange"}));
  EXPECT_THAT(ReflectedServices(grpc::CreateChannel(
                  absl::StrCat("127.0.0.1:", federation_->registry_port),
                  grpc::InsecureChannelCredentials())),
              IsSupersetOf({"renkei.municipal.v1.ResidentRegistry"}));
}

}  // namespace
}  // namespace renkei::testing
