// RFC 6962 / RFC 9162 Merkle tree hashing and proof verification.
//
//   leaf hash  = SHA-256(0x00 || entry)
//   node hash  = SHA-256(0x01 || left || right)
//   empty tree = SHA-256("")
//
// The verifiers implement RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) and need
// nothing but the hashes: they are the offline verifier's core. Thread-safe (pure functions).
#ifndef RENKEI_AUDIT_MERKLE_H_
#define RENKEI_AUDIT_MERKLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace renkei::audit {

inline constexpr size_t kHashSize = 32;

std::string LeafHash(absl::string_view entry);
std::string NodeHash(absl::string_view left, absl::string_view right);
std::string EmptyTreeRoot();

// The largest power of two strictly smaller than `n` (n >= 2): where RFC 6962 splits.
uint64_t SplitPoint(uint64_t n);

// OK when `proof` shows the leaf with `leaf_hash` at `index` is in the tree of `tree_size`
// leaves whose root is `root`; DATA_LOSS saying why otherwise (INVALID_ARGUMENT for an
// index outside the tree).
absl::Status VerifyInclusion(absl::string_view leaf_hash, uint64_t index, uint64_t tree_size,
                             const std::vector<std::string>& proof, absl::string_view root);

// OK when `proof` shows the tree of `size1` leaves with `root1` is a prefix of the tree of
// `size2` leaves with `root2`.
absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, absl::string_view root1,
                               absl::string_view root2, const std::vector<std::string>& proof);

}  // namespace renkei::audit

#endif  // RENKEI_AUDIT_MERKLE_H_
