// The broker's gRPC services: a thin layer that authenticates the caller, calls the store or
// the publisher, and maps the status. Thread-safe.
#ifndef RENKEI_BROKER_BROKER_SERVICES_H_
#define RENKEI_BROKER_BROKER_SERVICES_H_

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "broker/access_ledger.h"
#include "broker/broker_metrics.h"
#include "broker/configuration_publisher.h"
#include "common/pseudonym.h"
#include "broker/registry_store.h"
#include "common/clock.h"
#include "renkei/v1/broker.grpc.pb.h"

namespace renkei {

class DistributionService final : public v1::ConfigurationDistribution::CallbackService {
 public:
  explicit DistributionService(ConfigurationPublisher& publisher) : publisher_(publisher) {}
  grpc::ServerUnaryReactor* GetConfiguration(grpc::CallbackServerContext* context,
                                             const v1::GetConfigurationRequest* request,
                                             v1::GetConfigurationResponse* response) override;

 private:
  ConfigurationPublisher& publisher_;
};

class AdminService final : public v1::RegistryAdmin::CallbackService {
 public:
  // `operators`: certificate fingerprint → operator name. Only they may call.
  AdminService(RegistryStore& store, AccessLedger& ledger, const Pseudonymizer& pseudonymizer,
               std::map<std::string, std::string> operators, const Clock& clock,
               BrokerMetrics& metrics)
      : store_(store), ledger_(ledger), pseudonymizer_(pseudonymizer),
        operators_(std::move(operators)), clock_(clock), metrics_(metrics) {}

  grpc::ServerUnaryReactor* EnrollResident(grpc::CallbackServerContext* context,
                                           const v1::EnrollResidentRequest* request,
                                           v1::EnrollResidentResponse* response) override;
  grpc::ServerUnaryReactor* ApplyChange(grpc::CallbackServerContext* context,
                                        const v1::RegistryChange* change,
                                        v1::ApplyChangeResponse* response) override;
  grpc::ServerUnaryReactor* GetRegistry(grpc::CallbackServerContext* context,
                                        const v1::GetRegistryRequest* request,
                                        v1::GlobalConfiguration* response) override;
  grpc::ServerUnaryReactor* ListAdminLog(grpc::CallbackServerContext* context,
                                         const v1::ListAdminLogRequest* request,
                                         v1::ListAdminLogResponse* response) override;

 private:
  // The calling operator, or PERMISSION_DENIED.
  absl::StatusOr<OperatorIdentity> Authenticate(grpc::CallbackServerContext* context) const;
  // Binds the resident's key after recording the enrollment in the admin log. ALREADY_EXISTS
  // when the resident has a key and the request does not say to replace it.
  absl::Status Enroll(const v1::EnrollResidentRequest& request, const OperatorIdentity& who);

  RegistryStore& store_;
  AccessLedger& ledger_;
  const Pseudonymizer& pseudonymizer_;
  const std::map<std::string, std::string> operators_;
  const Clock& clock_;
  BrokerMetrics& metrics_;
  absl::Mutex enroll_mu_;  // the check for an existing key and the enrollment form one step
};

}  // namespace renkei

#endif  // RENKEI_BROKER_BROKER_SERVICES_H_
