#include "security_server/provider_side.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/identifiers.h"
#include "common/status_macros.h"
#include "security_server/access_rights.h"
#include "common/envelope.h"

namespace renkei {

ProviderSide::ProviderSide(const Settings& settings, const ConfigurationSource& configuration,
                           const Clock& clock, ReplayCache& replay_cache,
                           ExchangeRecorder& recorder, ExchangeMetrics* metrics)
    : settings_(settings),
      configuration_(configuration),
      clock_(clock),
      replay_cache_(replay_cache),
      recorder_(recorder),
      metrics_(metrics),
      started_at_(clock.Now()) {}

absl::StatusOr<VerifiedRequest> ProviderSide::Verify(const std::string& peer_certificate_sha256,
                                                     const v1::ExchangeRequest& request) const {
  std::shared_ptr<const Federation> federation = configuration_.Current();
  absl::Time now = clock_.Now();
  RENKEI_RETURN_IF_ERROR(CheckNotExpired(*federation, now));
  // An exchange that could not be recorded now is refused before it costs anything.
  RENKEI_RETURN_IF_ERROR(recorder_.Admit());

  // 1. Who is calling, by the TLS certificate it presented.
  RENKEI_ASSIGN_OR_RETURN(const FederationServer* peer,
                          IdentifyPeer(*federation, peer_certificate_sha256));
  if (static_cast<int64_t>(request.payload().size()) > federation->max_message_bytes()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("payload of ", request.payload().size(), " bytes exceeds the federation limit of ",
                     federation->max_message_bytes()));
  }

  // 2. The signature, before anything in the header is believed.
  RENKEI_RETURN_IF_ERROR(
      VerifySignedHeader(SignedType::kRequestHeader, request.request(), *federation));
  VerifiedRequest verified;
  v1::RequestHeader& header = verified.header;
  if (!header.ParseFromString(request.request().header())) {
    return absl::InvalidArgumentError("request header is malformed");
  }
  // A dishonest member controls its own security server: re-check everything the access
  // record will hold, before the backend sees anything.
  RENKEI_RETURN_IF_ERROR(ValidateRequestHeaderFields(header));
  verified.request_header_sha256 = Sha256(request.request().header());
  const std::string client = ToString(header.client());
  const std::string service = ToString(header.service());
  if (request.request().signer() != header.client().member()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "request signed by ", ToString(request.request().signer()), " claims client ", client));
  }
  if (peer->id.member() != header.client().member()) {
    return absl::PermissionDeniedError(absl::StrCat("security server ", peer->id_text,
                                                    " may not send requests of member ",
                                                    ToString(header.client().member())));
  }
  RENKEI_RETURN_IF_ERROR(CheckFreshness(header.created_at(), now, federation->max_clock_skew()));
  // The replay cache starts empty: what was made before this process could be a replay it
  // cannot see.
  if (FromTimestamp(header.created_at()) < started_at_) {
    return absl::UnauthenticatedError(
        "request was created before this security server started; send a new request");
  }
  if (!ConstantTimeEquals(header.payload_sha256(), Sha256(request.payload()))) {
    return absl::UnauthenticatedError("request payload does not match its signed digest");
  }

  // 3. Is this a request this server serves, and may this client make it?
  if (!federation->HasSubsystem(header.client())) {
    return absl::PermissionDeniedError(
        absl::StrCat("client subsystem ", client, " is not registered in the global configuration"));
  }
  auto backend = settings_.backends.find(service);
  if (backend == settings_.backends.end()) {
    return absl::NotFoundError(absl::StrCat("service subsystem ", service,
                                            " is not provided by security server ",
                                            settings_.server_id_text));
  }
  if (!IsFullMethodName(header.method())) {
    return absl::InvalidArgumentError(absl::StrCat("\"", header.method(), "\" is not a gRPC method"));
  }
  RENKEI_RETURN_IF_ERROR(
      settings_.access_rights.Check(header.client(), header.service(), header.method()));

  // 4. Replays: an id answered before (durably, whenever), then the in-memory window that
  // also catches concurrent duplicates. Last, so that only verified requests occupy it.
  RENKEI_ASSIGN_OR_RETURN(bool answered, recorder_.HasRecordedRequest(header.message_id()));
  if (answered) {
    return absl::AlreadyExistsError(absl::StrCat(
        "message id ", header.message_id(), " was already answered: replay refused"));
  }
  RENKEI_RETURN_IF_ERROR(replay_cache_.CheckAndRemember(
      header.message_id(), FromTimestamp(header.created_at()), federation->max_clock_skew()));

  verified.backend_address = backend->second;
  verified.provider_signer = &settings_.signing_identities.at(ToString(header.service().member()));
  return verified;
}

absl::StatusOr<const FederationServer*> ProviderSide::IdentifyPeer(
    const Federation& federation, const std::string& peer_certificate_sha256) const {
  const FederationServer* peer =
      federation.ServerByAuthenticationCertificate(peer_certificate_sha256);
  if (peer == nullptr || federation.IsRevoked(peer_certificate_sha256)) {
    return absl::UnauthenticatedError(
        absl::StrCat("TLS client certificate sha256 ", peer_certificate_sha256,
                     peer == nullptr ? " is not registered for any security server"
                                     : " is revoked"));
  }
  return peer;
}

absl::StatusOr<v1::DescribeServiceResponse> ProviderSide::Describe(
    const std::string& peer_certificate_sha256, const v1::DescribeServiceRequest& request,
    int64_t* configuration_version) const {
  std::shared_ptr<const Federation> federation = configuration_.Current();
  if (configuration_version != nullptr) {
    *configuration_version = federation->configuration().version();
  }
  RENKEI_RETURN_IF_ERROR(CheckNotExpired(*federation, clock_.Now()));
  RENKEI_ASSIGN_OR_RETURN(const FederationServer* peer,
                          IdentifyPeer(*federation, peer_certificate_sha256));
  const v1::ProvidedService* provided = nullptr;
  for (const v1::ProvidedService& service : settings_.config.provided_services()) {
    if (service.subsystem() == request.service()) provided = &service;
  }
  if (provided == nullptr) {
    return absl::NotFoundError(absl::StrCat("service subsystem ", request.service(),
                                            " is not provided by security server ",
                                            settings_.server_id_text));
  }
  // What the service declares, and what the asking client may call: never the methods
  // granted to other clients.
  std::set<std::string> offered(provided->methods().begin(), provided->methods().end());
  std::set<std::string> named;
  for (const std::string& method : settings_.access_rights.MethodsNamed(request.service())) {
    named.insert(method);
  }
  named.insert(offered.begin(), offered.end());
  v1::DescribeServiceResponse response;
  if (!request.client().empty()) {
    RENKEI_ASSIGN_OR_RETURN(v1::SubsystemId client, ParseSubsystemId(request.client()));
    if (peer->id.member() != client.member()) {
      return absl::PermissionDeniedError(absl::StrCat("security server ", peer->id_text,
                                                      " may not ask for client ", request.client()));
    }
    for (const std::string& method : settings_.access_rights.AllowedMethods(
             request.client(), request.service(), {named.begin(), named.end()})) {
      response.add_allowed_methods(method);
      offered.insert(method);
    }
  }
  for (const std::string& method : offered) response.add_methods(method);
  return response;
}

void ProviderSide::Answer(const VerifiedRequest& verified, const v1::ExchangeRequest& request,
                          const absl::Status& status, std::string payload,
                          AnswerDone done) const {
  if (!status.ok()) payload.clear();
  v1::ResponseHeader header;
  header.set_message_id(verified.header.message_id());
  header.set_request_header_sha256(verified.request_header_sha256);
  *header.mutable_created_at() = ToTimestamp(clock_.Now());
  header.set_status_code(static_cast<int>(status.code()));
  header.set_status_message(std::string(status.message()));
  header.set_payload_sha256(Sha256(payload));

  absl::Time sign_started = absl::Now();
  // On the heap: the evidence points into it, and the completion takes it along.
  auto response = std::make_unique<v1::ExchangeResponse>();
  auto signed_header =
      SignHeader(SignedType::kResponseHeader, header.SerializeAsString(), *verified.provider_signer);
  if (!signed_header.ok()) {
    std::move(done)(signed_header.status());
    return;
  }
  *response->mutable_response() = *std::move(signed_header);
  response->set_payload(std::move(payload));
  if (metrics_) metrics_->ObserveStage(ExchangeMetrics::Stage::kSign, absl::Now() - sign_started);

  // What the ledger will hold: who used whose data, why, and the link to the evidence.
  const v1::RequestHeader& request_header = verified.header;
  v1::AccessRecord record;
  record.set_message_id(request_header.message_id());
  *record.mutable_time() = header.created_at();
  record.set_client(ToString(request_header.client()));
  record.set_service(ToString(request_header.service()));
  record.set_method(request_header.method());
  record.set_purpose(request_header.purpose());
  record.set_user(request_header.user());
  for (const std::string& subject : request_header.subjects()) {
    record.add_subject_pseudonyms(settings_.pseudonymizer->Pseudonym(subject));
  }
  record.set_outcome(header.status_code());
  record.set_request_header_sha256(verified.request_header_sha256);
  record.set_response_header_sha256(Sha256(response->response().header()));
  record.set_recorded_by(settings_.server_id_text);

  ExchangeEvidence evidence;
  evidence.role = v1::MessageLogEntry::PROVIDER;
  evidence.message_id = header.message_id();
  evidence.request = &request.request();
  evidence.response = &response->response();
  evidence.request_payload = request.payload();
  evidence.response_payload = response->payload();
  evidence.access_record = &record;
  evidence.retained_bytes = response->ByteSizeLong();
  recorder_.Record(evidence, [this, response = std::move(response), done = std::move(done),
                              record_started = absl::Now()](absl::Status recorded) mutable {
    if (metrics_) metrics_->ObserveStage(ExchangeMetrics::Stage::kOutbox, absl::Now() - record_started);
    if (!recorded.ok()) {
      std::move(done)(absl::UnavailableError(
          absl::StrCat("exchange could not be recorded, answer withheld: ", recorded.message())));
      return;
    }
    std::move(done)(std::move(*response));
  });
}

}  // namespace renkei
