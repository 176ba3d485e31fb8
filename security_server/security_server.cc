#include "security_server/security_server.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/server_limits.h"
#include "common/transport_security.h"
#include "security_server/broker_configuration_source.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace renkei {
namespace {

// Room for the envelope around a payload of the federation's maximum size.
constexpr int kEnvelopeAllowance = 64 * 1024;
// Replay cache bound: at 10,000 exchanges/s and a 60 s window, about 1.2 M ids.
constexpr size_t kReplayCacheCapacity = 2'000'000;

absl::StatusOr<std::unique_ptr<grpc::Server>> Listen(grpc::ServerBuilder& builder,
                                                     const std::string& what,
                                                     const std::string& address,
                                                     std::shared_ptr<grpc::ServerCredentials> creds) {
  int port = 0;
  builder.AddListeningPort(address, std::move(creds), &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", what, " address ", address));
  }
  Log(LogLevel::kInfo, "server", absl::StrCat(what, " endpoint listening on ", address));
  return server;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SecurityServer>> SecurityServer::Start(
    std::unique_ptr<const Settings> settings) {
  std::unique_ptr<SecurityServer> s(new SecurityServer());
  s->settings_ = std::move(settings);
  const Settings& settings_ref = *s->settings_;

  if (settings_ref.follows_broker) {
    auto configuration = BrokerConfigurationSource::Start(
        settings_ref.anchor, settings_ref.configuration_cache_file,
        settings_ref.configuration_refresh_interval, s->clock_);
    if (!configuration.ok()) return configuration.status();
    s->configuration_ = *std::move(configuration);
  } else {
    auto configuration =
        FileConfigurationSource::Load(settings_ref.config.global_configuration_file());
    if (!configuration.ok()) return configuration.status();
    s->configuration_ = *std::move(configuration);
  }
  std::shared_ptr<const Federation> federation = s->configuration_->Current();
  if (federation->ServerById(settings_ref.server_id_text) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "security server ", settings_ref.server_id_text, " is not in the global configuration"));
  }

  auto log = MessageLog::Open(settings_ref.config.message_log().directory(),
                              settings_ref.config.message_log().store_bodies());
  if (!log.ok()) return log.status();
  s->message_log_ = *std::move(log);
  s->replay_cache_ = std::make_unique<ReplayCache>(s->clock_, kReplayCacheCapacity);
  s->metrics_ = std::make_unique<ExchangeMetrics>(s->metrics_registry_);
  s->consumer_ = std::make_unique<ConsumerSide>(settings_ref, *s->configuration_, s->clock_,
                                                *s->message_log_);
  s->provider_ = std::make_unique<ProviderSide>(settings_ref, *s->configuration_, s->clock_,
                                                *s->replay_cache_, *s->message_log_,
                                                s->metrics_.get());
  const int max_payload = static_cast<int>(federation->max_message_bytes());
  const int64_t retention_hours = settings_ref.config.operational_data_retention_hours() > 0
                                      ? settings_ref.config.operational_data_retention_hours()
                                      : 7 * 24;
  s->operational_log_ =
      std::make_unique<OperationalLog>(*s->message_log_, absl::Hours(retention_hours));
  s->operational_service_ = std::make_unique<OperationalService>(*s->consumer_, *s->operational_log_);
  s->local_endpoint_ = std::make_unique<LocalEndpoint>(
      *s->consumer_, settings_ref, max_payload + kEnvelopeAllowance, *s->metrics_,
      *s->operational_log_);
  const int max_backend_call_seconds = settings_ref.config.max_backend_call_seconds() > 0
                                           ? settings_ref.config.max_backend_call_seconds()
                                           : 60;
  s->schema_publisher_ = std::make_unique<SchemaPublisher>(settings_ref, s->clock_);
  s->peer_endpoint_ = std::make_unique<PeerEndpoint>(
      *s->provider_, *s->schema_publisher_, max_payload, absl::Seconds(max_backend_call_seconds), *s->metrics_,
      *s->operational_log_);

  s->metadata_ = std::make_unique<MetadataService>(*s->consumer_, *s->local_endpoint_);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  // Peer endpoint: mutual TLS, client certificates verified against the federation CAs.
  // The handshake also requires a registered, unrevoked server certificate of the
  // configuration in force.
  const ConfigurationSource* source = s->configuration_.get();
  auto peer_credentials = PinnedServerCredentials(
      settings_ref.peer_tls, federation->trusted_ca_pem(),
      [source](const std::string& fingerprint) {
        std::shared_ptr<const Federation> current = source->Current();
        if (current->ServerByAuthenticationCertificate(fingerprint) == nullptr) {
          return absl::UnauthenticatedError(absl::StrCat(
              "TLS client certificate sha256 ", fingerprint,
              " is not registered for any security server"));
        }
        if (current->IsRevoked(fingerprint)) {
          return absl::UnauthenticatedError(
              absl::StrCat("TLS client certificate sha256 ", fingerprint, " is revoked"));
        }
        return absl::OkStatus();
      });
  grpc::ServerBuilder peer_builder;
  ApplyServerLimits(peer_builder);
  peer_builder.RegisterService(s->peer_endpoint_.get());
  peer_builder.SetMaxReceiveMessageSize(max_payload + kEnvelopeAllowance);
  auto peer_server = Listen(peer_builder, "peer", settings_ref.config.peer().listen_address(),
                            peer_credentials);
  if (!peer_server.ok()) return peer_server.status();
  s->peer_server_ = *std::move(peer_server);

  // Local endpoint: TLS with registered client certificates, or loopback plaintext.
  std::shared_ptr<grpc::ServerCredentials> local_credentials;
  if (settings_ref.local_plaintext) {
    local_credentials = grpc::InsecureServerCredentials();
  } else {
    grpc::SslServerCredentialsOptions local_tls(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    local_tls.pem_root_certs = settings_ref.local_client_ca_pem;
    local_tls.pem_key_cert_pairs.push_back(
        {settings_ref.local_tls.key_pem, settings_ref.local_tls.certificate_pem});
    local_credentials = grpc::SslServerCredentials(local_tls);
  }
  grpc::ServerBuilder local_builder;
  ApplyServerLimits(local_builder);
  local_builder.RegisterService(s->metadata_.get());
  local_builder.RegisterService(s->operational_service_.get());
  local_builder.RegisterCallbackGenericService(s->local_endpoint_.get());
  local_builder.SetMaxReceiveMessageSize(max_payload);
  auto local_server = Listen(local_builder, "local", settings_ref.config.local().listen_address(),
                             local_credentials);
  if (!local_server.ok()) return local_server.status();
  s->local_server_ = *std::move(local_server);
  s->schema_cache_ = std::make_unique<SchemaCache>(*s->consumer_, *s->local_endpoint_);
  if (!settings_ref.config.local().rest_listen_address().empty()) {
    s->rest_endpoint_ = std::make_unique<RestEndpoint>(*s->local_endpoint_, *s->schema_cache_,
                                                       settings_ref, max_payload);
    absl::Status rest = s->rest_endpoint_->Start(settings_ref.config.local().rest_listen_address());
    if (!rest.ok()) return rest;
  }
  s->shipper_ = std::make_unique<OutboxShipper>(*s->message_log_, *s->configuration_, settings_ref,
                                                s->clock_, &s->metrics_registry_);
  s->shipper_->Start();
  s->UpdateHealth();
  s->RegisterComputedMetrics();
  if (!settings_ref.config.monitoring_listen_address().empty()) {
    s->monitoring_ = std::make_unique<MonitoringServer>(s->metrics_registry_,
                                                        [server = s.get()] { return server->Health(); });
    absl::Status monitoring = s->monitoring_->Start(settings_ref.config.monitoring_listen_address());
    if (!monitoring.ok()) return monitoring;
  }
  s->health_thread_ = std::thread([server = s.get()] { server->HealthLoop(); });
  Log(LogLevel::kInfo, "server",
      absl::StrCat("security server ", settings_ref.server_id_text, " started; global configuration version ",
                   federation->configuration().version()));
  return s;
}

absl::Status SecurityServer::Health() const {
  absl::MutexLock lock(&health_mu_);
  return health_;
}

void SecurityServer::UpdateHealth() {
  absl::Status health = CheckHealth();
  bool changed;
  {
    absl::MutexLock lock(&health_mu_);
    changed = health.ok() != health_.ok();
    health_ = health;
  }
  for (grpc::Server* server : {local_server_.get(), peer_server_.get()}) {
    if (server && server->GetHealthCheckService()) {
      server->GetHealthCheckService()->SetServingStatus(health.ok());
    }
  }
  if (changed) {
    Log(health.ok() ? LogLevel::kInfo : LogLevel::kError, "health",
        health.ok() ? "serving again" : absl::StrCat("NOT_SERVING: ", health.message()));
  }
}

absl::Status SecurityServer::CheckHealth() const {
  std::vector<std::string> problems;
  absl::Status expiry = CheckNotExpired(*configuration_->Current(), clock_.Now());
  if (!expiry.ok()) problems.push_back(std::string(expiry.message()));
  for (const auto& [member, identity] : settings_->signing_identities) {
    if (!CheckKeyMatchesCertificate(identity.key, identity.certificate).ok()) {
      problems.push_back(absl::StrCat("signing key of ", member, " is unusable"));
    }
  }
  absl::Status log = message_log_->health();
  if (!log.ok()) problems.push_back(absl::StrCat("message log not writable: ", log.message()));
  const absl::Duration stalled = message_log_->WriteStalledFor();
  if (stalled > absl::Seconds(5)) {
    problems.push_back(absl::StrCat("message log: a write has waited on the disk for ",
                                    absl::FormatDuration(stalled)));
  }
  auto oldest = message_log_->OldestOutboxTime();
  const int64_t stuck_seconds = settings_->config.outbox_stuck_seconds() > 0
                                    ? settings_->config.outbox_stuck_seconds()
                                    : 600;
  if (oldest.has_value() && clock_.Now() - *oldest > absl::Seconds(stuck_seconds)) {
    problems.push_back(absl::StrCat("outbox stuck: oldest record waits ",
                                    absl::FormatDuration(clock_.Now() - *oldest)));
  }
  // An outage of the broker is what the outbox is for (the stuck check above covers a long
  // one); anything else stopping records from leaving — answers that do not verify, a
  // refused batch — is something an operator must see now.
  absl::Status shipping = shipper_ ? shipper_->last_problem() : absl::OkStatus();
  if (!shipping.ok() && shipping.code() != absl::StatusCode::kUnavailable) {
    problems.push_back(absl::StrCat("ledger shipping: ", shipping.message()));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrJoin(problems, "; "));
}

void SecurityServer::HealthLoop() {
  for (int tick = 0;; ++tick) {
    if (tick % 600 == 0) {  // every ten minutes: forget operational data past retention
      absl::Status cleaned = operational_log_->DeleteExpired(clock_.Now());
      if (!cleaned.ok()) Log(LogLevel::kWarning, "operational", cleaned.ToString());
    }
    {
      absl::MutexLock lock(&health_mu_);
      if (health_mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(1))) return;
    }
    if (!message_log_->health().ok()) {  // a full or failing disk: try again every second
      absl::Status recovered = message_log_->Recover();
      if (recovered.ok()) Log(LogLevel::kInfo, "message log", "writable again");
    }
    UpdateHealth();
  }
}

void SecurityServer::RegisterComputedMetrics() {
  MetricsRegistry& r = metrics_registry_;
  r.AddComputedGauge("renkei_security_server_outbox_records",
                     "Access records waiting in the outbox for the ledger.",
                     [this] { return static_cast<double>(message_log_->OutboxSize()); });
  r.AddComputedGauge("renkei_security_server_outbox_oldest_age_seconds",
                     "Age of the oldest access record waiting in the outbox (0 when empty).",
                     [this] {
                       auto oldest = message_log_->OldestOutboxTime();
                       if (!oldest.has_value()) return 0.0;
                       return absl::ToDoubleSeconds(clock_.Now() - *oldest);
                     });
  r.AddComputedGauge("renkei_security_server_outbox_quarantine_records",
                     "Access records in the outbox quarantine, waiting for an operator.",
                     [this] { return static_cast<double>(message_log_->QuarantineSize()); });
  r.AddComputedGauge("renkei_security_server_operational_records_dropped",
                     "Operational records not kept since start: the message log was "
                     "overloaded or its disk failing (evidence is never dropped).",
                     [this] { return static_cast<double>(operational_log_->dropped()); });
  r.AddComputedGauge("renkei_security_server_configuration_version",
                     "Version of the global configuration in force.", [this] {
                       return static_cast<double>(configuration_->Current()->configuration().version());
                     });
  r.AddComputedGauge("renkei_security_server_configuration_age_seconds",
                     "Seconds since the configuration was last confirmed current.", [this] {
                       return absl::ToDoubleSeconds(clock_.Now() - configuration_->last_refreshed());
                     });
  r.AddComputedGauge("renkei_security_server_configuration_expiry_seconds",
                     "Seconds until the configuration in force expires (negative: expired).", [this] {
                       const auto& c = configuration_->Current()->configuration();
                       if (!c.has_expires_at()) return 1e9;
                       return absl::ToDoubleSeconds(FromTimestamp(c.expires_at()) - clock_.Now());
                     });
  r.AddComputedGauge("renkei_security_server_message_log_entries",
                     "Entries in the message log.",
                     [this] { return static_cast<double>(message_log_->size()); });
  r.AddComputedGauge("renkei_security_server_healthy",
                     "1 when every health check passes, 0 otherwise.",
                     [this] { return Health().ok() ? 1.0 : 0.0; });
}

void SecurityServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  {
    absl::MutexLock lock(&health_mu_);
    stopping_ = true;
  }
  if (health_thread_.joinable()) health_thread_.join();
  if (monitoring_) monitoring_->Stop();
  gpr_timespec deadline = gpr_time_add(
      gpr_now(GPR_CLOCK_REALTIME),
      gpr_time_from_millis(absl::ToInt64Milliseconds(grace), GPR_TIMESPAN));
  // Local first: no new outgoing exchanges (the JSON entry's listener and the gRPC server
  // stop accepting together; both let the calls they serve finish within the grace period,
  // then those still running are cancelled); then peer: answers in flight still complete.
  std::thread rest_stopping;
  if (rest_endpoint_) rest_stopping = std::thread([this] { rest_endpoint_->Stop(); });
  if (local_server_) local_server_->Shutdown(deadline);
  if (local_endpoint_ && !local_endpoint_->WaitForExchanges(absl::Now() + grace)) {
    Log(LogLevel::kWarning, "server",
        "cancelling the exchanges still running at the end of the grace period");
    local_endpoint_->CancelExchanges();
    local_endpoint_->WaitForExchanges(absl::InfiniteFuture());
  }
  if (rest_stopping.joinable()) rest_stopping.join();
  if (schema_publisher_) schema_publisher_->Stop();
  if (peer_server_) peer_server_->Shutdown(deadline);
  // Last: one more attempt to ship what the drained calls recorded.
  if (shipper_) {
    shipper_->Stop();
    bool more_waiting = false;
    shipper_->ShipOnce(&more_waiting).IgnoreError();
  }
}

SecurityServer::~SecurityServer() { Shutdown(absl::ZeroDuration()); }

}  // namespace renkei
