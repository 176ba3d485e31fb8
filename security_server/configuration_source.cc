#include "security_server/configuration_source.h"

#include "absl/strings/str_cat.h"
#include "common/text_proto.h"
#include "common/envelope.h"

namespace renkei {

absl::StatusOr<std::unique_ptr<FileConfigurationSource>> FileConfigurationSource::Load(
    const std::string& path) {
  v1::GlobalConfiguration configuration;
  absl::Status status = LoadTextProtoFile(path, &configuration);
  if (!status.ok()) return status;
  auto federation = Federation::Create(std::move(configuration));
  if (!federation.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", federation.status().message()));
  }
  return std::unique_ptr<FileConfigurationSource>(new FileConfigurationSource(*federation));
}

absl::Status CheckNotExpired(const Federation& federation, absl::Time now) {
  const v1::GlobalConfiguration& c = federation.configuration();
  if (!c.has_expires_at()) return absl::OkStatus();
  absl::Time expiry = FromTimestamp(c.expires_at());
  if (now < expiry) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "global configuration version ", c.version(), " expired at ",
      absl::FormatTime(expiry, absl::UTCTimeZone()),
      "; exchanges are refused until a fresh configuration arrives"));
}

}  // namespace renkei
