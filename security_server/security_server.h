// SecurityServer: one running security server — its settings, configuration source, message
// log, replay cache, and the local and peer gRPC servers — wired together.
//
// Start() returns once both endpoints listen. Shutdown() stops accepting calls, lets calls in
// flight finish (up to a grace period) and closes the message log. Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_SECURITY_SERVER_H_
#define RENKEI_SECURITY_SERVER_SECURITY_SERVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "security_server/configuration_source.h"
#include "security_server/consumer_side.h"
#include "security_server/local_endpoint.h"
#include "security_server/message_log.h"
#include "security_server/metadata_service.h"
#include "security_server/operational_log.h"
#include "security_server/operational_service.h"
#include "security_server/outbox_shipper.h"
#include "security_server/server_metrics.h"
#include "common/metrics.h"
#include "common/monitoring_server.h"
#include <thread>
#include "security_server/peer_endpoint.h"
#include "security_server/provider_side.h"
#include "security_server/replay_cache.h"
#include "security_server/rest_endpoint.h"
#include "security_server/schema_cache.h"
#include "security_server/schema_publisher.h"
#include "security_server/settings.h"

namespace renkei {

class SecurityServer {
 public:
  static absl::StatusOr<std::unique_ptr<SecurityServer>> Start(
      std::unique_ptr<const Settings> settings);
  ~SecurityServer();

  void Shutdown(absl::Duration grace);

  // OK when serving; otherwise every failing check: configuration expired, a signing key
  // unusable, the message log not writable, the outbox stuck. Checked once a second; this is
  // the latest result (what /healthz, the healthy gauge and gRPC health report).
  absl::Status Health() const;

 private:
  SecurityServer() = default;
  void RegisterComputedMetrics();
  void HealthLoop();
  absl::Status CheckHealth() const;
  void UpdateHealth();

  std::unique_ptr<const Settings> settings_;
  RealClock clock_;
  std::unique_ptr<ConfigurationSource> configuration_;
  std::unique_ptr<MessageLog> message_log_;
  std::unique_ptr<ReplayCache> replay_cache_;
  std::unique_ptr<ConsumerSide> consumer_;
  std::unique_ptr<ProviderSide> provider_;
  std::unique_ptr<LocalEndpoint> local_endpoint_;
  std::unique_ptr<SchemaPublisher> schema_publisher_;
  std::unique_ptr<PeerEndpoint> peer_endpoint_;
  std::unique_ptr<SchemaCache> schema_cache_;
  std::unique_ptr<RestEndpoint> rest_endpoint_;  // with local.rest_listen_address
  std::unique_ptr<MetadataService> metadata_;
  std::unique_ptr<OperationalLog> operational_log_;
  std::unique_ptr<OperationalService> operational_service_;
  std::unique_ptr<OutboxShipper> shipper_;
  MetricsRegistry metrics_registry_;
  std::unique_ptr<ExchangeMetrics> metrics_;
  std::unique_ptr<MonitoringServer> monitoring_;
  mutable absl::Mutex health_mu_;
  bool stopping_ ABSL_GUARDED_BY(health_mu_) = false;
  absl::Status health_ ABSL_GUARDED_BY(health_mu_);
  std::thread health_thread_;
  bool shut_down_ = false;
  // Declared last, so destroyed first: nothing above may go while a server could call it.
  std::unique_ptr<grpc::Server> local_server_;
  std::unique_ptr<grpc::Server> peer_server_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_SECURITY_SERVER_H_
