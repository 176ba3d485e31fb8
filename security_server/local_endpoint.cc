#include "security_server/local_endpoint.h"

#include "common/envelope.h"
#include "security_server/metadata_service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/digest.h"
#include "common/grpc_status.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/log_rate_limit.h"
#include "grpcpp/alarm.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "common/grpc_glue.h"
#include "common/transport_security.h"

namespace renkei {
namespace {

// gRPC target for a server's addresses: several IP literals become one ipv4:/ipv6: target
// that the pick_first policy walks in order (Federation validated they are IP literals).
std::string ChannelTarget(const FederationServer& server) {
  if (server.addresses.size() == 1) return server.addresses[0];
  bool ipv6 = server.addresses[0][0] == '[';
  return absl::StrCat(ipv6 ? "ipv6:" : "ipv4:", absl::StrJoin(server.addresses, ","));
}

// The longest an exchange may take when the caller set no (or a longer) deadline: a little
// more than the provider side's own bound on its backend call.
constexpr std::chrono::seconds kMaxExchange(65);

// Handles one call from a local system, from reading its request to finishing it.
class LocalCallReactor final : public grpc::ServerGenericBidiReactor {
 public:
  LocalCallReactor(grpc::GenericCallbackServerContext* context, LocalEndpoint& endpoint)
      : context_(context), endpoint_(endpoint), metrics_(endpoint.metrics()),
        received_at_(absl::Now()), read_race_(std::make_shared<ReadRace>()) {
    metrics_.in_flight().Add(1);
    read_race_->reactor = this;
    StartRead(&request_);
    // A caller that opens a call and never sends its request gets it ended: whichever of the
    // read and this timer comes first decides, the other does nothing.
    read_timer_.Set(absl::ToChronoTime(absl::Now() + endpoint.request_read_timeout()),
                    [race = read_race_](bool fired) {
                      if (!fired) return;
                      {
                        absl::MutexLock lock(&race->mu);
                        if (race->decided) return;
                        race->decided = true;
                      }
                      // Still alive: only this Finish can end the call now.
                      race->reactor->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                                         "no request message received in time"));
                    });
  }

  void OnReadDone(bool ok) override {
    {
      absl::MutexLock lock(&read_race_->mu);
      if (read_race_->decided) return;  // the timer ended the call
      read_race_->decided = true;
    }
    read_timer_.Cancel();
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message received"));
      return;
    }
    LocalCall call;
    call.method = context_->method();
    for (const auto& [key, value] : context_->client_metadata()) {
      call.metadata.emplace(std::string(key.data(), key.size()),
                            std::string(value.data(), value.size()));
    }
    call.caller = CallerOf(*context_);
    call.payload = ByteBufferToString(request_);
    operational_.set_request_bytes(static_cast<int64_t>(call.payload.size()));

    absl::Time started = absl::Now();
    auto prepared = endpoint_.consumer().Prepare(std::move(call));
    operational_.set_prepare_us(absl::ToInt64Microseconds(absl::Now() - started));
    metrics_.ObserveStage(ExchangeMetrics::Stage::kLocalPrepare, absl::Now() - started);
    if (!prepared.ok()) {
      metrics_.CountRejection("local", prepared.status().code());
      Refuse(prepared.status(), "");
      return;
    }
    prepared_ = *std::move(prepared);
    peer_call_started_ = absl::Now();
    client_context_ = grpc::ClientContext::FromCallbackServerContext(*context_);
    // A caller without a deadline must not hold the exchange (and its memory) forever.
    if (context_->deadline() > std::chrono::system_clock::now() + kMaxExchange) {
      client_context_->set_deadline(std::chrono::system_clock::now() + kMaxExchange);
    }
    peer_stub_ = endpoint_.PeerStub(prepared_.provider, *prepared_.federation);
    peer_stub_->async()
        ->Exchange(client_context_.get(), &prepared_.request, &response_,
                   [this](grpc::Status status) { OnPeerDone(status); });
  }

  void OnWriteDone(bool /*ok*/) override {}
  void OnDone() override {
    metrics_.in_flight().Add(-1);
    delete this;
  }

 private:
  void OnPeerDone(const grpc::Status& status) {
    const std::string& message_id = prepared_.header.message_id();
    metrics_.ObserveStage(ExchangeMetrics::Stage::kPeerRoundTrip, absl::Now() - peer_call_started_);
    operational_.set_peer_round_trip_us(absl::ToInt64Microseconds(absl::Now() - peer_call_started_));
    context_->AddTrailingMetadata(kMessageIdKey, message_id);
    if (!status.ok()) {
      // The provider's security server refused, or could not be reached.
      Refuse(absl::Status(FromGrpcStatus(status).code(),
                          absl::StrCat("provider security server ", prepared_.provider.id_text,
                                       ": ", status.error_message())),
             message_id);
      return;
    }
    completing_ = absl::Now();
    endpoint_.consumer().Complete(
        prepared_, PeerCertificateSha256(client_context_->auth_context()), std::move(response_),
        [this](absl::StatusOr<ProviderAnswer> answer) { OnCompleted(std::move(answer)); });
  }

  // The answer verified and its evidence durable (on the message log's committer), or refused.
  void OnCompleted(absl::StatusOr<ProviderAnswer> answer) {
    metrics_.ObserveStage(ExchangeMetrics::Stage::kLocalComplete, absl::Now() - completing_);
    operational_.set_complete_us(absl::ToInt64Microseconds(absl::Now() - completing_));
    if (!answer.ok()) {
      metrics_.CountRejection("local", answer.status().code());
      Refuse(answer.status(), prepared_.header.message_id());
      return;
    }
    operational_.set_response_bytes(static_cast<int64_t>(answer->payload.size()));
    // Each exchange is in the operational record: no log line per exchange.
    CountExchange(answer->status.code());
    if (!answer->status.ok()) {
      Finish(ToGrpcStatus(answer->status));
      return;
    }
    reply_ = StringToByteBuffer(answer->payload);
    StartWriteAndFinish(&reply_, grpc::WriteOptions(), grpc::Status::OK);
  }

  // Counts the finished exchange and keeps its operational record.
  void CountExchange(absl::StatusCode outcome) {
    bool prepared = !prepared_.header.message_id().empty();
    const std::string client = prepared ? ToString(prepared_.header.client()) : "unverified";
    const std::string service = prepared ? ToString(prepared_.header.service()) : "unverified";
    metrics_.CountExchange("outbound", client, service, outcome);
    operational_.set_message_id(prepared_.header.message_id());
    operational_.set_role(v1::OperationalRecord::CONSUMER);
    *operational_.mutable_received_at() = ToTimestamp(received_at_);
    operational_.set_client(client);
    operational_.set_service(service);
    operational_.set_method(context_->method());
    operational_.set_outcome(static_cast<int>(outcome));
    operational_.set_peer_address(context_->peer());
    operational_.set_total_us(absl::ToInt64Microseconds(absl::Now() - received_at_));
    endpoint_.operational_log().Record(operational_);
  }

  void Refuse(const absl::Status& status, const std::string& message_id) {
    CountExchange(status.code());
    // Counted in the metrics; logged at a bound a flood of bad calls cannot push past.
    static LogRateLimit refusals(kRefusalLinesPerMinute);
    refusals.Log(LogLevel::kWarning, "local", [&] {
      return absl::StrCat("refused ", context_->method(), " from ", context_->peer(), ": ",
                          status.ToString());
    }, message_id);
    Finish(ToGrpcStatus(status));
  }

  // Shared with the read timer's callback, which may run after this reactor is gone.
  struct ReadRace {
    absl::Mutex mu;
    bool decided ABSL_GUARDED_BY(mu) = false;
    LocalCallReactor* reactor = nullptr;  // valid while nothing is decided
  };

  grpc::GenericCallbackServerContext* const context_;
  LocalEndpoint& endpoint_;
  ExchangeMetrics& metrics_;
  const absl::Time received_at_;
  const std::shared_ptr<ReadRace> read_race_;
  grpc::Alarm read_timer_;
  v1::OperationalRecord operational_;
  absl::Time peer_call_started_;
  absl::Time completing_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer reply_;
  PreparedExchange prepared_;
  std::shared_ptr<v1::PeerExchange::Stub> peer_stub_;  // held for the call
  std::unique_ptr<grpc::ClientContext> client_context_;
  v1::ExchangeResponse response_;
};

}  // namespace

LocalEndpoint::LocalEndpoint(const ConsumerSide& consumer, const Settings& settings,
                             int max_peer_response_bytes, ExchangeMetrics& metrics,
                             OperationalLog& operational_log)
    : consumer_(consumer),
      settings_(settings),
      max_peer_response_bytes_(max_peer_response_bytes),
      request_read_timeout_(absl::Seconds(
          settings.config.local().request_read_timeout_seconds() > 0
              ? settings.config.local().request_read_timeout_seconds()
              : 10)),
      metrics_(metrics),
      operational_log_(operational_log) {}

grpc::ServerGenericBidiReactor* LocalEndpoint::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  return new LocalCallReactor(context, *this);
}

std::shared_ptr<v1::PeerExchange::Stub> LocalEndpoint::PeerStub(const FederationServer& server,
                                                                const Federation& federation) {
  absl::MutexLock lock(&mu_);
  if (federation.configuration().version() != peers_version_) {
    peers_.clear();
    peers_version_ = federation.configuration().version();
  }
  std::shared_ptr<v1::PeerExchange::Stub>& stub = peers_[server.id_text];
  if (stub == nullptr) {
    const std::string registered = server.authentication_certificate_sha256;
    const bool revoked = federation.IsRevoked(registered);
    const std::string id = server.id_text;
    auto credentials = PinnedChannelCredentials(
        federation.trusted_ca_pem(), &settings_.peer_tls,
        [registered, revoked, id](const std::string& fingerprint) {
          if (fingerprint != registered) {
            return absl::UnauthenticatedError(absl::StrCat(
                "security server ", id, " presented TLS certificate sha256 ", fingerprint,
                ", not its registered one"));
          }
          if (revoked) {
            return absl::UnauthenticatedError(absl::StrCat(
                "the authentication certificate of security server ", id, " is revoked"));
          }
          return absl::OkStatus();
        });
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride(SecurityServerTlsName(server.id));
    args.SetMaxReceiveMessageSize(max_peer_response_bytes_);
    args.SetLoadBalancingPolicyName("pick_first");
    stub = v1::PeerExchange::NewStub(
        grpc::CreateCustomChannel(ChannelTarget(server), credentials, args));
  }
  return stub;
}

}  // namespace renkei
