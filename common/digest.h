// SHA-256, hex encoding and constant-time comparison. Thread-safe (pure functions).
#ifndef RENKEI_COMMON_DIGEST_H_
#define RENKEI_COMMON_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"

namespace renkei {

// Returns the 32-byte SHA-256 digest of `data`.
std::string Sha256(absl::string_view data);

// HMAC-SHA256 of `data` under `key` (32 bytes).
std::string HmacSha256(absl::string_view key, absl::string_view data);

// Lowercase hex of `bytes`.
std::string ToHex(absl::string_view bytes);

// Compares two byte strings in time that depends only on their lengths (for MACs, digests).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// `n` bytes from OpenSSL's CSPRNG.
std::string RandomBytes(size_t n);

}  // namespace renkei

#endif  // RENKEI_COMMON_DIGEST_H_
