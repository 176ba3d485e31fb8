// Signing and verifying headers of the signed envelope (schemas/renkei/v1/envelope.proto).
//
// The signature covers the exact header bytes that travel. Verification never parses the
// header before its signature has verified. Thread-safe (pure functions over immutable
// inputs).
#ifndef RENKEI_COMMON_ENVELOPE_H_
#define RENKEI_COMMON_ENVELOPE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/certificates.h"
#include "common/typed_signature.h"
#include "renkei/v1/envelope.pb.h"
#include "common/federation.h"

namespace renkei {

// A member's signing identity: its certificate and private key.
struct SigningIdentity {
  v1::MemberId member;
  Certificate certificate;
  PrivateKey key;
};

// Signs `header_bytes` (a serialized RequestHeader, ResponseHeader or RecordBatch) as an
// object of `type` (common/typed_signature.h).
absl::StatusOr<v1::SignedHeader> SignHeader(SignedType type, std::string header_bytes,
                                            const SigningIdentity& signer);

// Verifies that `signed_header` is an object of `type` signed by `signed_header.signer()`
// with a certificate that is registered for that member in `federation`, chains to a trusted
// CA, is not revoked and uses ECDSA P-256. UNAUTHENTICATED naming the failed check otherwise.
// A signature made for any other type never verifies.
// `at`: the time the signature was made, when it is checked later (the certificate must have
// been valid then); now by default.
absl::Status VerifySignedHeader(SignedType type, const v1::SignedHeader& signed_header,
                                const Federation& federation,
                                absl::Time at = absl::InfiniteFuture());

// UNAUTHENTICATED when `created_at` is further than `max_skew` from `now` (either side).
absl::Status CheckFreshness(const google::protobuf::Timestamp& created_at, absl::Time now,
                            absl::Duration max_skew);

// A fresh 128-bit random message id, lowercase hex.
std::string NewMessageId();
// True for what NewMessageId makes: exactly 32 lowercase hex digits.
bool IsMessageId(absl::string_view id);

// Limits on what a request header may say about an exchange (the access record keeps it).
inline constexpr int kMaxSubjects = 100;
inline constexpr size_t kMaxFieldBytes = 256;

// OK when every field of `header` that the access record will hold is within the federation's
// rules: message id as IsMessageId; 1 to kMaxSubjects subjects, each 1 to kMaxFieldBytes of
// printable ASCII; a purpose of 1 to kMaxFieldBytes and a user of at most kMaxFieldBytes, both
// printable ASCII. INVALID_ARGUMENT naming the first field that is not. Both security servers
// check it: the consumer's before signing, the provider's before believing a peer.
absl::Status ValidateRequestHeaderFields(const v1::RequestHeader& header);

google::protobuf::Timestamp ToTimestamp(absl::Time time);
absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp);

}  // namespace renkei

#endif  // RENKEI_COMMON_ENVELOPE_H_
