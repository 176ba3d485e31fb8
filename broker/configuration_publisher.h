// ConfigurationPublisher: the signed global configuration the broker serves. It signs the
// registry's current version with the configuration-signing key, with an expiry time, and
// re-signs when the version changes or half the validity has passed, so that security servers
// that refresh regularly never hold an expired copy while the broker is up. Thread-safe.
#ifndef RENKEI_BROKER_CONFIGURATION_PUBLISHER_H_
#define RENKEI_BROKER_CONFIGURATION_PUBLISHER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/registry_store.h"
#include "common/certificates.h"
#include "common/clock.h"
#include "renkei/v1/broker.pb.h"

namespace renkei {

class ConfigurationPublisher {
 public:
  // `ledger_addresses` are published for security servers to ship access records to.
  ConfigurationPublisher(const RegistryStore& store, PrivateKey signing_key,
                         absl::Duration validity, const Clock& clock,
                         std::vector<std::string> ledger_addresses = {});

  // UNAVAILABLE while the registry holds nothing yet (version 0).
  absl::StatusOr<v1::SignedGlobalConfiguration> Current();

 private:
  const RegistryStore& store_;
  const PrivateKey signing_key_;
  const absl::Duration validity_;
  const Clock& clock_;
  const std::vector<std::string> ledger_addresses_;
  absl::Mutex mu_;
  v1::SignedGlobalConfiguration signed_ ABSL_GUARDED_BY(mu_);
  int64_t signed_version_ ABSL_GUARDED_BY(mu_) = -1;
  absl::Time signed_at_ ABSL_GUARDED_BY(mu_);
};

}  // namespace renkei

#endif  // RENKEI_BROKER_CONFIGURATION_PUBLISHER_H_
