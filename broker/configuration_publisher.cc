#include "broker/configuration_publisher.h"

#include "absl/status/status.h"
#include "common/signed_configuration.h"

namespace renkei {

ConfigurationPublisher::ConfigurationPublisher(const RegistryStore& store, PrivateKey signing_key,
                                               absl::Duration validity, const Clock& clock,
                                               std::vector<std::string> ledger_addresses)
    : store_(store),
      signing_key_(std::move(signing_key)),
      validity_(validity),
      clock_(clock),
      ledger_addresses_(std::move(ledger_addresses)) {}

absl::StatusOr<v1::SignedGlobalConfiguration> ConfigurationPublisher::Current() {
  v1::GlobalConfiguration configuration = store_.Current();
  if (configuration.version() == 0) {
    return absl::UnavailableError(
        "the broker's registry is empty: register a trusted CA and members first");
  }
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (configuration.version() != signed_version_ || now - signed_at_ >= validity_ / 2) {
    configuration.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(now + validity_));
    for (const std::string& address : ledger_addresses_) configuration.add_ledger_addresses(address);
    auto signed_configuration = SignConfiguration(configuration, signing_key_);
    if (!signed_configuration.ok()) return signed_configuration.status();
    signed_ = *std::move(signed_configuration);
    signed_version_ = configuration.version();
    signed_at_ = now;
  }
  return signed_;
}

}  // namespace renkei
