// Signing (broker) and verifying (security servers) the global configuration document.
//
// The signature covers the exact serialized GlobalConfiguration bytes; they are parsed only
// after it verifies. Thread-safe (pure functions).
#ifndef RENKEI_COMMON_SIGNED_CONFIGURATION_H_
#define RENKEI_COMMON_SIGNED_CONFIGURATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/certificates.h"
#include "renkei/v1/broker.pb.h"
#include "renkei/v1/config.pb.h"

namespace renkei {

absl::StatusOr<v1::SignedGlobalConfiguration> SignConfiguration(
    const v1::GlobalConfiguration& configuration, const PrivateKey& key);

// Verifies `signed_configuration` with the anchor's `signing_certificate` and returns the
// document. UNAUTHENTICATED: wrong algorithm or a signature that does not verify.
// INVALID_ARGUMENT: unparsable, or of another instance than `instance`.
// FAILED_PRECONDITION: expired at `now` (skipped when `now` is InfinitePast, for reading a
// cached copy whose expiry is enforced later, per exchange).
absl::StatusOr<v1::GlobalConfiguration> VerifyConfiguration(
    const v1::SignedGlobalConfiguration& signed_configuration,
    const Certificate& signing_certificate, const std::string& instance, absl::Time now);

// Whether `candidate` should replace `held`: OK for a newer version, or the same version
// re-signed with a later expiry; ALREADY_EXISTS when it brings nothing new;
// FAILED_PRECONDITION for an older version (a rollback is never accepted).
absl::Status CheckSupersedes(const v1::GlobalConfiguration& candidate,
                             const v1::GlobalConfiguration& held);

}  // namespace renkei

#endif  // RENKEI_COMMON_SIGNED_CONFIGURATION_H_
