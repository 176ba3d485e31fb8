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

// Refusals are counted in the metrics and logged at a bound a flood of bad calls cannot push
// past, shared by both entries.
void LogRefusal(v1::OperationalRecord::Entry entry, const std::string& method,
                const std::string& peer_address, const absl::Status& status,
                const std::string& message_id) {
  static LogRateLimit refusals(kRefusalLinesPerMinute);
  refusals.Log(LogLevel::kWarning, entry == v1::OperationalRecord::REST ? "rest" : "local", [&] {
    return absl::StrCat("refused ", method, " from ", peer_address, ": ", status.ToString());
  }, message_id);
}

// One outbound exchange, from Prepare to the verified, recorded answer; deletes itself once
// `done` has run. Both entries (gRPC and JSON) use it, so an exchange is the same whichever
// one a local system called.
class OutboundExchange {
 public:
  OutboundExchange(LocalEndpoint& endpoint, std::unique_ptr<grpc::ClientContext> context,
                   v1::OperationalRecord::Entry entry, absl::Time received_at,
                   LocalEndpoint::ExchangeDone done)
      : endpoint_(endpoint), metrics_(endpoint.metrics()), client_context_(std::move(context)),
        entry_(entry), received_at_(received_at), done_(std::move(done)) {}

  void Start(LocalCall call) {
    method_ = call.method;
    peer_address_ = call.caller.peer_address;
    operational_.set_request_bytes(static_cast<int64_t>(call.payload.size()));
    absl::Time started = absl::Now();
    auto prepared = endpoint_.consumer().Prepare(std::move(call));
    operational_.set_prepare_us(absl::ToInt64Microseconds(absl::Now() - started));
    metrics_.ObserveStage(ExchangeMetrics::Stage::kLocalPrepare, absl::Now() - started);
    if (!prepared.ok()) {
      metrics_.CountRejection("local", prepared.status().code());
      Refuse(prepared.status());
      return;
    }
    prepared_ = *std::move(prepared);
    peer_call_started_ = absl::Now();
    peer_stub_ = endpoint_.PeerStub(prepared_.provider, *prepared_.federation);
    peer_stub_->async()->Exchange(client_context_.get(), &prepared_.request, &response_,
                                  [this](grpc::Status status) { OnPeerDone(status); });
  }

 private:
  void OnPeerDone(const grpc::Status& status) {
    metrics_.ObserveStage(ExchangeMetrics::Stage::kPeerRoundTrip, absl::Now() - peer_call_started_);
    operational_.set_peer_round_trip_us(absl::ToInt64Microseconds(absl::Now() - peer_call_started_));
    if (!status.ok()) {
      // The provider's security server refused, or could not be reached.
      Refuse(absl::Status(FromGrpcStatus(status).code(),
                          absl::StrCat("provider security server ", prepared_.provider.id_text,
                                       ": ", status.error_message())));
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
      Refuse(answer.status());
      return;
    }
    operational_.set_response_bytes(static_cast<int64_t>(answer->payload.size()));
    // Each exchange is in the operational record: no log line per exchange.
    CountExchange(answer->status.code());
    Finish({answer->status, prepared_.header.message_id(),
            answer->status.ok() ? std::move(answer->payload) : std::string(),
            /*answered=*/true});
  }

  // Counts the finished exchange and keeps its operational record.
  void CountExchange(absl::StatusCode outcome) {
    bool prepared = !prepared_.header.message_id().empty();
    operational_.set_message_id(prepared_.header.message_id());
    operational_.set_client(prepared ? ToString(prepared_.header.client()) : "unverified");
    operational_.set_service(prepared ? ToString(prepared_.header.service()) : "unverified");
    operational_.set_method(method_);
    operational_.set_peer_address(peer_address_);
    endpoint_.CountCall(std::move(operational_), entry_, received_at_, outcome);
  }

  // Rejections this server made are counted by the caller: a provider's are the provider's.
  void Refuse(const absl::Status& status) {
    CountExchange(status.code());
    LogRefusal(entry_, method_, peer_address_, status, prepared_.header.message_id());
    Finish({status, prepared_.header.message_id(), ""});
  }

  void Finish(ExchangeOutcome outcome) {
    std::move(done_)(std::move(outcome));
    endpoint_.ExchangeEnded(client_context_.get());
    delete this;
  }

  LocalEndpoint& endpoint_;
  ExchangeMetrics& metrics_;
  const std::unique_ptr<grpc::ClientContext> client_context_;
  const v1::OperationalRecord::Entry entry_;
  const absl::Time received_at_;
  LocalEndpoint::ExchangeDone done_;
  std::string method_;
  std::string peer_address_;
  v1::OperationalRecord operational_;
  absl::Time peer_call_started_;
  absl::Time completing_;
  PreparedExchange prepared_;
  std::shared_ptr<v1::PeerExchange::Stub> peer_stub_;  // held for the call
  v1::ExchangeResponse response_;
};

// Handles one call from a local system over gRPC, from reading its request to finishing it.
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
    // The caller's deadline and cancellation travel to the provider.
    auto client_context = grpc::ClientContext::FromCallbackServerContext(*context_);
    // A caller without a deadline must not hold the exchange (and its memory) forever.
    const auto longest = absl::ToChronoTime(absl::Now() + LocalEndpoint::kMaxExchange);
    if (context_->deadline() > longest) client_context->set_deadline(longest);
    endpoint_.StartExchange(std::move(call), std::move(client_context), v1::OperationalRecord::GRPC,
                            received_at_, [this](ExchangeOutcome outcome) {
                              OnExchanged(std::move(outcome));
                            });
  }

  void OnWriteDone(bool /*ok*/) override {}
  void OnDone() override {
    metrics_.in_flight().Add(-1);
    delete this;
  }

 private:
  void OnExchanged(ExchangeOutcome outcome) {
    if (!outcome.message_id.empty()) {
      context_->AddTrailingMetadata(kMessageIdKey, outcome.message_id);
    }
    if (!outcome.status.ok()) {
      Finish(ToGrpcStatus(outcome.status));
      return;
    }
    reply_ = StringToByteBuffer(outcome.payload);
    StartWriteAndFinish(&reply_, grpc::WriteOptions(), grpc::Status::OK);
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
  grpc::ByteBuffer request_;
  grpc::ByteBuffer reply_;
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

void LocalEndpoint::StartExchange(LocalCall call, std::unique_ptr<grpc::ClientContext> context,
                                  v1::OperationalRecord::Entry entry, absl::Time received_at,
                                  ExchangeDone done) {
  {
    absl::MutexLock lock(&mu_);
    exchanges_.insert(context.get());
  }
  (new OutboundExchange(*this, std::move(context), entry, received_at, std::move(done)))
      ->Start(std::move(call));
}

void LocalEndpoint::ExchangeEnded(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  exchanges_.erase(context);
}

void LocalEndpoint::CancelExchanges() {
  absl::MutexLock lock(&mu_);
  for (grpc::ClientContext* context : exchanges_) context->TryCancel();
}

bool LocalEndpoint::WaitForExchanges(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(
      absl::Condition(+[](std::set<grpc::ClientContext*>* exchanges) { return exchanges->empty(); },
                      &exchanges_),
      deadline);
}

void LocalEndpoint::CountRefusal(v1::OperationalRecord::Entry entry, const std::string& method,
                                 const std::string& peer_address, absl::Time received_at,
                                 const absl::Status& status, bool refused_here) {
  if (refused_here) metrics_.CountRejection("local", status.code());
  v1::OperationalRecord operational;
  operational.set_client("unverified");
  operational.set_service("unverified");
  operational.set_method(method);
  operational.set_peer_address(peer_address);
  CountCall(std::move(operational), entry, received_at, status.code());
  LogRefusal(entry, method, peer_address, status, "");
}

void LocalEndpoint::CountCall(v1::OperationalRecord operational,
                              v1::OperationalRecord::Entry entry, absl::Time received_at,
                              absl::StatusCode outcome) {
  metrics_.CountExchange("outbound", operational.client(), operational.service(), outcome);
  metrics_.CountLocalCall(entry, outcome);
  operational.set_role(v1::OperationalRecord::CONSUMER);
  operational.set_entry(entry);
  *operational.mutable_received_at() = ToTimestamp(received_at);
  operational.set_outcome(static_cast<int>(outcome));
  operational.set_total_us(absl::ToInt64Microseconds(absl::Now() - received_at));
  operational_log_.Record(operational);
}

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
