#include "broker/ledger_services.h"

#include <algorithm>
#include <set>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/storage_helpers.h"
#include "common/digest.h"
#include "common/grpc_status.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/envelope.h"
#include "common/grpc_glue.h"
#include "common/ledger_receipt.h"

namespace renkei {
namespace {

constexpr absl::Duration kChallengeLifetime = absl::Minutes(2);
constexpr absl::Duration kSessionLifetime = absl::Minutes(15);
constexpr absl::string_view kChallengePrefix = "renkei-sign-in-v1:";
constexpr size_t kMaxResidentIdLength = 64;
// Records per batch (the shipper sends at most 500; each costs a read and a signature here).
constexpr int kMaxRecordsPerBatch = 1000;
// How long after a request a provider may still answer it (its backend bound, generously).
constexpr absl::Duration kMaxAnswerDelay = absl::Hours(1);
// The largest clock skew a federation may configure (common/federation.cc).
constexpr absl::Duration kMaxClockSkew = absl::Hours(1);

template <typename Response>
grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                 absl::StatusOr<Response> result, Response* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (result.ok()) *response = *std::move(result);
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

absl::Status CheckResidentId(const std::string& id) {
  if (id.empty() || id.size() > kMaxResidentIdLength) {
    return absl::InvalidArgumentError("resident id must be 1 to 64 bytes");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Federation>> LedgerService::CurrentFederation() {
  v1::GlobalConfiguration registry = registry_.Current();
  absl::MutexLock lock(&mu_);
  if (federation_ == nullptr || federation_->configuration().version() != registry.version()) {
    auto federation = Federation::Create(std::move(registry));
    if (!federation.ok()) return absl::UnavailableError("the registry is not usable yet");
    federation_ = *std::move(federation);
  }
  return federation_;
}

absl::Status LedgerService::MayRecord(const Federation& federation,
                                     const FederationServer* sender, const std::string& signer,
                                     const v1::AccessRecord& record) {
  if (sender != nullptr && record.recorded_by() != sender->id_text) {
    return absl::PermissionDeniedError(absl::StrCat("security server ", sender->id_text,
                                                    " may not ship a record of ",
                                                    record.recorded_by()));
  }
  auto service = ParseSubsystemId(record.service());
  if (!service.ok() || ToString(service->member()) != signer) {
    return absl::PermissionDeniedError(absl::StrCat(
        "member ", signer, " may not append a record of service ", record.service()));
  }
  const FederationServer* server = federation.ServerById(record.recorded_by());
  if (server != nullptr && ToString(server->id.member()) == signer) {
    for (const FederationServer* provider : federation.ProvidersOf(*service)) {
      if (provider == server) return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(absl::StrCat("security server ", record.recorded_by(),
                                                  " does not provide ", record.service()));
}

absl::Status LedgerService::CheckAgainstSignedRequest(const Federation& federation,
                                                     const v1::AccessRecord& record,
                                                     const v1::SignedHeader& request) const {
  // The signing certificate must have been valid when the request was made (records may wait
  // in an outbox for days); its time is believed only once the signature verifies.
  v1::RequestHeader header;
  if (!header.ParseFromString(request.header())) {
    return absl::UnauthenticatedError("the client's signed request is malformed");
  }
  absl::Status signature = VerifySignedHeader(SignedType::kRequestHeader, request, federation,
                                              FromTimestamp(header.created_at()));
  if (!signature.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("the client's signed request does not verify: ", signature.message()));
  }
  if (request.signer() != header.client().member()) {
    return absl::UnauthenticatedError("the signed request is not the client member's");
  }
  const absl::Status differs =
      absl::InvalidArgumentError("record does not say what the client's signed request says");
  if (!ConstantTimeEquals(Sha256(request.header()), record.request_header_sha256()) ||
      header.message_id() != record.message_id() || ToString(header.client()) != record.client() ||
      ToString(header.service()) != record.service() || header.method() != record.method() ||
      header.purpose() != record.purpose() || header.user() != record.user() ||
      header.subjects_size() != record.subject_pseudonyms_size()) {
    return differs;
  }
  for (int i = 0; i < header.subjects_size(); ++i) {
    if (pseudonymizer_.Pseudonym(header.subjects(i)) != record.subject_pseudonyms(i)) {
      return differs;
    }
  }
  // Answered within the largest skew a federation may allow and the longest a provider may
  // take, not at a time of the provider's choosing (fixed bounds: a record must not become
  // refusable because the configuration changed while it waited).
  const absl::Duration offset = FromTimestamp(record.time()) - FromTimestamp(header.created_at());
  if (offset > kMaxClockSkew + kMaxAnswerDelay || offset < -kMaxClockSkew) {
    return absl::InvalidArgumentError("record time is far from the client's request time");
  }
  return absl::OkStatus();
}

absl::Status LedgerService::AddReceipt(const v1::AccessRecord& record, const std::string& entry,
                                      uint64_t leaf_index, v1::AppendRecordsResponse& response) {
  v1::LedgerReceipt receipt;
  receipt.set_recorded_by(record.recorded_by());
  receipt.set_message_id(record.message_id());
  receipt.set_record_sha256(Sha256(entry));
  receipt.set_leaf_index(leaf_index);
  *receipt.mutable_accepted_at() = ToTimestamp(clock_.Now());
  RENKEI_ASSIGN_OR_RETURN(*response.add_receipts(), SignLedgerReceipt(receipt, receipt_key_));
  metrics_.ledger_appends.With({record.recorded_by()}).Increment();
  return absl::OkStatus();
}

void LedgerService::Refuse(const std::string& entry, const std::string& message_id,
                           const absl::Status& why, v1::AppendRecordsResponse& response) {
  v1::RecordRefusal* refusal = response.add_refusals();
  refusal->set_message_id(message_id);
  refusal->set_record_sha256(Sha256(entry));
  refusal->set_code(static_cast<int>(why.code()));
  refusal->set_message(std::string(why.message()));
  metrics_.ledger_refused_records.With({absl::StatusCodeToString(why.code())}).Increment();
}

absl::StatusOr<v1::AppendRecordsResponse> LedgerService::Append(const std::string& peer_fingerprint,
                                                                const v1::SignedHeader& batch) {
  RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<const Federation> federation, CurrentFederation());
  // 1. Who is sending: the TLS client certificate must be a registered server's.
  const FederationServer* sender = nullptr;
  if (tls_peers_) {
    sender = federation->ServerByAuthenticationCertificate(peer_fingerprint);
    if (sender == nullptr || federation->IsRevoked(peer_fingerprint)) {
      return absl::UnauthenticatedError(absl::StrCat(
          "TLS client certificate sha256 \"", peer_fingerprint,
          "\" is not the authentication certificate of a registered security server"));
    }
  }
  // 2. The batch signature, as a record batch and nothing else.
  RENKEI_RETURN_IF_ERROR(VerifySignedHeader(SignedType::kRecordBatch, batch, *federation));
  const std::string signer = ToString(batch.signer());
  if (sender != nullptr && sender->id.member() != batch.signer()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "security server ", sender->id_text, " may not ship a batch signed by member ", signer));
  }
  v1::RecordBatch records;
  if (!records.ParseFromString(batch.header())) {
    return absl::InvalidArgumentError("record batch is malformed");
  }
  // 3. Each record on its own: one bad record never blocks the rest.
  v1::AppendRecordsResponse response;
  std::vector<std::string> entries;
  std::vector<std::string> message_ids;
  if (records.records_size() > kMaxRecordsPerBatch) {
    return absl::InvalidArgumentError(absl::StrCat("a batch holds at most ", kMaxRecordsPerBatch,
                                                   " records"));
  }
  std::set<std::string> digests;
  for (const v1::ShippedRecord& shipped : records.records()) {
    const std::string& entry = shipped.record();
    if (!digests.insert(Sha256(entry)).second) {
      return absl::InvalidArgumentError("a batch holds the same record twice");
    }
    v1::AccessRecord record;
    absl::Status valid = ValidateAccessRecord(entry, clock_.Now() + absl::Hours(1), &record);
    if (!valid.ok()) {
      Refuse(entry, record.message_id(), valid, response);
      continue;
    }
    absl::Status allowed = MayRecord(*federation, sender, signer, record);
    if (allowed.ok()) {
      // A retry after a lost receipt: the record is in the log, whatever became of the client's
      // certificate since.
      RENKEI_ASSIGN_OR_RETURN(std::optional<uint64_t> stored, ledger_.Find(record, entry));
      if (stored.has_value()) {
        RENKEI_RETURN_IF_ERROR(AddReceipt(record, entry, *stored, response));
        continue;
      }
      allowed = CheckAgainstSignedRequest(*federation, record, shipped.request());
    }
    if (!allowed.ok()) {
      Refuse(entry, record.message_id(), allowed, response);
      continue;
    }
    entries.push_back(entry);
    message_ids.push_back(record.message_id());
  }
  RENKEI_ASSIGN_OR_RETURN(std::vector<AccessLedger::Outcome> outcomes, ledger_.Append(entries));
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!outcomes[i].status.ok()) {
      if (outcomes[i].status.code() == absl::StatusCode::kAlreadyExists) {
        metrics_.ledger_conflicts.With({signer}).Increment();
        Log(LogLevel::kError, "ledger",
            absl::StrCat("refused a different record under an existing key from member ", signer,
                         ": ", outcomes[i].status.message()),
            message_ids[i]);
      }
      Refuse(entries[i], message_ids[i], outcomes[i].status, response);
      continue;
    }
    v1::AccessRecord record;
    record.ParseFromString(entries[i]);  // validated by the ledger
    RENKEI_RETURN_IF_ERROR(AddReceipt(record, entries[i], outcomes[i].leaf_index, response));
  }
  response.set_tree_size(ledger_.size());
  return response;
}

grpc::ServerUnaryReactor* LedgerService::AppendRecords(grpc::CallbackServerContext* context,
                                                       const v1::SignedHeader* batch,
                                                       v1::AppendRecordsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  PendingAppend append{PeerCertificateSha256(context->auth_context()), batch, response, reactor,
                       context};
  // Only registered servers may take a place in the queue (Append checks everything again).
  if (tls_peers_) {
    auto federation = CurrentFederation();
    if (!federation.ok() ||
        (*federation)->ServerByAuthenticationCertificate(append.peer_fingerprint) == nullptr) {
      metrics_.ledger_rejected_batches.With({"UNAUTHENTICATED"}).Increment();
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                   "the ledger takes records only from registered security "
                                   "servers, over TLS with their authentication certificate"));
      return reactor;
    }
  }
  {
    absl::MutexLock lock(&queue_mu_);
    if (!stopping_ && queue_.size() < kMaxQueuedAppends) {
      queue_.push_back(std::move(append));
      return reactor;
    }
  }
  metrics_.ledger_rejected_batches.With({"UNAVAILABLE"}).Increment();
  reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                               "the ledger is busy or stopping; try again shortly"));
  return reactor;
}

void LedgerService::Run(PendingAppend& append) {
  absl::Time started = absl::Now();
  auto result = Append(append.peer_fingerprint, *append.batch);
  metrics_.ledger_append_seconds.With({}).Observe(absl::ToDoubleSeconds(absl::Now() - started));
  if (!result.ok()) {
    metrics_.ledger_rejected_batches.With({absl::StatusCodeToString(result.status().code())})
        .Increment();
    Log(LogLevel::kWarning, "ledger",
        absl::StrCat("refused a record batch from ", append.context->peer(), ": ",
                     result.status().ToString()));
  } else {
    *append.response = *std::move(result);
  }
  append.reactor->Finish(ToGrpcStatus(result.status()));
}

void LedgerService::WriteLoop() {
  while (true) {
    PendingAppend append;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](LedgerService* service) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return service->stopping_ || !service->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping, nothing left
      append = std::move(queue_.front());
      queue_.pop_front();
      if (stopping_) {
        append.reactor->Finish(
            grpc::Status(grpc::StatusCode::UNAVAILABLE, "the ledger is stopping; try again"));
        continue;
      }
    }
    if (append.context->IsCancelled()) {  // the shipper gave up; it will send again
      append.reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      continue;
    }
    Run(append);
  }
}

LedgerService::~LedgerService() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  writer_.join();
}

ResidentSessions::ResidentSessions(const Clock& clock)
    : clock_(clock), challenge_key_(RandomBytes(32)) {}

std::string ResidentSessions::ChallengeMac(const std::string& pseudonym,
                                           absl::string_view body) const {
  return HmacSha256(challenge_key_, absl::StrCat(pseudonym, body));
}

std::string ResidentSessions::NewChallenge(const std::string& pseudonym,
                                           absl::Time* expires_at) const {
  *expires_at = clock_.Now() + kChallengeLifetime;
  std::string body;
  AppendBigEndian64(body, static_cast<uint64_t>(absl::ToUnixMillis(*expires_at)));
  body += RandomBytes(16);
  return absl::StrCat(kChallengePrefix, ToHex(body + ChallengeMac(pseudonym, body)));
}

bool ResidentSessions::IsValidChallenge(const std::string& pseudonym,
                                        const std::string& challenge) const {
  // prefix, then hex of expiry (8) + nonce (16) + MAC (32)
  absl::string_view hex(challenge);
  auto is_hex = [](char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); };
  if (!absl::ConsumePrefix(&hex, kChallengePrefix) || hex.size() != 2 * 56 ||
      !absl::c_all_of(hex, is_hex)) {
    return false;
  }
  const std::string bytes = absl::HexStringToBytes(hex);
  const absl::string_view body = absl::string_view(bytes).substr(0, 24);
  if (!ConstantTimeEquals(ChallengeMac(pseudonym, body), absl::string_view(bytes).substr(24))) {
    return false;
  }
  return absl::FromUnixMillis(static_cast<int64_t>(ReadBigEndian64(body))) > clock_.Now();
}

void ResidentSessions::Expire() {
  const absl::Time now = clock_.Now();
  while (!used_by_expiry_.empty() && used_by_expiry_.front().first <= now) {
    used_challenges_.erase(used_by_expiry_.front().second);
    used_by_expiry_.pop_front();
  }
  while (!sessions_by_expiry_.empty() && sessions_by_expiry_.front().first <= now) {
    auto it = sessions_.find(sessions_by_expiry_.front().second);
    if (it != sessions_.end()) {
      std::deque<std::string>& own = sessions_of_[it->second.pseudonym];
      own.erase(std::remove(own.begin(), own.end(), it->first), own.end());
      if (own.empty()) sessions_of_.erase(it->second.pseudonym);
      sessions_.erase(it);
    }
    sessions_by_expiry_.pop_front();
  }
}

bool ResidentSessions::MarkUsed(const std::string& challenge) {
  absl::MutexLock lock(&mu_);
  Expire();
  const absl::Time expires_at = clock_.Now() + kChallengeLifetime;
  if (!used_challenges_.emplace(challenge, expires_at).second) return false;
  used_by_expiry_.emplace_back(expires_at, challenge);
  return true;
}

std::string ResidentSessions::NewSession(const std::string& pseudonym, absl::Time* expires_at) {
  std::string token = ToHex(RandomBytes(32));
  absl::MutexLock lock(&mu_);
  Expire();
  std::deque<std::string>& own = sessions_of_[pseudonym];
  if (own.size() >= kMaxSessionsPerResident) {
    sessions_.erase(own.front());  // its queue entry expires harmlessly
    own.pop_front();
  }
  *expires_at = clock_.Now() + kSessionLifetime;
  sessions_[token] = {pseudonym, *expires_at};
  sessions_by_expiry_.emplace_back(*expires_at, token);
  own.push_back(token);
  return token;
}

std::string ResidentSessions::SessionPseudonym(const std::string& token) {
  absl::MutexLock lock(&mu_);
  Expire();
  auto it = sessions_.find(token);
  // The queue expires sessions in order; this holds even if the clock stepped back.
  if (it == sessions_.end() || it->second.expires_at <= clock_.Now()) return "";
  return it->second.pseudonym;
}

ResidentService::ResidentService(AccessLedger& ledger, const Pseudonymizer& pseudonymizer,
                                 const Clock& clock, BrokerMetrics& metrics)
    : ledger_(ledger),
      pseudonymizer_(pseudonymizer),
      clock_(clock),
      sessions_(clock),
      metrics_(metrics),
      decoy_key_pem_(PrivateKey::GenerateP256().PublicKeyPem()) {}

namespace {

template <typename T>
absl::StatusOr<T> Counted(Family<Counter>& counter, const char* operation, absl::StatusOr<T> result) {
  counter.With({operation, absl::StatusCodeToString(result.status().code())}).Increment();
  return result;
}

}  // namespace

absl::StatusOr<v1::ChallengeResponse> ResidentService::DoChallenge(
    const v1::ChallengeRequest& request) {
  return Counted(metrics_.resident_requests, "challenge", IssueChallenge(request));
}

absl::StatusOr<v1::SignInResponse> ResidentService::DoSignIn(const v1::SignInRequest& request) {
  return Counted(metrics_.resident_requests, "sign_in", CheckSignIn(request));
}

absl::StatusOr<v1::ListRecordsResponse> ResidentService::DoListRecords(
    const v1::ListRecordsRequest& request) {
  return Counted(metrics_.resident_requests, "list_records", ListFor(request));
}

absl::StatusOr<v1::ChallengeResponse> ResidentService::IssueChallenge(
    const v1::ChallengeRequest& request) {
  RENKEI_RETURN_IF_ERROR(CheckResidentId(request.resident_id()));
  absl::Time expires_at;
  v1::ChallengeResponse response;
  // A challenge is issued whether or not the resident is enrolled, so that the answer does
  // not reveal who is.
  response.set_challenge(
      sessions_.NewChallenge(pseudonymizer_.Pseudonym(request.resident_id()), &expires_at));
  *response.mutable_expires_at() = ToTimestamp(expires_at);
  return response;
}

absl::StatusOr<v1::SignInResponse> ResidentService::CheckSignIn(const v1::SignInRequest& request) {
  RENKEI_RETURN_IF_ERROR(CheckResidentId(request.resident_id()));
  const std::string pseudonym = pseudonymizer_.Pseudonym(request.resident_id());
  const absl::Status refused =
      absl::UnauthenticatedError("sign-in refused: unknown or expired challenge, or a signature "
                                 "that does not verify with the enrolled key");
  if (!sessions_.IsValidChallenge(pseudonym, request.challenge())) return refused;
  // The same work whether or not the resident is enrolled: parse a key, verify a signature.
  auto key = ledger_.EnrolledKey(pseudonym);
  const bool enrolled = key.ok();
  if (!enrolled) key = PublicKey::FromPem(decoy_key_pem_);
  const bool verified = key.ok() && key->VerifySignature(request.challenge(), request.signature());
  if (!enrolled || !verified || !sessions_.MarkUsed(request.challenge())) return refused;
  absl::Time expires_at;
  v1::SignInResponse response;
  response.set_session_token(sessions_.NewSession(pseudonym, &expires_at));
  *response.mutable_expires_at() = ToTimestamp(expires_at);
  return response;
}

absl::StatusOr<v1::ListRecordsResponse> ResidentService::ListFor(
    const v1::ListRecordsRequest& request) {
  const std::string pseudonym = sessions_.SessionPseudonym(request.session_token());
  if (pseudonym.empty()) {
    return absl::UnauthenticatedError("no valid session: sign in again");
  }
  RecordQuery query;
  query.subject_pseudonym = pseudonym;
  query.client_member = request.client_member();
  if (request.has_from()) query.from = FromTimestamp(request.from());
  if (request.has_to()) query.to = FromTimestamp(request.to());
  query.page_size = request.page_size();
  query.page_token = request.page_token();
  return ledger_.List(query);
}

grpc::ServerUnaryReactor* ResidentService::Challenge(grpc::CallbackServerContext* context,
                                                     const v1::ChallengeRequest* request,
                                                     v1::ChallengeResponse* response) {
  return Finish(context, DoChallenge(*request), response);
}

grpc::ServerUnaryReactor* ResidentService::SignIn(grpc::CallbackServerContext* context,
                                                  const v1::SignInRequest* request,
                                                  v1::SignInResponse* response) {
  return Finish(context, DoSignIn(*request), response);
}

grpc::ServerUnaryReactor* ResidentService::ListRecords(grpc::CallbackServerContext* context,
                                                       const v1::ListRecordsRequest* request,
                                                       v1::ListRecordsResponse* response) {
  return Finish(context, DoListRecords(*request), response);
}

grpc::ServerUnaryReactor* ResidentService::GetTreeHead(grpc::CallbackServerContext* context,
                                                       const v1::GetTreeHeadRequest* /*request*/,
                                                       v1::SignedTreeHead* response) {
  return Finish(context, ledger_.CurrentTreeHead(), response);
}

grpc::ServerUnaryReactor* ResidentService::GetConsistencyProof(
    grpc::CallbackServerContext* context, const v1::ConsistencyProofRequest* request,
    v1::ConsistencyProofResponse* response) {
  auto proof = ledger_.ConsistencyProof(request->from_size(), request->to_size());
  absl::StatusOr<v1::ConsistencyProofResponse> result = proof.status();
  if (proof.ok()) {
    v1::ConsistencyProofResponse built;
    for (std::string& hash : *proof) built.add_proof(std::move(hash));
    result = std::move(built);
  }
  return Finish(context, std::move(result), response);
}

}  // namespace renkei
