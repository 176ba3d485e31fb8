// Signing and verifying headers of the signed envelope (schemas/renkei/v1/envelope.proto).
//
// The signature covers the exact header bytes that travel. Verification never parses the
// header before its signature has verified. Thread-safe (pure functions over immutable
// inputs).
#ifndef RENKEI_COMMON_ENVELOPE_H_
#define RENKEI_COMMON_ENVELOPE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/certificates.h"
#include "renkei/v1/envelope.pb.h"
#include "common/federation.h"

namespace renkei {

// A member's signing identity: its certificate and private key.
struct SigningIdentity {
  v1::MemberId member;
  Certificate certificate;
  PrivateKey key;
};

// Signs `header_bytes` (a serialized RequestHeader or ResponseHeader).
absl::StatusOr<v1::SignedHeader> SignHeader(std::string header_bytes,
                                            const SigningIdentity& signer);

// Verifies that `signed_header` was signed by `signed_header.signer()` with a certificate
// that is registered for that member in `federation`, chains to a trusted CA, is not revoked
// and uses ECDSA P-256. UNAUTHENTICATED naming the failed check otherwise.
absl::Status VerifySignedHeader(const v1::SignedHeader& signed_header,
                                const Federation& federation);

// UNAUTHENTICATED when `created_at` is further than `max_skew` from `now` (either side).
absl::Status CheckFreshness(const google::protobuf::Timestamp& created_at, absl::Time now,
                            absl::Duration max_skew);

// A fresh 128-bit random message id, lowercase hex.
std::string NewMessageId();

google::protobuf::Timestamp ToTimestamp(absl::Time time);
absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp);

}  // namespace renkei

#endif  // RENKEI_COMMON_ENVELOPE_H_
