// End-to-end: real security server processes and the real sample registry on loopback.
#include <signal.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security_server/message_log.h"
#include "tests/live_federation.h"

namespace renkei::testing {
namespace {

using ::testing::HasSubstr;
using municipal::v1::GetResidentRequest;
using municipal::v1::GetResidentResponse;

class FederationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    federation_ = new LiveFederation("federation_test");
    ASSERT_TRUE(federation_->Start());
  }
  static void TearDownTestSuite() {
    delete federation_;
    federation_ = nullptr;
  }
  void SetUp() override {
    if (federation_ == nullptr) GTEST_SKIP() << "federation did not start";
  }

  // Calls GetResident through the consumer's security server.
  grpc::Status Call(const std::string& code, GetResidentResponse* response,
                    const TestCredentials* client = nullptr,
                    const std::string& client_subsystem = kAllowance,
                    const std::string& service = kRegistry, grpc::ClientContext* context = nullptr) {
    grpc::ClientContext local_context;
    grpc::ClientContext& ctx = context ? *context : local_context;
    if (context == nullptr) LiveFederation::AddRenkeiMetadata(ctx, client_subsystem, service, code);
    GetResidentRequest request;
    request.set_resident_code(code);
    return federation_->LocalRegistry(client ? *client : federation_->allowance_client)
        ->GetResident(&ctx, request, response);
  }

  // Sends `request` straight to the provider's peer endpoint as `authentication`.
  grpc::Status Peer(const TestCredentials& authentication, const v1::ExchangeRequest& request,
                    v1::ExchangeResponse* response = nullptr) {
    v1::ExchangeResponse ignored;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return federation_->ProviderPeerAs(authentication)
        ->Exchange(&context, request, response ? response : &ignored);
  }

  std::string Payload(const std::string& code) {
    GetResidentRequest request;
    request.set_resident_code(code);
    return request.SerializeAsString();
  }

  static LiveFederation* federation_;
};

LiveFederation* FederationTest::federation_ = nullptr;

TEST_F(FederationTest, SuccessfulCallReturnsTheResidentWithItsMessageId) {
  GetResidentResponse response;
  grpc::ClientContext context;
  LiveFederation::AddRenkeiMetadata(context, kAllowance, kRegistry, "131016-0001");
  grpc::Status status = Call("131016-0001", &response, nullptr, kAllowance, kRegistry, &context);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(response.resident().resident_code(), "131016-0001");
  EXPECT_EQ(response.resident().household_size(), 4);
  auto trailer = context.GetServerTrailingMetadata().find("renkei-message-id");
  ASSERT_NE(trailer, context.GetServerTrailingMetadata().end());
  EXPECT_EQ(trailer->second.size(), 32u);
}

TEST_F(FederationTest, VariantKanjiPassThroughByteExact) {
  struct Case {
    const char* code;
    std::string family_name;
  } cases[] = {
      {"131016-0001", "\xE9\xBD\x8B\xE8\x97\xA4"},           // 齋藤
      {"131016-0005", "\xE9\xAB\x99\xE6\xA9\x8B"},           // 髙橋
      {"131016-0007", "\xE8\xBE\xBB\xF3\xA0\x84\x80"},       // 辻 + U+E0100 (IVS)
      {"131016-0008", "\xE9\xBD\x8A\xE8\x97\xA4"},           // 齊藤
  };
  for (const Case& c : cases) {
    GetResidentResponse response;
    grpc::Status status = Call(c.code, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.resident().family_name_kanji(), c.family_name) << c.code;
  }
}

TEST_F(FederationTest, ProviderErrorsAreRelayedWithTheirCode) {
  GetResidentResponse response;
  grpc::Status status = Call("131016-9999", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("no resident with code 131016-9999"));
}

TEST_F(FederationTest, ClientWithoutAccessRightIsPermissionDenied) {
  GetResidentResponse response;
  grpc::Status status =
      Call("131016-0001", &response, &federation_->pension_client, kPension, kRegistry);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("client JP/GOV/MHLW/pension is not granted access to "
                        "JP/MUNI/131016/resident-registry"));
}

TEST_F(FederationTest, LocalCallerMayActOnlyAsItsRegisteredSubsystem) {
  GetResidentResponse response;
  grpc::Status status =
      Call("131016-0001", &response, &federation_->pension_client, kAllowance, kRegistry);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("may not act as client subsystem"));

  status = Call("131016-0001", &response, &federation_->stranger_client);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(FederationTest, MissingMetadataIsInvalidArgument) {
  grpc::ClientContext context;
  context.AddMetadata("renkei-client", kAllowance);
  context.AddMetadata("renkei-service", kRegistry);
  context.AddMetadata("renkei-subject", "131016-0001");
  GetResidentResponse response;
  grpc::Status status = Call("131016-0001", &response, nullptr, kAllowance, kRegistry, &context);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "missing renkei-purpose metadata");

  grpc::ClientContext malformed;
  LiveFederation::AddRenkeiMetadata(malformed, "JP/GOV/MHLW", kRegistry, "131016-0001");
  status = Call("131016-0001", &response, nullptr, kAllowance, kRegistry, &malformed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("renkei-client: malformed subsystem identifier"));
}

TEST_F(FederationTest, UnknownServiceIsNotFound) {
  GetResidentResponse response;
  grpc::Status status =
      Call("131016-0001", &response, nullptr, kAllowance, "JP/MUNI/999999/resident-registry");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("JP/MUNI/999999/resident-registry"));
}

TEST_F(FederationTest, ProviderServiceDownIsUnavailable) {
  GetResidentResponse response;
  grpc::Status status = Call("131016-0001", &response, nullptr, kAllowance, kTax);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("provider service JP/MUNI/131016/tax is unavailable"));
}

TEST_F(FederationTest, CallerDeadlineIsHonouredEndToEnd) {
  grpc::ClientContext context;
  LiveFederation::AddRenkeiMetadata(context, kAllowance, kTestBackend, "131016-0001");
  auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(700);
  context.set_deadline(deadline);
  GetResidentResponse response;
  absl::Time started = absl::Now();
  grpc::Status status = Call("slow", &response, nullptr, kAllowance, kTestBackend, &context);
  absl::Duration took = absl::Now() - started;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The backend was given the consumer's deadline, through both security servers (gRPC sends
  // deadlines as relative timeouts, so each hop may round them by a fraction of a millisecond).
  absl::Time backend_deadline = federation_->LastBackendDeadline();
  EXPECT_LE(backend_deadline, absl::FromChrono(deadline) + absl::Milliseconds(50));
  EXPECT_GT(backend_deadline, started);
  // Not a functional bound on speed: it only shows the call did not wait for the backend's
  // own 10 s give-up.
  EXPECT_LT(took, absl::Seconds(9));
}

TEST_F(FederationTest, OversizedPayloadIsResourceExhausted) {
  GetResidentResponse response;
  grpc::Status status = Call(std::string(300 * 1024, '1'), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  // An oversized answer from the provider is refused too, and reported as such.
  status = Call("big:400000", &response, nullptr, kAllowance, kTestBackend);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  // A peer that sends more than the federation limit inside the envelope.
  v1::ExchangeRequest request = federation_->CraftRequest(
      federation_->pki.consumer_signer, kAllowance, Payload(std::string(260 * 1024, '1')));
  status = Peer(federation_->pki.consumer_server, request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("exceeds the federation limit"));
}

TEST_F(FederationTest, CraftedRequestFromTheRightServerIsAnswered) {
  // The control for the attacks below: the same path, done correctly, works.
  v1::ExchangeResponse response;
  grpc::Status status = Peer(federation_->pki.consumer_server,
                             federation_->CraftRequest(federation_->pki.consumer_signer, kAllowance,
                                                       Payload("131016-0001")),
                             &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  GetResidentResponse resident;
  ASSERT_TRUE(resident.ParseFromString(response.payload()));
  EXPECT_EQ(resident.resident().resident_code(), "131016-0001");
}

TEST_F(FederationTest, ForgedSignatureIsUnauthenticated) {
  SigningIdentity forger = federation_->pki.consumer_signer;
  forger.key = PrivateKey::GenerateP256();  // registered certificate, wrong key
  grpc::Status status = Peer(federation_->pki.consumer_server,
                             federation_->CraftRequest(forger, kAllowance, Payload("x")));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("does not verify"));
}

TEST_F(FederationTest, TamperedHeaderOrPayloadIsUnauthenticated) {
  v1::ExchangeRequest request = federation_->CraftRequest(federation_->pki.consumer_signer,
                                                          kAllowance, Payload("131016-0001"));
  v1::ExchangeRequest tampered_header = request;
  tampered_header.mutable_request()->mutable_header()->back() ^= 0x01;
  grpc::Status status = Peer(federation_->pki.consumer_server, tampered_header);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  v1::ExchangeRequest tampered_payload = request;
  tampered_payload.set_payload(Payload("131016-0002"));
  status = Peer(federation_->pki.consumer_server, tampered_payload);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("payload does not match"));
}

TEST_F(FederationTest, ServerCertificateFromAnotherCaIsRefusedAtTls) {
  grpc::Status status = Peer(federation_->rogue_auth,
                             federation_->CraftRequest(federation_->pki.consumer_signer, kAllowance,
                                                       Payload("131016-0001")));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_TRUE(federation_->provider_ss->running());
}

TEST_F(FederationTest, UnregisteredServerCertificateIsUnauthenticated) {
  grpc::Status status = Peer(federation_->unregistered_auth,
                             federation_->CraftRequest(federation_->pki.consumer_signer, kAllowance,
                                                       Payload("131016-0001")));
  // Refused in the TLS handshake (issue 8, item 6): the request is never read.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(FederationTest, ServerSpeakingForAnotherMemberIsRefused) {
  // JP/GOV/MOJ's registered server relays a request correctly signed by JP/GOV/MHLW.
  grpc::Status status = Peer(federation_->moj_auth,
                             federation_->CraftRequest(federation_->pki.consumer_signer, kAllowance,
                                                       Payload("131016-0001")));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("security server JP/GOV/MOJ/ss1 may not send requests of member "
                        "JP/GOV/MHLW"));
}

TEST_F(FederationTest, ReplayedMessageIsRefused) {
  v1::ExchangeRequest request = federation_->CraftRequest(federation_->pki.consumer_signer,
                                                          kAllowance, Payload("131016-0001"));
  ASSERT_TRUE(Peer(federation_->pki.consumer_server, request).ok());
  grpc::Status status = Peer(federation_->pki.consumer_server, request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("replay refused"));
}

TEST_F(FederationTest, StaleTimestampIsRefused) {
  for (absl::Duration offset : {-absl::Minutes(5), absl::Minutes(5)}) {
    grpc::Status status = Peer(federation_->pki.consumer_server,
                               federation_->CraftRequest(federation_->pki.consumer_signer,
                                                         kAllowance, Payload("131016-0001"),
                                                         absl::Now() + offset));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_THAT(status.error_message(), HasSubstr("from this server's clock"));
  }
}

TEST_F(FederationTest, SignerMustBeTheClaimedClientMember) {
  // Chiyoda's valid signature on a header that claims an MHLW client.
  grpc::Status status = Peer(federation_->pki.consumer_server,
                             federation_->CraftRequest(federation_->pki.provider_signer, kAllowance,
                                                       Payload("131016-0001")));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("claims client JP/GOV/MHLW/child-allowance"));
}

TEST_F(FederationTest, GarbageEnvelopeIsRejectedAndServerSurvives) {
  v1::ExchangeRequest request;
  request.mutable_request()->set_header("\xff\xff garbage");
  request.mutable_request()->set_signature("nope");
  request.mutable_request()->set_algorithm(v1::ECDSA_P256_SHA256);
  grpc::Status status = Peer(federation_->pki.consumer_server, request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  GetResidentResponse response;
  EXPECT_TRUE(Call("131016-0001", &response).ok());
}

// Issue 8, item 8: calls that open and never send their request are ended, and the server
// keeps answering everyone else meanwhile.
TEST(FederationLimits, CallsThatNeverSendTheirRequestAreEndedAndOthersAreAnswered) {
  LiveFederationOptions options;
  options.consumer_request_read_timeout_seconds = 1;
  LiveFederation federation("federation_silent_streams", options);
  ASSERT_TRUE(federation.Start());
  constexpr int kSilent = 150;  // more than one connection's concurrent streams
  grpc::GenericStub stub(federation.LocalChannel(federation.allowance_client));
  grpc::CompletionQueue queue;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::GenericClientAsyncReaderWriter>> calls;
  std::vector<grpc::Status> statuses(kSilent);
  for (int i = 0; i < kSilent; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    LiveFederation::AddRenkeiMetadata(*contexts.back(), kAllowance, kRegistry, "131016-0001");
    contexts.back()->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    calls.push_back(stub.PrepareCall(contexts.back().get(), kGetResident, &queue));
    calls.back()->StartCall(reinterpret_cast<void*>(static_cast<intptr_t>(2 * i)));
    calls.back()->Finish(&statuses[i], reinterpret_cast<void*>(static_cast<intptr_t>(2 * i + 1)));
  }
  // A normal call on its own connection is answered while they hang.
  {
    grpc::ClientContext context;
    LiveFederation::AddRenkeiMetadata(context, kAllowance, kRegistry, "131016-0001");
    municipal::v1::GetResidentRequest request;
    request.set_resident_code("131016-0001");
    municipal::v1::GetResidentResponse response;
    grpc::Status status =
        federation.LocalRegistry(federation.allowance_client)->GetResident(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  int finished = 0, ended_by_server = 0;
  void* tag;
  bool ok;
  while (finished < kSilent &&
         queue.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + std::chrono::seconds(30)) ==
             grpc::CompletionQueue::GOT_EVENT) {
    const intptr_t number = reinterpret_cast<intptr_t>(tag);
    if (number % 2 == 0) continue;  // a call started
    ++finished;
    const grpc::Status& status = statuses[number / 2];
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
        status.error_message().find("no request message") != std::string::npos) {
      ++ended_by_server;
    }
  }
  EXPECT_EQ(finished, kSilent);
  EXPECT_EQ(ended_by_server, kSilent);
  for (auto& context : contexts) context->TryCancel();
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
}

// Issue 8, item 8: a backend that hangs is given up on at the provider's bound even when the
// caller allows longer (or gives no deadline), and the server answers others meanwhile.
TEST(FederationLimits, AHangingBackendIsBoundedAndOthersAreAnswered) {
  LiveFederationOptions options;
  options.provider_max_backend_call_seconds = 1;
  LiveFederation federation("federation_hanging_backend", options);
  ASSERT_TRUE(federation.Start());
  auto call = [&](const std::string& code, std::chrono::seconds deadline) {
    grpc::ClientContext context;
    LiveFederation::AddRenkeiMetadata(context, kAllowance, kTestBackend, "131016-0001");
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    municipal::v1::GetResidentRequest request;
    request.set_resident_code(code);
    municipal::v1::GetResidentResponse response;
    return federation.LocalRegistry(federation.allowance_client)->GetResident(&context, request,
                                                                             &response);
  };
  absl::Time started = absl::Now();
  std::vector<std::thread> hanging;
  std::vector<grpc::Status> statuses(4);
  for (int i = 0; i < 4; ++i) {
    hanging.emplace_back([&, i] { statuses[i] = call("slow", std::chrono::seconds(30)); });
  }
  EXPECT_TRUE(call("131016-0001", std::chrono::seconds(10)).ok());
  for (auto& thread : hanging) thread.join();
  for (const grpc::Status& status : statuses) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  }
  // The backend was given the provider's bound, not the caller's 30 s.
  EXPECT_LT(federation.LastBackendDeadline(), started + absl::Seconds(5));
}

TEST(FederationLifecycle, ExchangesAreLoggedHashChainedAndServersStopCleanlyOnSigterm) {
  LiveFederation federation("lifecycle_test");
  ASSERT_TRUE(federation.Start());
  constexpr int kExchanges = 5;
  for (int i = 0; i < kExchanges; ++i) {
    grpc::ClientContext context;
    LiveFederation::AddRenkeiMetadata(context, kAllowance, kRegistry, "131016-0005");
    GetResidentRequest request;
    request.set_resident_code("131016-0005");
    GetResidentResponse response;
    ASSERT_TRUE(federation.LocalRegistry(federation.allowance_client)
                    ->GetResident(&context, request, &response)
                    .ok());
  }
  ASSERT_TRUE(federation.StopSecurityServersGracefully());

  for (const auto& [directory, bodies] : {std::pair{federation.provider_log_dir, false},
                                          std::pair{federation.consumer_log_dir, true}}) {
    auto log = MessageLog::Open(directory, false);
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ((*log)->size(), static_cast<uint64_t>(kExchanges)) << directory;
    EXPECT_TRUE((*log)->VerifyChain().ok()) << (*log)->VerifyChain();
    auto entries = (*log)->Read(0, kExchanges);
    ASSERT_TRUE(entries.ok());
    for (const auto& entry : *entries) {
      EXPECT_FALSE(entry.request().signature().empty());
      EXPECT_FALSE(entry.response().signature().empty());
      EXPECT_EQ(entry.response_payload().empty(), !bodies) << directory;
    }
  }
}

}  // namespace
}  // namespace renkei::testing
