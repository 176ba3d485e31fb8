// The access-history ledger end to end: real security servers record, ship to the real
// broker, and residents read and verify their history.
#include <signal.h>

#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "audit/merkle.h"
#include "audit/tree_head.h"
#include "common/pseudonym.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/digest.h"
#include "common/envelope.h"
#include "common/identifiers.h"
#include "common/ledger_receipt.h"
#include "tests/live_federation.h"

namespace renkei::testing {
namespace {

using municipal::v1::GetResidentRequest;
using municipal::v1::GetResidentResponse;

LiveFederationOptions LedgerOptions() {
  LiveFederationOptions options;
  options.use_broker = true;
  options.configuration_refresh_seconds = 1;
  return options;
}

// One exchange about `resident`; returns the message id the consumer received, or "".
std::string Exchange(LiveFederation& federation, const std::string& resident,
                     municipal::v1::ResidentRegistry::Stub* stub = nullptr) {
  grpc::ClientContext context;
  LiveFederation::AddRenkeiMetadata(context, kAllowance, kRegistry, resident);
  context.AddMetadata("renkei-user", "official-0042");
  GetResidentRequest request;
  request.set_resident_code(resident);
  GetResidentResponse response;
  std::unique_ptr<municipal::v1::ResidentRegistry::Stub> own;
  if (stub == nullptr) {
    own = federation.LocalRegistry(federation.allowance_client);
    stub = own.get();
  }
  grpc::Status status = stub->GetResident(&context, request, &response);
  if (!status.ok()) {
    std::cerr << "exchange failed: " << status.error_code() << " " << status.error_message() << "\n";
    return "";
  }
  auto trailer = context.GetServerTrailingMetadata().find("renkei-message-id");
  return std::string(trailer->second.data(), trailer->second.size());
}

// Every record of the signed-in resident, each checked against its page's tree head.
struct History {
  std::vector<v1::AccessRecord> records;
  int verified = 0;
  int pending = 0;
};

absl::StatusOr<History> ReadHistory(LiveFederation& federation, const std::string& token,
                                    int page_size = 7) {
  History history;
  auto residents = federation.Residents();
  v1::ListRecordsRequest request;
  request.set_session_token(token);
  request.set_page_size(page_size);
  do {
    grpc::ClientContext context;
    v1::ListRecordsResponse page;
    grpc::Status status = residents->ListRecords(&context, request, &page);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
    }
    const v1::SignedTreeHead& head = page.tree_head();
    bool head_ok = audit::VerifyTreeHead(head, federation.configuration_signer.certificate).ok();
    for (const auto& proven : page.records()) {
      history.records.push_back(proven.record());
      std::vector<std::string> proof(proven.inclusion_proof().begin(), proven.inclusion_proof().end());
      if (head_ok && audit::VerifyInclusion(audit::LeafHash(proven.entry()), proven.leaf_index(),
                                            head.tree_size(), proof, head.root_hash())
                         .ok()) {
        ++history.verified;
      }
    }
    history.pending += page.pending();
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return history;
}

// Polls until the resident sees `expected` records, among them every one of `ids`, all
// provable. (A count alone can be reached early: records of exchanges whose answer a crash
// kept from the consumer count too.)
absl::StatusOr<History> AwaitHistory(LiveFederation& federation, const std::string& token,
                                     size_t expected,
                                     const std::multiset<std::string>& ids = {}) {
  absl::StatusOr<History> history;
  LiveFederation::Eventually([&] {
    history = ReadHistory(federation, token);
    if (!history.ok() || history->records.size() < expected || history->pending != 0) {
      return false;
    }
    std::set<std::string> recorded;
    for (const auto& record : history->records) recorded.insert(record.message_id());
    for (const std::string& id : ids) {
      if (recorded.count(id) == 0) return false;
    }
    return true;
  }, absl::Seconds(60));
  return history;
}

TEST(Ledger, TheGrpcAndTheJsonEntryLeaveTheSameRecord) {
  LiveFederation federation("ledger_entries", LedgerOptions());
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());

  const std::string by_grpc = Exchange(federation, "131016-0001");
  ASSERT_FALSE(by_grpc.empty());
  auto by_json = federation.Rest(
      &federation.allowance_client, "POST",
      "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident",
      LiveFederation::RestHeaders(kAllowance, "131016-0001"), R"({"residentCode":"131016-0001"})");
  ASSERT_EQ(by_json.status, 200) << by_json.error << by_json.body;
  std::string json_id;
  for (const auto& [name, value] : by_json.headers) {
    if (name == "Renkei-Message-Id") json_id = value;
  }
  ASSERT_TRUE(IsMessageId(json_id)) << json_id;

  auto token = federation.SignIn("131016-0001", saito);
  ASSERT_TRUE(token.ok()) << token.status();
  auto history = AwaitHistory(federation, *token, 2, {by_grpc, json_id});
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->records.size(), 2u);
  EXPECT_EQ(history->verified, 2);
  // Ids, times and the hashes of the headers that carry them differ; nothing else may.
  auto without_ids = [](v1::AccessRecord record) {
    record.clear_message_id();
    record.clear_time();
    record.clear_request_header_sha256();
    record.clear_response_header_sha256();
    return record.SerializeAsString();
  };
  EXPECT_EQ(without_ids(history->records[0]), without_ids(history->records[1]))
      << history->records[0].DebugString() << history->records[1].DebugString();
  EXPECT_EQ(history->records[0].method(), "/renkei.municipal.v1.ResidentRegistry/GetResident");
}

TEST(Ledger, ResidentSeesEveryExchangeVerifiedAndNoOneElseDoes) {
  LiveFederation federation("ledger_resident", LedgerOptions());
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  PrivateKey takahashi = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());
  ASSERT_TRUE(federation.EnrollResident("131016-0005", takahashi).ok());

  constexpr int kExchanges = 9;
  std::set<std::string> received;
  for (int i = 0; i < kExchanges; ++i) received.insert(Exchange(federation, "131016-0001"));
  ASSERT_EQ(received.size(), static_cast<size_t>(kExchanges));
  ASSERT_FALSE(received.count(""));

  auto token = federation.SignIn("131016-0001", saito);
  ASSERT_TRUE(token.ok()) << token.status();
  auto history = AwaitHistory(federation, *token, kExchanges);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->records.size(), static_cast<size_t>(kExchanges));
  EXPECT_EQ(history->verified, kExchanges);
  std::set<std::string> recorded;
  for (const auto& record : history->records) {
    recorded.insert(record.message_id());
    EXPECT_EQ(record.client(), kAllowance);
    EXPECT_EQ(record.service(), kRegistry);
    EXPECT_EQ(record.purpose(), "integration-test");
    EXPECT_EQ(record.user(), "official-0042");
    EXPECT_EQ(record.outcome(), 0);
    // The ledger holds the pseudonym, never the resident number.
    EXPECT_EQ(record.subject_pseudonyms(0),
              Pseudonymizer::FromHex(kPepperHex)->Pseudonym("131016-0001"));
    EXPECT_EQ(record.SerializeAsString().find("131016-0001"), std::string::npos);
  }
  EXPECT_EQ(recorded, received);
  for (size_t i = 1; i < history->records.size(); ++i) {
    EXPECT_GE(history->records[i - 1].time().seconds(), history->records[i].time().seconds());
  }

  // Another resident's key sees none of them.
  auto other = federation.SignIn("131016-0005", takahashi);
  ASSERT_TRUE(other.ok());
  auto other_history = ReadHistory(federation, *other);
  ASSERT_TRUE(other_history.ok());
  EXPECT_TRUE(other_history->records.empty());
}

TEST(Ledger, SignInNeedsTheEnrolledKeyAndAFreshChallenge) {
  LiveFederation federation("ledger_sign_in", LedgerOptions());
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());
  // Someone else's key for Saito's id, or an unenrolled resident: refused alike.
  EXPECT_EQ(federation.SignIn("131016-0001", PrivateKey::GenerateP256()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(federation.SignIn("131016-0002", saito).status().code(),
            absl::StatusCode::kUnauthenticated);

  // A challenge signature cannot be replayed.
  auto residents = federation.Residents();
  grpc::ClientContext challenge_context;
  v1::ChallengeRequest challenge_request;
  challenge_request.set_resident_id("131016-0001");
  v1::ChallengeResponse challenge;
  ASSERT_TRUE(residents->Challenge(&challenge_context, challenge_request, &challenge).ok());
  v1::SignInRequest sign_in;
  sign_in.set_resident_id("131016-0001");
  sign_in.set_challenge(challenge.challenge());
  sign_in.set_signature(*saito.Sign(challenge.challenge()));
  for (bool first : {true, false}) {
    grpc::ClientContext context;
    v1::SignInResponse session;
    grpc::Status status = residents->SignIn(&context, sign_in, &session);
    EXPECT_EQ(status.ok(), first) << status.error_message();
  }
  // No session, no records.
  grpc::ClientContext context;
  v1::ListRecordsRequest request;
  request.set_session_token("forged");
  v1::ListRecordsResponse page;
  EXPECT_EQ(residents->ListRecords(&context, request, &page).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST(Ledger, RecordsWaitInTheOutboxWhileTheBrokerIsDownThenAllArrive) {
  LiveFederation federation("ledger_outage", LedgerOptions());
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());
  federation.StopBroker();
  std::set<std::string> received;
  for (int i = 0; i < 6; ++i) {
    std::string id = Exchange(federation, "131016-0001");
    ASSERT_FALSE(id.empty()) << "exchanges continue while the broker is down";
    received.insert(id);
  }
  ASSERT_TRUE(federation.StartBroker());
  auto token = federation.SignIn("131016-0001", saito);
  ASSERT_TRUE(token.ok());
  auto history = AwaitHistory(federation, *token, received.size());
  ASSERT_TRUE(history.ok());
  std::set<std::string> recorded;
  for (const auto& record : history->records) recorded.insert(record.message_id());
  EXPECT_EQ(recorded, received);
  EXPECT_EQ(history->verified, static_cast<int>(received.size()));
}

// A record and the client's signed request it records, as the provider's server ships them.
struct Shipped {
  v1::AccessRecord record;
  v1::SignedHeader request;
};

Shipped RecordOfARequest(const SigningIdentity& client_signer, const std::string& recorded_by) {
  v1::RequestHeader header;
  header.set_message_id(NewMessageId());
  *header.mutable_created_at() = ToTimestamp(absl::Now());
  *header.mutable_client() = *ParseSubsystemId(kAllowance);
  *header.mutable_service() = *ParseSubsystemId(kRegistry);
  header.set_method(kGetResident);
  header.add_subjects("131016-0001");
  header.set_purpose("integration-test");
  Shipped shipped;
  shipped.request = *SignHeader(SignedType::kRequestHeader, header.SerializeAsString(), client_signer);
  v1::AccessRecord& record = shipped.record;
  record.set_message_id(header.message_id());
  *record.mutable_time() = ToTimestamp(absl::Now());
  record.set_client(kAllowance);
  record.set_service(kRegistry);
  record.set_method(kGetResident);
  record.set_purpose(header.purpose());
  record.set_recorded_by(recorded_by);
  record.add_subject_pseudonyms(Pseudonymizer::FromHex(kPepperHex)->Pseudonym("131016-0001"));
  record.set_request_header_sha256(Sha256(shipped.request.header()));
  return shipped;
}

grpc::Status Append(LiveFederation& federation, const TestCredentials& tls,
                    const v1::SignedHeader& batch, v1::AppendRecordsResponse* response) {
  auto ledger = v1::Ledger::NewStub(federation.BrokerChannel(&tls));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return ledger->AppendRecords(&context, batch, response);
}

v1::SignedHeader SignedBatch(const std::vector<Shipped>& records, const SigningIdentity& signer) {
  v1::RecordBatch batch;
  for (const Shipped& shipped : records) {
    v1::ShippedRecord* added = batch.add_records();
    added->set_record(shipped.record.SerializeAsString());
    *added->mutable_request() = shipped.request;
  }
  return *SignHeader(SignedType::kRecordBatch, batch.SerializeAsString(), signer);
}

TEST(Ledger, AServerMayAppendOnlyRecordsItRecordedOfServicesItProvides) {
  LiveFederation federation("ledger_provider_only", LedgerOptions());
  ASSERT_TRUE(federation.Start());
  const TestCredentials& provider_tls = federation.pki.provider_server;
  const TestCredentials& consumer_tls = federation.pki.consumer_server;
  Shipped record = RecordOfARequest(federation.pki.consumer_signer, TestFederation::kProviderServer);
  v1::AppendRecordsResponse response;

  // The consumer's server, as itself: the batch is its member's, the record claims another
  // server's service. Refused record by record, never stored.
  grpc::Status status = Append(federation, consumer_tls,
                               SignedBatch({record}, federation.pki.consumer_signer), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.refusals_size(), 1);
  EXPECT_EQ(response.receipts_size(), 0);
  EXPECT_EQ(response.refusals(0).code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  // The provider's member key, but shipped over another server's TLS connection.
  status = Append(federation, consumer_tls, SignedBatch({record}, federation.pki.provider_signer),
                  &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  // A TLS client that is no registered server, or none at all.
  status = Append(federation, federation.unregistered_auth,
                  SignedBatch({record}, federation.pki.provider_signer), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  auto anonymous = v1::Ledger::NewStub(federation.BrokerChannel(nullptr));
  grpc::ClientContext context;
  status = anonymous->AppendRecords(&context, SignedBatch({record}, federation.pki.provider_signer),
                                    &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  // Signed by a key the registry does not know.
  SigningIdentity stranger = federation.pki.provider_signer;
  stranger.key = PrivateKey::GenerateP256();
  EXPECT_EQ(Append(federation, provider_tls, SignedBatch({record}, stranger), &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // The provider's server, as itself: a receipt signed by the broker names the exact bytes.
  status = Append(federation, provider_tls, SignedBatch({record}, federation.pki.provider_signer),
                  &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.receipts_size(), 1);
  auto receipt = VerifyLedgerReceipt(response.receipts(0),
                                     federation.configuration_signer.certificate);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->record_sha256(), Sha256(record.record.SerializeAsString()));
  EXPECT_EQ(receipt->recorded_by(), TestFederation::kProviderServer);
  EXPECT_EQ(receipt->message_id(), record.record.message_id());
  // The same bytes again: the same leaf. Other bytes under the same key: refused.
  v1::AppendRecordsResponse again;
  ASSERT_TRUE(Append(federation, provider_tls, SignedBatch({record}, federation.pki.provider_signer),
                     &again).ok());
  ASSERT_EQ(again.receipts_size(), 1);
  EXPECT_EQ(VerifyLedgerReceipt(again.receipts(0), federation.configuration_signer.certificate)
                ->leaf_index(),
            receipt->leaf_index());
  Shipped later = record;
  *later.record.mutable_time() = ToTimestamp(absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(Append(federation, provider_tls,
                     SignedBatch({later}, federation.pki.provider_signer), &again).ok());
  ASSERT_EQ(again.refusals_size(), 1);
  EXPECT_EQ(again.refusals(0).code(), static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
}

// A dishonest provider holds its own keys and may sign any batch: still, a record must say
// what a client member signed (reviewer's finding on issue 8, item "appear in another
// member's name").
TEST(Ledger, AProviderCannotRecordAUseTheClientDidNotSign) {
  LiveFederation federation("ledger_forged_use", LedgerOptions());
  ASSERT_TRUE(federation.Start());
  auto append = [&](const Shipped& shipped) {
    v1::AppendRecordsResponse response;
    grpc::Status status = Append(federation, federation.pki.provider_server,
                                 SignedBatch({shipped}, federation.pki.provider_signer), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.refusals_size() == 1 ? response.refusals(0).code() : 0;
  };
  // The provider signs "a request of MHLW" itself.
  Shipped self_signed = RecordOfARequest(federation.pki.provider_signer,
                                         TestFederation::kProviderServer);
  EXPECT_EQ(append(self_signed), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  // A real MHLW request, recorded as something else.
  const Shipped genuine = RecordOfARequest(federation.pki.consumer_signer,
                                           TestFederation::kProviderServer);
  std::vector<std::function<void(v1::AccessRecord&)>> edits = {
      [](v1::AccessRecord& r) { r.set_purpose("tax-audit"); },
      [](v1::AccessRecord& r) { r.set_client("JP/GOV/MOJ/family-register"); },
      [](v1::AccessRecord& r) {
        r.set_subject_pseudonyms(0, Pseudonymizer::FromHex(kPepperHex)->Pseudonym("131016-0005"));
      },
      [](v1::AccessRecord& r) { *r.mutable_time() = ToTimestamp(absl::Now() - absl::Hours(24 * 30)); },
      [](v1::AccessRecord& r) { r.set_request_header_sha256(std::string(32, 'x')); },
  };
  for (const auto& edit : edits) {
    Shipped forged = genuine;
    edit(forged.record);
    EXPECT_EQ(append(forged), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT))
        << forged.record.DebugString();
  }
  v1::AppendRecordsResponse response;
  ASSERT_TRUE(Append(federation, federation.pki.provider_server,
                     SignedBatch({genuine}, federation.pki.provider_signer), &response).ok());
  EXPECT_EQ(response.receipts_size(), 1);
}

// A retry after a lost receipt gets its receipt, whatever became of the client's certificate
// since (second review): the record is in the log already.
TEST(Ledger, ARetryGetsItsReceiptAfterTheClientsCertificateWasRevoked) {
  LiveFederation federation("ledger_retry_after_revoke", LedgerOptions());
  ASSERT_TRUE(federation.Start());
  const Shipped record =
      RecordOfARequest(federation.pki.consumer_signer, TestFederation::kProviderServer);
  v1::AppendRecordsResponse first;
  ASSERT_TRUE(Append(federation, federation.pki.provider_server,
                     SignedBatch({record}, federation.pki.provider_signer), &first).ok());
  ASSERT_EQ(first.receipts_size(), 1);
  v1::RegistryChange revoke;
  revoke.mutable_revoke_certificate()->set_certificate_sha256(
      federation.pki.consumer_signer.certificate.fingerprint());
  ASSERT_TRUE(federation.ApplyChange(revoke).ok());
  v1::AppendRecordsResponse again;
  ASSERT_TRUE(Append(federation, federation.pki.provider_server,
                     SignedBatch({record}, federation.pki.provider_signer), &again).ok());
  ASSERT_EQ(again.receipts_size(), 1) << again.DebugString();
  const Certificate& broker = federation.configuration_signer.certificate;
  EXPECT_EQ(VerifyLedgerReceipt(again.receipts(0), broker)->leaf_index(),
            VerifyLedgerReceipt(first.receipts(0), broker)->leaf_index());
  // A new record of a request signed with the revoked certificate is refused.
  v1::AppendRecordsResponse fresh;
  ASSERT_TRUE(Append(federation, federation.pki.provider_server,
                     SignedBatch({RecordOfARequest(federation.pki.consumer_signer,
                                                   TestFederation::kProviderServer)},
                                 federation.pki.provider_signer),
                     &fresh).ok());
  ASSERT_EQ(fresh.refusals_size(), 1);
  EXPECT_EQ(fresh.refusals(0).code(), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
}

// Issue 8, item 1: a consumer chooses a message id that is a serialized AccessRecord; the
// provider's signed response header then parses as a RecordBatch "from" the provider. Typed
// signatures make the ledger refuse it.
TEST(Ledger, AResponseHeaderIsNeverAcceptedAsARecordBatch) {
  LiveFederation federation("ledger_cross_type", LedgerOptions());
  ASSERT_TRUE(federation.Start());
  Shipped forged = RecordOfARequest(federation.pki.consumer_signer, TestFederation::kProviderServer);
  v1::ShippedRecord shipped;
  shipped.set_record(forged.record.SerializeAsString());
  *shipped.mutable_request() = forged.request;
  v1::ResponseHeader header;
  header.set_message_id(shipped.SerializeAsString());  // field 1, length-delimited
  v1::RecordBatch as_batch;
  ASSERT_TRUE(as_batch.ParseFromString(header.SerializeAsString()));
  ASSERT_EQ(as_batch.records_size(), 1);  // the confusion the attack relies on
  v1::SignedHeader signed_response = *SignHeader(
      SignedType::kResponseHeader, header.SerializeAsString(), federation.pki.provider_signer);
  v1::AppendRecordsResponse response;
  grpc::Status status = Append(federation, federation.pki.consumer_server, signed_response, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  status = Append(federation, federation.pki.provider_server, signed_response, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
}

// Issue 8, items 2 and 7: a message id the provider answered once is refused whenever it
// comes back — after the replay window, and after a restart — and the answered exchange keeps
// its own record.
TEST(Ledger, AnAnsweredMessageIdIsRefusedAfterTheWindowAndAfterARestart) {
  LiveFederationOptions options = LedgerOptions();
  options.max_clock_skew_seconds = 2;
  LiveFederation federation("ledger_id_reuse", options);
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());
  const std::string payload = [] {
    municipal::v1::GetResidentRequest request;
    request.set_resident_code("131016-0001");
    return request.SerializeAsString();
  }();
  v1::ExchangeRequest first =
      federation.CraftRequest(federation.pki.consumer_signer, kAllowance, payload);
  v1::RequestHeader first_header;
  ASSERT_TRUE(first_header.ParseFromString(first.request().header()));
  auto send = [&](const v1::ExchangeRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ExchangeResponse response;
    return federation.ProviderPeerAs(federation.pki.consumer_server)
        ->Exchange(&context, request, &response);
  };
  ASSERT_TRUE(send(first).ok());

  // After the window: a fresh request (new time, new signature) reusing the id.
  absl::SleepFor(absl::Seconds(3));
  v1::RequestHeader reused = first_header;
  *reused.mutable_created_at() = ToTimestamp(absl::Now());
  v1::ExchangeRequest second = first;
  *second.mutable_request() = *SignHeader(SignedType::kRequestHeader, reused.SerializeAsString(),
                                          federation.pki.consumer_signer);
  grpc::Status status = send(second);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();

  // After a restart of the provider's server: the same, and requests made before the start.
  federation.provider_ss->Signal(SIGKILL);
  federation.provider_ss->Wait(10);
  v1::ExchangeRequest made_before = federation.CraftRequest(federation.pki.consumer_signer,
                                                            kAllowance, payload);
  absl::SleepFor(absl::Milliseconds(20));
  ASSERT_TRUE(federation.StartProvider());
  *reused.mutable_created_at() = ToTimestamp(absl::Now());
  *second.mutable_request() = *SignHeader(SignedType::kRequestHeader, reused.SerializeAsString(),
                                          federation.pki.consumer_signer);
  status = send(second);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  status = send(made_before);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();

  // The one answered exchange has its record.
  auto token = federation.SignIn("131016-0001", saito);
  ASSERT_TRUE(token.ok()) << token.status();
  auto history = AwaitHistory(federation, *token, 1);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->records.size(), 1u);
  EXPECT_EQ(history->records[0].message_id(), first_header.message_id());
}

// Issue 8, item 2: the consumer chooses the message id. The same signed request sent to two
// provider servers is answered by both; each answer keeps its own record, under its own
// recording server, instead of the first one's record "acknowledging" the second.
TEST(Ledger, TheSameIdAtTwoProviderServersLeavesARecordOfEachAnswer) {
  LiveFederationOptions options = LedgerOptions();
  options.second_provider_server = true;
  LiveFederation federation("ledger_two_servers", options);
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());
  municipal::v1::GetResidentRequest payload;
  payload.set_resident_code("131016-0001");
  v1::ExchangeRequest request = federation.CraftRequest(federation.pki.consumer_signer, kAllowance,
                                                        payload.SerializeAsString());
  int answered = 0;
  for (auto [server, port] : {std::pair<std::string, int>{TestFederation::kProviderServer,
                                                          federation.provider_peer_port},
                              {LiveFederation::kSecondProviderServer,
                               federation.second_provider_peer_port}}) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ExchangeResponse response;
    grpc::Status status = federation.PeerAs(federation.pki.consumer_server, server, port)
                              ->Exchange(&context, request, &response);
    EXPECT_TRUE(status.ok()) << server << ": " << status.error_message();
    answered += status.ok() ? 1 : 0;
  }
  auto token = federation.SignIn("131016-0001", saito);
  ASSERT_TRUE(token.ok()) << token.status();
  auto history = AwaitHistory(federation, *token, answered);
  ASSERT_TRUE(history.ok()) << history.status();
  std::set<std::string> recorders;
  for (const auto& record : history->records) recorders.insert(record.recorded_by());
  EXPECT_EQ(recorders, (std::set<std::string>{TestFederation::kProviderServer,
                                              LiveFederation::kSecondProviderServer}));
  EXPECT_EQ(history->verified, 2);
}

// kill -9 of the provider's security server and of the broker at random moments under
// load; after restarts, every response a consumer received has exactly one ledger record.
TEST(Ledger, CrashesLoseAndDuplicateNothing) {
  LiveFederation federation("ledger_crash", LedgerOptions());
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());

  std::mt19937 random(20261123);
  std::multiset<std::string> received;
  absl::Mutex mu;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([&] {
      auto stub = federation.LocalRegistry(federation.allowance_client);
      while (!stop) {
        std::string id = Exchange(federation, "131016-0001", stub.get());
        if (!id.empty()) {
          absl::MutexLock lock(&mu);
          received.insert(id);
        }
      }
    });
  }
  for (int round = 0; round < 6; ++round) {
    absl::SleepFor(absl::Milliseconds(150 + random() % 400));
    if (round % 2 == 0) {
      ASSERT_TRUE(federation.StartProvider());
    } else {
      federation.broker->Signal(SIGKILL);
      federation.broker->Wait(10);
      ASSERT_TRUE(federation.StartBroker());
    }
  }
  absl::SleepFor(absl::Milliseconds(300));
  stop = true;
  for (auto& client : clients) client.join();
  ASSERT_GT(received.size(), 10u) << "too little load to mean anything";

  auto token = federation.SignIn("131016-0001", saito);
  ASSERT_TRUE(token.ok()) << token.status();
  auto history = AwaitHistory(federation, *token, received.size(), received);
  ASSERT_TRUE(history.ok());
  std::multiset<std::string> recorded;
  for (const auto& record : history->records) recorded.insert(record.message_id());
  for (const std::string& id : received) {
    EXPECT_EQ(recorded.count(id), 1u) << "message " << id;
  }
  // Records the consumer never saw answered (a crash between the outbox write and the reply)
  // may exist, but never twice.
  for (const std::string& id : recorded) EXPECT_EQ(recorded.count(id), 1u) << id;
  EXPECT_EQ(history->verified, static_cast<int>(history->records.size()));
  std::cout << received.size() << " answered exchanges, " << recorded.size()
            << " ledger records\n";
}

}  // namespace
}  // namespace renkei::testing
