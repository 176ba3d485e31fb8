#include "audit/tree_head.h"

#include "absl/status/status.h"
#include "audit/merkle.h"
#include "common/storage_helpers.h"
#include "common/typed_signature.h"

namespace renkei::audit {
std::string TreeHeadSigningInput(uint64_t size, int64_t timestamp_ms, absl::string_view root) {
  std::string fields;
  AppendBigEndian64(fields, size);
  AppendBigEndian64(fields, static_cast<uint64_t>(timestamp_ms));
  fields.append(root.data(), root.size());
  return SigningInput(SignedType::kTreeHead, fields);
}

absl::StatusOr<v1::SignedTreeHead> SignTreeHead(uint64_t size, int64_t timestamp_ms,
                                                const std::string& root, const PrivateKey& key) {
  auto signature = key.Sign(TreeHeadSigningInput(size, timestamp_ms, root));
  if (!signature.ok()) return signature.status();
  v1::SignedTreeHead head;
  head.set_tree_size(size);
  head.set_root_hash(root);
  head.set_timestamp_ms(timestamp_ms);
  head.set_signature(*std::move(signature));
  head.set_algorithm(v1::ECDSA_P256_SHA256);
  return head;
}

absl::Status VerifyTreeHead(const v1::SignedTreeHead& head, const Certificate& signer) {
  if (head.algorithm() != v1::ECDSA_P256_SHA256 || head.root_hash().size() != kHashSize) {
    return absl::UnauthenticatedError("tree head is malformed");
  }
  if (!signer.VerifySignature(
          TreeHeadSigningInput(head.tree_size(), head.timestamp_ms(), head.root_hash()),
          head.signature())) {
    return absl::UnauthenticatedError("tree head signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace renkei::audit
