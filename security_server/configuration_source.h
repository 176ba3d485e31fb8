// ConfigurationSource: where a security server gets the federation's global configuration.
//
// BrokerConfigurationSource follows the broker's signed configuration; FileConfigurationSource
// reads a fixed file at start (development, tests). Implementations are thread-safe;
// Current() is called on every exchange and must be cheap.
#ifndef RENKEI_SECURITY_SERVER_CONFIGURATION_SOURCE_H_
#define RENKEI_SECURITY_SERVER_CONFIGURATION_SOURCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/federation.h"

namespace renkei {

class ConfigurationSource {
 public:
  virtual ~ConfigurationSource() = default;
  // The configuration in force; never null once the source has been created.
  virtual std::shared_ptr<const Federation> Current() const = 0;
  // When the configuration was last confirmed current (loaded, or fetched from the broker).
  virtual absl::Time last_refreshed() const = 0;
};

class FileConfigurationSource final : public ConfigurationSource {
 public:
  static absl::StatusOr<std::unique_ptr<FileConfigurationSource>> Load(const std::string& path);
  std::shared_ptr<const Federation> Current() const override { return federation_; }
  absl::Time last_refreshed() const override { return loaded_at_; }

 private:
  explicit FileConfigurationSource(std::shared_ptr<const Federation> federation)
      : federation_(std::move(federation)), loaded_at_(absl::Now()) {}
  const std::shared_ptr<const Federation> federation_;
  const absl::Time loaded_at_;
};

// UNAVAILABLE when `federation` carries an expiry time that has passed: exchanges fail
// closed until a fresh configuration arrives.
absl::Status CheckNotExpired(const Federation& federation, absl::Time now);

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_CONFIGURATION_SOURCE_H_
