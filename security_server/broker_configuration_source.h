// BrokerConfigurationSource: follows the broker's signed global configuration.
//
// At start it reads the cached copy (if any) and fetches from the broker; it needs at least
// one of them. A background thread refetches every `refresh_interval`. A fetched document
// replaces the held one only when its signature verifies against the anchor, it is of the
// anchor's instance, not expired, newer (or the same version with a later expiry), and valid
// as a whole; otherwise it is logged and the previous one kept. Every accepted document is
// written to the cache file, so a restart while the broker is down starts from it. Expiry
// is enforced per exchange (CheckNotExpired): fail closed.
//
// Thread-safe. Current() takes a reader lock and copies a shared_ptr.
#ifndef RENKEI_SECURITY_SERVER_BROKER_CONFIGURATION_SOURCE_H_
#define RENKEI_SECURITY_SERVER_BROKER_CONFIGURATION_SOURCE_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/certificates.h"
#include "common/clock.h"
#include "renkei/v1/broker.grpc.pb.h"
#include "renkei/v1/config.pb.h"
#include "security_server/configuration_source.h"

namespace renkei {

class BrokerConfigurationSource final : public ConfigurationSource {
 public:
  static absl::StatusOr<std::unique_ptr<BrokerConfigurationSource>> Start(
      const v1::ConfigurationAnchor& anchor, const std::string& cache_file,
      absl::Duration refresh_interval, const Clock& clock);
  ~BrokerConfigurationSource() override;

  std::shared_ptr<const Federation> Current() const override;
  absl::Time last_refreshed() const override;

  // One fetch-verify-install round; what the refresh thread runs. OK when a document was
  // installed or the held one is current.
  absl::Status Refresh();

 private:
  BrokerConfigurationSource(const v1::ConfigurationAnchor& anchor, Certificate signing_certificate,
                            std::string cache_file, absl::Duration refresh_interval,
                            const Clock& clock);
  absl::StatusOr<v1::SignedGlobalConfiguration> Fetch();
  // Verifies and installs `signed_configuration`; `from_cache` skips the expiry check.
  absl::Status Install(const v1::SignedGlobalConfiguration& signed_configuration, bool from_cache);
  void RefreshLoop();

  const v1::ConfigurationAnchor anchor_;
  const Certificate signing_certificate_;
  const std::string cache_file_;
  const absl::Duration refresh_interval_;
  const Clock& clock_;
  std::vector<std::unique_ptr<v1::ConfigurationDistribution::Stub>> brokers_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Federation> current_ ABSL_GUARDED_BY(mu_);
  absl::Time last_refreshed_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread refresher_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_BROKER_CONFIGURATION_SOURCE_H_
