#include "security_server/consumer_side.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/identifiers.h"
#include "common/status_macros.h"
#include "security_server/access_rights.h"
#include "common/envelope.h"

namespace renkei {
namespace {

std::vector<std::string> Values(const LocalCall& call, const char* key) {
  std::vector<std::string> values;
  auto range = call.metadata.equal_range(key);
  for (auto it = range.first; it != range.second; ++it) values.push_back(it->second);
  return values;
}

absl::StatusOr<std::string> ExactlyOne(const LocalCall& call, const char* key) {
  std::vector<std::string> values = Values(call, key);
  if (values.empty() || (values.size() == 1 && values[0].empty())) {
    return absl::InvalidArgumentError(absl::StrCat("missing ", key, " metadata"));
  }
  if (values.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(key, " metadata given ", values.size(),
                                                   " times; exactly one is allowed"));
  }
  return values[0];
}

}  // namespace

ConsumerSide::ConsumerSide(const Settings& settings, const ConfigurationSource& configuration,
                           const Clock& clock, ExchangeRecorder& recorder)
    : settings_(settings), configuration_(configuration), clock_(clock), recorder_(recorder) {}

absl::Status ConsumerSide::AuthenticateCaller(const LocalCaller& caller) const {
  if (caller.tls) {
    for (const auto& [subsystem, fingerprints] : settings_.local_clients) {
      if (fingerprints.count(caller.certificate_sha256) > 0) return absl::OkStatus();
    }
    return absl::PermissionDeniedError(absl::StrCat("local caller with certificate sha256 ",
                                                    caller.certificate_sha256,
                                                    " is not registered for any client subsystem"));
  }
  if (!settings_.local_plaintext || !(absl::StartsWith(caller.peer_address, "ipv4:127.") ||
                                      absl::StartsWith(caller.peer_address, "ipv6:[::1]:"))) {
    return absl::UnauthenticatedError("local caller presented no client certificate");
  }
  return absl::OkStatus();
}

absl::Status ConsumerSide::AuthorizeOwner(const LocalCaller& caller) const {
  if (!caller.tls) return AuthenticateCaller(caller);
  for (const auto& [subsystem, fingerprints] : settings_.local_clients) {
    auto id = ParseSubsystemId(subsystem);
    if (id.ok() && id->member() == settings_.server_id.member() &&
        fingerprints.count(caller.certificate_sha256) > 0) {
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "operational data of ", settings_.server_id_text, " is for systems of member ",
      ToString(settings_.server_id.member()), " only"));
}

absl::StatusOr<v1::ListClientsResponse> ConsumerSide::ListClients(const LocalCaller& caller) const {
  RENKEI_RETURN_IF_ERROR(AuthenticateCaller(caller));
  std::shared_ptr<const Federation> federation = configuration_.Current();
  RENKEI_RETURN_IF_ERROR(CheckNotExpired(*federation, clock_.Now()));
  v1::ListClientsResponse response;
  response.set_configuration_version(federation->configuration().version());
  for (const v1::Member& member : federation->configuration().members()) {
    v1::FederationMember* listed = response.add_members();
    listed->set_id(member.id());
    listed->set_name(member.name());
    for (const std::string& code : member.subsystems()) {
      listed->add_subsystems(absl::StrCat(member.id(), "/", code));
    }
  }
  return response;
}

absl::StatusOr<PreparedDescribe> ConsumerSide::PrepareDescribe(const LocalCaller& caller,
                                                               const std::string& client,
                                                               const std::string& service) const {
  if (client.empty()) {
    RENKEI_RETURN_IF_ERROR(AuthenticateCaller(caller));
  } else {
    auto client_id = ParseSubsystemId(client);
    if (!client_id.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(kClientKey, ": ", client_id.status().message()));
    }
    RENKEI_RETURN_IF_ERROR(AuthorizeCaller(caller, client));
  }
  auto service_id = ParseSubsystemId(service);
  if (!service_id.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("service: ", service_id.status().message()));
  }
  PreparedDescribe prepared;
  prepared.federation = configuration_.Current();
  RENKEI_RETURN_IF_ERROR(CheckNotExpired(*prepared.federation, clock_.Now()));
  std::vector<const FederationServer*> providers = prepared.federation->ProvidersOf(*service_id);
  if (providers.empty()) {
    return absl::NotFoundError(absl::StrCat("no security server provides service subsystem ", service));
  }
  prepared.provider = *providers.front();
  prepared.request.set_service(service);
  prepared.request.set_client(client);
  return prepared;
}

absl::Status ConsumerSide::AuthorizeCaller(const LocalCaller& caller,
                                           const std::string& client) const {
  auto registered = settings_.local_clients.find(client);
  if (registered == settings_.local_clients.end()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "client subsystem ", client, " is not registered at security server ",
        settings_.server_id_text));
  }
  if (caller.tls) {
    if (registered->second.count(caller.certificate_sha256) == 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          "local caller with certificate sha256 ", caller.certificate_sha256,
          " may not act as client subsystem ", client));
    }
    return absl::OkStatus();
  }
  // Plaintext: only in explicit development mode, only from loopback.
  return AuthenticateCaller(caller);
}

absl::StatusOr<PreparedExchange> ConsumerSide::Prepare(LocalCall call) const {
  PreparedExchange prepared;
  prepared.federation = configuration_.Current();
  const Federation& federation = *prepared.federation;
  absl::Time now = clock_.Now();
  RENKEI_RETURN_IF_ERROR(CheckNotExpired(federation, now));
  // The answer could not be recorded now: do not make the provider record an exchange.
  RENKEI_RETURN_IF_ERROR(recorder_.Admit());

  RENKEI_ASSIGN_OR_RETURN(std::string client_text, ExactlyOne(call, kClientKey));
  auto client = ParseSubsystemId(client_text);
  if (!client.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(kClientKey, ": ", client.status().message()));
  }
  RENKEI_ASSIGN_OR_RETURN(std::string service_text, ExactlyOne(call, kServiceKey));
  auto service = ParseSubsystemId(service_text);
  if (!service.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(kServiceKey, ": ", service.status().message()));
  }
  std::vector<std::string> subjects = Values(call, kSubjectKey);
  if (subjects.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing ", kSubjectKey, " metadata: name the resident(s) concerned"));
  }
  if (subjects.size() > static_cast<size_t>(kMaxSubjects)) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxSubjects, " ", kSubjectKey, " values"));
  }
  RENKEI_ASSIGN_OR_RETURN(std::string purpose, ExactlyOne(call, kPurposeKey));
  std::vector<std::string> users = Values(call, kUserKey);
  if (users.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(kUserKey, " metadata given more than once"));
  }
  std::string user = users.empty() ? "" : users[0];
  if (!IsFullMethodName(call.method)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", call.method, "\" is not a gRPC method"));
  }

  RENKEI_RETURN_IF_ERROR(AuthorizeCaller(call.caller, client_text));
  if (!federation.HasSubsystem(*client)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "client subsystem ", client_text, " is not registered in the global configuration"));
  }
  auto signer = settings_.signing_identities.find(ToString(client->member()));
  if (signer == settings_.signing_identities.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "security server ", settings_.server_id_text, " holds no signing key for member ",
        ToString(client->member())));
  }
  if (!federation.HasSubsystem(*service)) {
    return absl::NotFoundError(
        absl::StrCat("service subsystem ", service_text, " is not in the global configuration"));
  }
  std::vector<const FederationServer*> providers = federation.ProvidersOf(*service);
  if (providers.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no security server provides service subsystem ", service_text));
  }
  prepared.provider = *providers.front();

  v1::RequestHeader& header = prepared.header;
  header.set_message_id(NewMessageId());
  *header.mutable_created_at() = ToTimestamp(now);
  *header.mutable_client() = *client;
  *header.mutable_service() = *service;
  header.set_method(call.method);
  for (std::string& subject : subjects) header.add_subjects(std::move(subject));
  header.set_purpose(purpose);
  header.set_user(user);
  header.set_payload_sha256(Sha256(call.payload));
  absl::Status fields = ValidateRequestHeaderFields(header);
  if (!fields.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("renkei-* metadata: ", fields.message()));
  }
  std::string header_bytes = header.SerializeAsString();
  prepared.request_header_sha256 = Sha256(header_bytes);
  RENKEI_ASSIGN_OR_RETURN(*prepared.request.mutable_request(),
                          SignHeader(SignedType::kRequestHeader, std::move(header_bytes),
                                     signer->second));
  prepared.request.set_payload(std::move(call.payload));
  return prepared;
}

absl::StatusOr<v1::ResponseHeader> ConsumerSide::CheckAnswer(
    const PreparedExchange& prepared, const std::string& server_certificate_sha256,
    const v1::ExchangeResponse& response) const {
  const Federation& federation = *prepared.federation;
  const std::string& provider = prepared.provider.id_text;
  if (!ConstantTimeEquals(server_certificate_sha256,
                          prepared.provider.authentication_certificate_sha256) ||
      federation.IsRevoked(server_certificate_sha256)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "provider security server ", provider, " presented TLS certificate sha256 ",
        server_certificate_sha256, ", not its registered one"));
  }
  const v1::SignedHeader& signed_response = response.response();
  RENKEI_RETURN_IF_ERROR(
      VerifySignedHeader(SignedType::kResponseHeader, signed_response, federation));
  if (signed_response.signer() != prepared.header.service().member()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "response signed by ", ToString(signed_response.signer()), ", not by the provider ",
        ToString(prepared.header.service().member())));
  }
  v1::ResponseHeader header;
  if (!header.ParseFromString(signed_response.header())) {
    return absl::UnauthenticatedError("response header is malformed");
  }
  if (header.message_id() != prepared.header.message_id() ||
      !ConstantTimeEquals(header.request_header_sha256(), prepared.request_header_sha256)) {
    return absl::UnauthenticatedError("response header does not answer this request");
  }
  if (!ConstantTimeEquals(header.payload_sha256(), Sha256(response.payload()))) {
    return absl::UnauthenticatedError("response payload does not match its signed digest");
  }
  return header;
}

void ConsumerSide::Complete(const PreparedExchange& prepared,
                            const std::string& server_certificate_sha256,
                            v1::ExchangeResponse response, CompleteDone done) const {
  absl::StatusOr<v1::ResponseHeader> header =
      CheckAnswer(prepared, server_certificate_sha256, response);
  if (!header.ok()) {
    std::move(done)(header.status());
    return;
  }
  ProviderAnswer answer;
  // A code outside the canonical range is passed on as UNKNOWN rather than trusted.
  int code = header->status_code();
  answer.status = absl::Status(
      code >= 0 && code <= 16 ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown,
      header->status_message());
  answer.payload = std::move(*response.mutable_payload());
  // On the heap: the evidence points into it, and the completion takes it along.
  auto delivered = std::make_unique<ProviderAnswer>(std::move(answer));
  ExchangeEvidence evidence;
  evidence.role = v1::MessageLogEntry::CONSUMER;
  evidence.message_id = header->message_id();
  evidence.request = &prepared.request.request();
  evidence.response = &response.response();
  evidence.request_payload = prepared.request.payload();
  evidence.response_payload = delivered->payload;
  evidence.retained_bytes = delivered->payload.size();
  recorder_.Record(evidence, [delivered = std::move(delivered), done = std::move(done)](
                                 absl::Status recorded) mutable {
    if (!recorded.ok()) {
      std::move(done)(absl::UnavailableError(
          absl::StrCat("message log could not record the exchange: ", recorded.message())));
      return;
    }
    std::move(done)(std::move(*delivered));
  });
}

}  // namespace renkei
