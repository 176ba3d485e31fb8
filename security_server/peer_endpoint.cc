#include "security_server/peer_endpoint.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/log_rate_limit.h"
#include "common/envelope.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "common/grpc_glue.h"

namespace renkei {
namespace {

// One forwarded call: what must outlive the asynchronous backend call.
struct BackendCall {
  VerifiedRequest verified;
  std::unique_ptr<grpc::ClientContext> context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

}  // namespace

PeerEndpoint::PeerEndpoint(const ProviderSide& provider, SchemaPublisher& schemas,
                           int max_backend_response_bytes, absl::Duration max_backend_call,
                           ExchangeMetrics& metrics, OperationalLog& operational_log)
    : provider_(provider),
      schemas_(schemas),
      max_backend_response_bytes_(max_backend_response_bytes),
      max_backend_call_(absl::ToChronoSeconds(max_backend_call)),
      metrics_(metrics),
      operational_log_(operational_log) {}

grpc::GenericStub& PeerEndpoint::BackendStub(const std::string& address) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<grpc::GenericStub>& stub = backends_[address];
  if (stub == nullptr) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(max_backend_response_bytes_);
    // Backends are the agency's own services on its internal network (DESIGN.md): plaintext.
    stub = std::make_unique<grpc::GenericStub>(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  }
  return *stub;
}

grpc::ServerUnaryReactor* PeerEndpoint::Exchange(grpc::CallbackServerContext* context,
                                                 const v1::ExchangeRequest* request,
                                                 v1::ExchangeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Time started = absl::Now();
  auto operational = std::make_shared<v1::OperationalRecord>();
  operational->set_role(v1::OperationalRecord::PROVIDER);
  *operational->mutable_received_at() = ToTimestamp(started);
  operational->set_peer_address(context->peer());
  operational->set_request_bytes(static_cast<int64_t>(request->payload().size()));
  auto verified = provider_.Verify(PeerCertificateSha256(context->auth_context()), *request);
  metrics_.ObserveStage(ExchangeMetrics::Stage::kVerify, absl::Now() - started);
  operational->set_verify_us(absl::ToInt64Microseconds(absl::Now() - started));
  if (!verified.ok()) {
    metrics_.CountRejection("peer", verified.status().code());
    metrics_.CountExchange("inbound", "unverified", "unverified", verified.status().code());
    operational->set_client("unverified");
    operational->set_service("unverified");
    operational->set_outcome(static_cast<int>(verified.status().code()));
    operational->set_total_us(absl::ToInt64Microseconds(absl::Now() - started));
    operational_log_.Record(*operational);
    // Counted in the metrics; logged at a bound a hostile peer cannot push past.
    static LogRateLimit refusals(kRefusalLinesPerMinute);
    refusals.Log(LogLevel::kWarning, "peer", [&] {
      return absl::StrCat("refused request from ", context->peer(), ": ",
                          verified.status().ToString());
    });
    reactor->Finish(ToGrpcStatus(verified.status()));
    return reactor;
  }

  auto call = std::make_shared<BackendCall>();
  call->verified = *std::move(verified);
  // Carries the caller's deadline and cancellation on to the provider service.
  call->context = grpc::ClientContext::FromCallbackServerContext(*context);
  // A caller without a deadline must not hold a backend call (and its memory) forever.
  if (context->deadline() > std::chrono::system_clock::now() + max_backend_call_) {
    call->context->set_deadline(std::chrono::system_clock::now() + max_backend_call_);
  }
  call->request = StringToByteBuffer(request->payload());
  const std::string method = call->verified.header.method();
  metrics_.in_flight().Add(1);
  const absl::Time provider_call_started = absl::Now();
  BackendStub(call->verified.backend_address)
      .UnaryCall(call->context.get(), method, grpc::StubOptions(), &call->request,
                 &call->response, [this, call, request, response, reactor, method, started,
                                   provider_call_started, operational](grpc::Status status) {
                   metrics_.ObserveStage(ExchangeMetrics::Stage::kProviderCall, absl::Now() - provider_call_started);
                   operational->set_provider_call_us(
                       absl::ToInt64Microseconds(absl::Now() - provider_call_started));
                   const absl::Time answering = absl::Now();
                   metrics_.in_flight().Add(-1);
                   absl::Status provider_status = FromGrpcStatus(status);
                   if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
                     provider_status = absl::UnavailableError(absl::StrCat(
                         "provider service ", ToString(call->verified.header.service()),
                         " is unavailable: ", status.error_message()));
                   }
                   provider_.Answer(
                       call->verified, *request, provider_status, ByteBufferToString(call->response),
                       [this, call, response, reactor, method, started, answering, operational,
                        provider_status](absl::StatusOr<v1::ExchangeResponse> answer) {
                         Finished(call->verified.header, method, provider_status, std::move(answer),
                                  started, answering, *operational, *response, reactor);
                       });
                 });
  return reactor;
}

void PeerEndpoint::Finished(const v1::RequestHeader& header, const std::string& method,
                            const absl::Status& provider_status,
                            absl::StatusOr<v1::ExchangeResponse> answer, absl::Time started,
                            absl::Time answering, v1::OperationalRecord& operational,
                            v1::ExchangeResponse& response, grpc::ServerUnaryReactor* reactor) {
  const std::string client = ToString(header.client());
  const std::string service = ToString(header.service());
  const absl::StatusCode outcome = answer.ok() ? provider_status.code() : answer.status().code();
  metrics_.CountExchange("inbound", client, service, outcome);
  operational.set_message_id(header.message_id());
  operational.set_client(client);
  operational.set_service(service);
  operational.set_method(method);
  operational.set_outcome(static_cast<int>(outcome));
  operational.set_answer_us(absl::ToInt64Microseconds(absl::Now() - answering));
  if (answer.ok()) operational.set_response_bytes(static_cast<int64_t>(answer->payload().size()));
  operational.set_total_us(absl::ToInt64Microseconds(absl::Now() - started));
  operational_log_.Record(operational);
  if (!answer.ok()) {
    Log(LogLevel::kError, "peer", answer.status().ToString(), header.message_id());
    reactor->Finish(ToGrpcStatus(answer.status()));
    return;
  }
  // Each answer is in the operational record: no log line per exchange.
  response = *std::move(answer);
  reactor->Finish(grpc::Status::OK);
}

grpc::ServerUnaryReactor* PeerEndpoint::DescribeService(grpc::CallbackServerContext* context,
                                                        const v1::DescribeServiceRequest* request,
                                                        v1::DescribeServiceResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto described = provider_.Describe(PeerCertificateSha256(context->auth_context()), *request);
  if (described.ok()) *response = *std::move(described);
  reactor->Finish(ToGrpcStatus(described.status()));
  return reactor;
}

grpc::ServerUnaryReactor* PeerEndpoint::DescribeSchema(grpc::CallbackServerContext* context,
                                                       const v1::DescribeServiceRequest* request,
                                                       v1::SignedHeader* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  int64_t version = 0;
  auto described =
      provider_.Describe(PeerCertificateSha256(context->auth_context()), *request, &version);
  if (!described.ok()) {
    reactor->Finish(ToGrpcStatus(described.status()));
    return reactor;
  }
  if (request->client().empty()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "a service schema is asked for a client subsystem"));
    return reactor;
  }
  // Asking the backend may take a while: on the publisher's thread, not this one.
  schemas_.Publish(*request, *std::move(described), version,
                   [reactor, response](absl::StatusOr<v1::SignedHeader> schema) {
                     if (schema.ok()) *response = *std::move(schema);
                     reactor->Finish(ToGrpcStatus(schema.status()));
                   });
  return reactor;
}

}  // namespace renkei
