// Broker: the central party's server — registry store, configuration publisher, the
// distribution endpoint (plaintext: the document is signed) and the admin endpoint (mutual
// TLS with operator certificates) — started from one BrokerConfig file. Thread-safe.
#ifndef RENKEI_BROKER_BROKER_H_
#define RENKEI_BROKER_BROKER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/broker_services.h"
#include "broker/ledger_services.h"
#include "broker/resident_portal.h"
#include "common/metrics.h"
#include "common/monitoring_server.h"
#include <thread>
#include "broker/configuration_publisher.h"
#include "broker/registry_store.h"
#include "grpcpp/server.h"
#include "renkei/v1/config.pb.h"

namespace renkei {

class Broker {
 public:
  // Loads and validates `config_path` (INVALID_ARGUMENT / NOT_FOUND naming the problem),
  // opens the store, writes the anchor file if configured, and starts both endpoints.
  static absl::StatusOr<std::unique_ptr<Broker>> Start(const std::string& config_path);
  ~Broker();
  void Shutdown(absl::Duration grace);

  // OK when serving; otherwise every failing check (ledger store not writable, the
  // configuration-signing key unusable). Checked once a second; this is the latest result.
  absl::Status Health() const;

 private:
  Broker() = default;
  // Signs tree heads at the configured interval and keeps gRPC health current.
  void Housekeeping(absl::Duration interval);
  absl::Status CheckHealth();
  void UpdateHealth();

  v1::BrokerConfig config_;
  RealClock clock_;
  std::unique_ptr<RegistryStore> store_;
  std::unique_ptr<ConfigurationPublisher> publisher_;
  std::unique_ptr<Pseudonymizer> pseudonymizer_;
  std::unique_ptr<AccessLedger> ledger_;
  std::unique_ptr<LedgerService> ledger_service_;
  std::unique_ptr<ResidentService> resident_service_;
  std::unique_ptr<ResidentPortal> portal_;
  MetricsRegistry metrics_registry_;
  std::unique_ptr<BrokerMetrics> metrics_;
  std::unique_ptr<MonitoringServer> monitoring_;
  std::unique_ptr<PrivateKey> health_probe_key_;
  std::unique_ptr<Certificate> health_probe_certificate_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status health_ ABSL_GUARDED_BY(mu_);
  std::thread housekeeping_;
  bool shut_down_ = false;
  std::unique_ptr<DistributionService> distribution_;
  std::unique_ptr<AdminService> admin_;
  // Declared last, so destroyed first: nothing above may go while a server could call it.
  std::unique_ptr<grpc::Server> distribution_server_;
  std::unique_ptr<grpc::Server> admin_server_;
};

}  // namespace renkei

#endif  // RENKEI_BROKER_BROKER_H_
