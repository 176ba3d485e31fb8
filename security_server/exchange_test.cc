// ConsumerSide and ProviderSide together, without gRPC: a request prepared by one is verified
// by the other, and the answer travels back, with fakes for the clock and the recorder.
#include <set>
#include <vector>

#include "common/digest.h"
#include "common/identifiers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security_server/consumer_side.h"
#include "security_server/provider_side.h"
#include "security_server/test_federation.h"
#include "security_server/test_sides.h"

namespace renkei {
namespace {

using ::testing::HasSubstr;

class MemoryRecorder final : public ExchangeRecorder {
 public:
  void Record(const ExchangeEvidence& evidence, RecordDone done) override {
    if (!fail_with.ok()) return std::move(done)(fail_with);
    message_ids.push_back(evidence.message_id);
    if (evidence.access_record) access_records.push_back(*evidence.access_record);
    if (evidence.role == v1::MessageLogEntry::PROVIDER) answered.insert(evidence.message_id);
    std::move(done)(absl::OkStatus());
  }
  absl::Status Admit() const override { return admit; }
  absl::StatusOr<bool> HasRecordedRequest(const std::string& message_id) const override {
    return answered.count(message_id) > 0;
  }
  std::set<std::string> answered;
  absl::Status fail_with;
  absl::Status admit;
  std::vector<std::string> message_ids;
  std::vector<v1::AccessRecord> access_records;
};

// The asynchronous sides, waited on (MemoryRecorder completes at once).
absl::StatusOr<v1::ExchangeResponse> AnswerNow(const ProviderSide& provider,
                                               const VerifiedRequest& verified,
                                               const v1::ExchangeRequest& request,
                                               const absl::Status& status, std::string payload) {
  absl::StatusOr<v1::ExchangeResponse> result = absl::InternalError("Answer did not complete");
  provider.Answer(verified, request, status, std::move(payload),
                  [&](absl::StatusOr<v1::ExchangeResponse> answer) { result = std::move(answer); });
  return result;
}

absl::StatusOr<ProviderAnswer> CompleteNow(const ConsumerSide& consumer,
                                           const PreparedExchange& prepared,
                                           const std::string& server_certificate_sha256,
                                           v1::ExchangeResponse response) {
  absl::StatusOr<ProviderAnswer> result = absl::InternalError("Complete did not complete");
  consumer.Complete(prepared, server_certificate_sha256, std::move(response),
                    [&](absl::StatusOr<ProviderAnswer> answer) { result = std::move(answer); });
  return result;
}

class ExchangeTest : public ::testing::Test {
 protected:
  ExchangeTest()
      : clock_(absl::Now()),
        replay_cache_(clock_, 1000),
        consumer_settings_(TestConsumerSettings(pki_)),
        provider_settings_(TestProviderSettings(pki_)) {
    Rebuild();
  }

  void Rebuild() {
    configuration_ = std::make_unique<FixedConfiguration>(pki_.Build());
    consumer_ = std::make_unique<ConsumerSide>(consumer_settings_, *configuration_, clock_,
                                               consumer_log_);
    provider_ = std::make_unique<ProviderSide>(provider_settings_, *configuration_, clock_,
                                               replay_cache_, provider_log_);
  }

  LocalCall Call(const std::string& payload = "request-bytes") { return TestLocalCall(payload); }

  std::string ProviderFingerprint() const { return pki_.provider_server.certificate.fingerprint(); }
  std::string ConsumerFingerprint() const { return pki_.consumer_server.certificate.fingerprint(); }

  TestFederation pki_;
  FakeClock clock_;
  ReplayCache replay_cache_;
  MemoryRecorder consumer_log_, provider_log_;
  Settings consumer_settings_, provider_settings_;
  std::unique_ptr<FixedConfiguration> configuration_;
  std::unique_ptr<ConsumerSide> consumer_;
  std::unique_ptr<ProviderSide> provider_;
};

TEST_F(ExchangeTest, RoundTripCarriesTheAnswerAndRecordsBothSides) {
  auto prepared = consumer_->Prepare(Call());
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_EQ(prepared->provider.id_text, TestFederation::kProviderServer);
  EXPECT_THAT(std::vector<std::string>(prepared->header.subjects().begin(),
                                       prepared->header.subjects().end()),
              ::testing::ElementsAre("131016-0001", "131016-0002"));
  EXPECT_EQ(prepared->header.user(), "official-7");

  auto verified = provider_->Verify(ConsumerFingerprint(), prepared->request);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->backend_address, "127.0.0.1:1");
  EXPECT_EQ(verified->header.message_id(), prepared->header.message_id());

  auto response = AnswerNow(*provider_, *verified, prepared->request, absl::OkStatus(), "answer");
  ASSERT_TRUE(response.ok()) << response.status();
  auto answer = CompleteNow(*consumer_, *prepared, ProviderFingerprint(), *response);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->status.ok());
  EXPECT_EQ(answer->payload, "answer");
  EXPECT_THAT(provider_log_.message_ids, ::testing::ElementsAre(prepared->header.message_id()));
  EXPECT_THAT(consumer_log_.message_ids, ::testing::ElementsAre(prepared->header.message_id()));

  // The provider recorded an access record: pseudonyms only, bound to both signed headers.
  ASSERT_EQ(provider_log_.access_records.size(), 1u);
  const v1::AccessRecord& record = provider_log_.access_records[0];
  EXPECT_EQ(record.message_id(), prepared->header.message_id());
  EXPECT_EQ(record.client(), TestFederation::kClient);
  EXPECT_EQ(record.service(), TestFederation::kService);
  EXPECT_EQ(record.purpose(), "child-allowance");
  EXPECT_EQ(record.user(), "official-7");
  ASSERT_EQ(record.subject_pseudonyms_size(), 2);
  EXPECT_EQ(record.subject_pseudonyms(0),
            provider_settings_.pseudonymizer->Pseudonym("131016-0001"));
  for (const std::string& pseudonym : record.subject_pseudonyms()) {
    EXPECT_EQ(pseudonym.find("131016"), std::string::npos);
  }
  EXPECT_EQ(record.request_header_sha256(), prepared->request_header_sha256);
  EXPECT_EQ(record.response_header_sha256(), Sha256(response->response().header()));
  EXPECT_EQ(record.recorded_by(), TestFederation::kProviderServer);
}

TEST_F(ExchangeTest, ProviderErrorStatusIsSignedAndRelayedWithoutPayload) {
  auto prepared = consumer_->Prepare(Call());
  ASSERT_TRUE(prepared.ok());
  auto verified = provider_->Verify(ConsumerFingerprint(), prepared->request);
  ASSERT_TRUE(verified.ok());
  auto response = AnswerNow(*provider_, *verified, prepared->request,
                                    absl::NotFoundError("no such resident"), "ignored");
  ASSERT_TRUE(response.ok());
  EXPECT_TRUE(response->payload().empty());
  auto answer = CompleteNow(*consumer_, *prepared, ProviderFingerprint(), *response);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, absl::NotFoundError("no such resident"));
}

TEST_F(ExchangeTest, NoAnswerIsReleasedWhenTheProviderCannotRecord) {
  provider_log_.fail_with = absl::InternalError("disk full");
  auto prepared = consumer_->Prepare(Call());
  ASSERT_TRUE(prepared.ok());
  auto verified = provider_->Verify(ConsumerFingerprint(), prepared->request);
  ASSERT_TRUE(verified.ok());
  auto response = AnswerNow(*provider_, *verified, prepared->request, absl::OkStatus(), "answer");
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("answer withheld"));
}

TEST_F(ExchangeTest, ConsumerRefusesWhenItCannotRecord) {
  consumer_log_.fail_with = absl::InternalError("disk full");
  auto prepared = consumer_->Prepare(Call());
  ASSERT_TRUE(prepared.ok());
  auto verified = provider_->Verify(ConsumerFingerprint(), prepared->request);
  auto response = AnswerNow(*provider_, *verified, prepared->request, absl::OkStatus(), "answer");
  EXPECT_EQ(CompleteNow(*consumer_, *prepared, ProviderFingerprint(), *response).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(ExchangeTest, NeitherSideStartsAnExchangeItCouldNotRecordNow) {
  auto prepared = consumer_->Prepare(Call());
  ASSERT_TRUE(prepared.ok());
  provider_log_.admit = absl::UnavailableError("message log: 4096 writes wait for the disk");
  auto verified = provider_->Verify(ConsumerFingerprint(), prepared->request);
  EXPECT_EQ(verified.status(), provider_log_.admit) << "refused before the backend is called";
  consumer_log_.admit = absl::UnavailableError("message log: No space left on device");
  EXPECT_EQ(consumer_->Prepare(Call()).status(), consumer_log_.admit)
      << "refused before the provider records anything";
  EXPECT_TRUE(provider_log_.message_ids.empty());
}

TEST_F(ExchangeTest, ExpiredConfigurationFailsClosedOnBothSides) {
  auto prepared = consumer_->Prepare(Call());
  ASSERT_TRUE(prepared.ok());
  *pki_.configuration.mutable_expires_at() = ToTimestamp(clock_.Now() - absl::Seconds(1));
  Rebuild();
  auto refused = consumer_->Prepare(Call());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("expired"));
  EXPECT_EQ(provider_->Verify(ConsumerFingerprint(), prepared->request).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(ExchangeTest, TamperedOrMisboundResponsesAreRejected) {
  auto prepared = consumer_->Prepare(Call());
  auto other = consumer_->Prepare(Call());
  ASSERT_TRUE(prepared.ok() && other.ok());
  auto verified = provider_->Verify(ConsumerFingerprint(), prepared->request);
  ASSERT_TRUE(verified.ok());
  auto response = AnswerNow(*provider_, *verified, prepared->request, absl::OkStatus(), "answer");
  ASSERT_TRUE(response.ok());

  v1::ExchangeResponse tampered = *response;
  tampered.set_payload("answes");
  EXPECT_THAT(std::string(CompleteNow(*consumer_, *prepared, ProviderFingerprint(), tampered)
                              .status().message()),
              HasSubstr("payload does not match"));
  // The answer to one request does not answer another.
  EXPECT_EQ(CompleteNow(*consumer_, *other, ProviderFingerprint(), *response).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Answered over TLS by a server other than the registered provider server.
  EXPECT_EQ(CompleteNow(*consumer_, *prepared, ConsumerFingerprint(), *response).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Signed by a member other than the provider.
  v1::ExchangeResponse wrong_signer = *response;
  *wrong_signer.mutable_response() = *SignHeader(SignedType::kResponseHeader, response->response().header(),
                                                     pki_.consumer_signer);
  EXPECT_THAT(std::string(CompleteNow(*consumer_, *prepared, ProviderFingerprint(), wrong_signer)
                              .status().message()),
              HasSubstr("not by the provider"));
  EXPECT_TRUE(consumer_log_.message_ids.empty());
}

TEST_F(ExchangeTest, MetadataIsValidated) {
  LocalCall call = Call();
  call.metadata.erase(kSubjectKey);
  EXPECT_THAT(std::string(consumer_->Prepare(call).status().message()),
              HasSubstr("missing renkei-subject"));
  call = Call();
  call.metadata.emplace(kPurposeKey, "second purpose");
  EXPECT_EQ(consumer_->Prepare(call).status().code(), absl::StatusCode::kInvalidArgument);
  call = Call();
  call.metadata.erase(kServiceKey);
  call.metadata.emplace(kServiceKey, "JP/MUNI/131016");
  EXPECT_THAT(std::string(consumer_->Prepare(call).status().message()),
              HasSubstr("renkei-service: malformed subsystem identifier"));
  call = Call();
  call.metadata.emplace(kSubjectKey, std::string(300, '1'));
  EXPECT_EQ(consumer_->Prepare(call).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ExchangeTest, PlaintextCallersMustBeOnLoopback) {
  LocalCall call = Call();
  call.caller.peer_address = "ipv4:10.1.2.3:40000";
  EXPECT_EQ(consumer_->Prepare(call).status().code(), absl::StatusCode::kUnauthenticated);
  consumer_settings_.local_plaintext = false;
  call = Call();
  EXPECT_EQ(consumer_->Prepare(call).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(ExchangeTest, ReplayAndStaleRequestsAreRejected) {
  auto prepared = consumer_->Prepare(Call());
  ASSERT_TRUE(prepared.ok());
  ASSERT_TRUE(provider_->Verify(ConsumerFingerprint(), prepared->request).ok());
  EXPECT_EQ(provider_->Verify(ConsumerFingerprint(), prepared->request).status().code(),
            absl::StatusCode::kAlreadyExists);
  auto later = consumer_->Prepare(Call());
  clock_.Advance(absl::Seconds(61));
  EXPECT_EQ(provider_->Verify(ConsumerFingerprint(), later->request).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(ExchangeTest, RevokedServerCertificateIsRejected) {
  auto prepared = consumer_->Prepare(Call());
  pki_.configuration.add_revoked_certificate_sha256(ConsumerFingerprint());
  Rebuild();
  auto refused = provider_->Verify(ConsumerFingerprint(), prepared->request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("revoked"));
}

}  // namespace
}  // namespace renkei
