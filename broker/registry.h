// The registry rules: how one RegistryChange turns the current configuration into the next.
// Pure functions over protos; thread-safe.
#ifndef RENKEI_BROKER_REGISTRY_H_
#define RENKEI_BROKER_REGISTRY_H_

#include "absl/status/statusor.h"
#include "renkei/v1/broker.pb.h"
#include "renkei/v1/config.pb.h"

namespace renkei {

// Returns `current` with `change` applied (version and expiry untouched), validated as a
// whole. Errors name the offending identifier:
//   INVALID_ARGUMENT     malformed identifier, certificate or fingerprint; empty change
//   ALREADY_EXISTS       adding what exists
//   NOT_FOUND            removing or referring to what does not exist
//   FAILED_PRECONDITION  removing what is still referred to; anything before the first CA
absl::StatusOr<v1::GlobalConfiguration> ApplyRegistryChange(const v1::GlobalConfiguration& current,
                                                            const v1::RegistryChange& change);

}  // namespace renkei

#endif  // RENKEI_BROKER_REGISTRY_H_
