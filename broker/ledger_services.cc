#include "broker/ledger_services.h"

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/grpc_status.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/envelope.h"

namespace renkei {
namespace {

constexpr absl::Duration kChallengeLifetime = absl::Minutes(2);
constexpr absl::Duration kSessionLifetime = absl::Minutes(15);
constexpr size_t kMaxResidentIdLength = 64;

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

absl::StatusOr<v1::AppendRecordsResponse> LedgerService::Append(const v1::SignedHeader& batch) {
  RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<const Federation> federation, CurrentFederation());
  RENKEI_RETURN_IF_ERROR(VerifySignedHeader(batch, *federation));
  v1::RecordBatch records;
  if (!records.ParseFromString(batch.header())) {
    return absl::InvalidArgumentError("record batch is malformed");
  }
  const std::string signer = ToString(batch.signer());
  for (const v1::AccessRecord& record : records.records()) {
    // A security server appends only records of services its member provides.
    auto service = ParseSubsystemId(record.service());
    if (!service.ok() || ToString(service->member()) != signer) {
      return absl::PermissionDeniedError(absl::StrCat(
          "member ", signer, " may not append a record of service ", record.service()));
    }
    const FederationServer* server = federation->ServerById(record.recorded_by());
    bool provides = false;
    if (server != nullptr && ToString(server->id.member()) == signer) {
      for (const FederationServer* provider : federation->ProvidersOf(*service)) {
        provides = provides || provider == server;
      }
    }
    if (!provides) {
      return absl::PermissionDeniedError(absl::StrCat(
          "record ", record.message_id(), " claims security server ", record.recorded_by(),
          ", which does not provide ", record.service()));
    }
  }
  std::vector<v1::AccessRecord> list(records.records().begin(), records.records().end());
  RENKEI_ASSIGN_OR_RETURN(std::vector<std::string> acknowledged, ledger_.Append(list));
  for (const v1::AccessRecord& record : list) {
    metrics_.ledger_appends.With({record.recorded_by()}).Increment();
  }
  v1::AppendRecordsResponse response;
  for (std::string& id : acknowledged) response.add_acknowledged_message_ids(std::move(id));
  response.set_tree_size(ledger_.size());
  return response;
}

grpc::ServerUnaryReactor* LedgerService::AppendRecords(grpc::CallbackServerContext* context,
                                                       const v1::SignedHeader* batch,
                                                       v1::AppendRecordsResponse* response) {
  absl::Time started = absl::Now();
  auto result = Append(*batch);
  metrics_.ledger_append_seconds.With({}).Observe(absl::ToDoubleSeconds(absl::Now() - started));
  if (!result.ok()) {
    metrics_.ledger_rejected_batches.With({absl::StatusCodeToString(result.status().code())})
        .Increment();
    Log(LogLevel::kWarning, "ledger",
        absl::StrCat("refused a record batch from ", context->peer(), ": ",
                     result.status().ToString()));
  }
  return Finish(context, std::move(result), response);
}

void ResidentSessions::Expire() {
  absl::Time now = clock_.Now();
  for (auto* map : {&challenges_, &sessions_}) {
    for (auto it = map->begin(); it != map->end();) {
      it = it->second.expires_at <= now ? map->erase(it) : std::next(it);
    }
  }
}

std::string ResidentSessions::NewChallenge(const std::string& pseudonym, absl::Time* expires_at) {
  std::string challenge = absl::StrCat("renkei-sign-in-v1:", ToHex(RandomBytes(32)));
  absl::MutexLock lock(&mu_);
  Expire();
  *expires_at = clock_.Now() + kChallengeLifetime;
  challenges_[challenge] = {pseudonym, *expires_at};
  return challenge;
}

bool ResidentSessions::TakeChallenge(const std::string& pseudonym, const std::string& challenge) {
  absl::MutexLock lock(&mu_);
  Expire();
  auto it = challenges_.find(challenge);
  if (it == challenges_.end()) return false;
  bool ok = ConstantTimeEquals(it->second.pseudonym, pseudonym);
  challenges_.erase(it);  // single use, whatever the outcome
  return ok;
}

std::string ResidentSessions::NewSession(const std::string& pseudonym, absl::Time* expires_at) {
  std::string token = ToHex(RandomBytes(32));
  absl::MutexLock lock(&mu_);
  *expires_at = clock_.Now() + kSessionLifetime;
  sessions_[token] = {pseudonym, *expires_at};
  return token;
}

std::string ResidentSessions::SessionPseudonym(const std::string& token) {
  absl::MutexLock lock(&mu_);
  Expire();
  auto it = sessions_.find(token);
  return it == sessions_.end() ? "" : it->second.pseudonym;
}

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
  if (!sessions_.TakeChallenge(pseudonym, request.challenge())) return refused;
  auto key = ledger_.EnrolledKey(pseudonym);
  if (!key.ok() || !key->VerifySignature(request.challenge(), request.signature())) return refused;
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
