// Signed tree heads: the ledger's signed statement "the log had `size` entries with this
// root at this time". The signature covers a fixed byte layout that any verifier, a browser
// included, can rebuild without protobuf:
//   "renkei/v1 tree-head" || 0x00 || size (u64 BE) || timestamp_ms (u64 BE) || root (32 bytes)
// (the typed-signature context of common/typed_signature.h, then the fields).
// Thread-safe (pure functions).
#ifndef RENKEI_AUDIT_TREE_HEAD_H_
#define RENKEI_AUDIT_TREE_HEAD_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/certificates.h"
#include "renkei/v1/ledger.pb.h"

namespace renkei::audit {

std::string TreeHeadSigningInput(uint64_t size, int64_t timestamp_ms, absl::string_view root);

absl::StatusOr<v1::SignedTreeHead> SignTreeHead(uint64_t size, int64_t timestamp_ms,
                                                const std::string& root, const PrivateKey& key);

// UNAUTHENTICATED unless `head` is signed by `signer` (ECDSA P-256 / SHA-256) and well formed.
absl::Status VerifyTreeHead(const v1::SignedTreeHead& head, const Certificate& signer);

}  // namespace renkei::audit

#endif  // RENKEI_AUDIT_TREE_HEAD_H_
