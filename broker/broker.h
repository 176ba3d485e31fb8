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

 private:
  Broker() = default;

  v1::BrokerConfig config_;
  RealClock clock_;
  std::unique_ptr<RegistryStore> store_;
  std::unique_ptr<ConfigurationPublisher> publisher_;
  std::unique_ptr<Pseudonymizer> pseudonymizer_;
  std::unique_ptr<AccessLedger> ledger_;
  std::unique_ptr<LedgerService> ledger_service_;
  std::unique_ptr<ResidentService> resident_service_;
  std::unique_ptr<ResidentPortal> portal_;
  std::unique_ptr<DistributionService> distribution_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<grpc::Server> distribution_server_;
  std::unique_ptr<grpc::Server> admin_server_;
};

}  // namespace renkei

#endif  // RENKEI_BROKER_BROKER_H_
