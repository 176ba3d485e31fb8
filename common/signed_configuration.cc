#include "common/signed_configuration.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/typed_signature.h"

namespace renkei {
namespace {

absl::Time ExpiryOf(const v1::GlobalConfiguration& configuration) {
  return absl::FromUnixSeconds(configuration.expires_at().seconds()) +
         absl::Nanoseconds(configuration.expires_at().nanos());
}

}  // namespace

absl::StatusOr<v1::SignedGlobalConfiguration> SignConfiguration(
    const v1::GlobalConfiguration& configuration, const PrivateKey& key) {
  v1::SignedGlobalConfiguration signed_configuration;
  signed_configuration.set_configuration(configuration.SerializeAsString());
  auto signature =
      SignTyped(key, SignedType::kConfiguration, signed_configuration.configuration());
  if (!signature.ok()) return signature.status();
  signed_configuration.set_signature(*std::move(signature));
  signed_configuration.set_algorithm(v1::ECDSA_P256_SHA256);
  return signed_configuration;
}

absl::StatusOr<v1::GlobalConfiguration> VerifyConfiguration(
    const v1::SignedGlobalConfiguration& signed_configuration,
    const Certificate& signing_certificate, const std::string& instance, absl::Time now) {
  if (signed_configuration.algorithm() != v1::ECDSA_P256_SHA256) {
    return absl::UnauthenticatedError(
        absl::StrCat("global configuration signed with unsupported algorithm ",
                     v1::SignatureAlgorithm_Name(signed_configuration.algorithm())));
  }
  if (!VerifyTyped(signing_certificate, SignedType::kConfiguration,
                   signed_configuration.configuration(), signed_configuration.signature())) {
    return absl::UnauthenticatedError(
        "global configuration signature does not verify with the anchor's certificate");
  }
  v1::GlobalConfiguration configuration;
  if (!configuration.ParseFromString(signed_configuration.configuration())) {
    return absl::InvalidArgumentError("global configuration is malformed");
  }
  if (configuration.instance() != instance) {
    return absl::InvalidArgumentError(absl::StrCat("global configuration is for instance \"",
                                                   configuration.instance(), "\", not \"",
                                                   instance, "\""));
  }
  if (now != absl::InfinitePast()) {
    if (!configuration.has_expires_at()) {
      return absl::InvalidArgumentError("global configuration carries no expiry time");
    }
    if (ExpiryOf(configuration) <= now) {
      return absl::FailedPreconditionError(absl::StrCat(
          "global configuration version ", configuration.version(), " expired at ",
          absl::FormatTime(ExpiryOf(configuration), absl::UTCTimeZone())));
    }
  }
  return configuration;
}

absl::Status CheckSupersedes(const v1::GlobalConfiguration& candidate,
                             const v1::GlobalConfiguration& held) {
  if (candidate.version() < held.version()) {
    return absl::FailedPreconditionError(
        absl::StrCat("global configuration version ", candidate.version(),
                     " is older than the version ", held.version(), " already held"));
  }
  if (candidate.version() == held.version() && ExpiryOf(candidate) <= ExpiryOf(held)) {
    return absl::AlreadyExistsError(
        absl::StrCat("global configuration version ", candidate.version(), " already held"));
  }
  return absl::OkStatus();
}

}  // namespace renkei
