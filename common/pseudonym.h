// Pseudonyms of residents: HMAC-SHA256(federation pepper, resident id). Raw resident numbers
// never reach the ledger; security servers and the broker compute the same pseudonym from the
// same pepper. The pepper is a secret (file mode 0600, never logged). Thread-safe.
#ifndef RENKEI_COMMON_PSEUDONYM_H_
#define RENKEI_COMMON_PSEUDONYM_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace renkei {

class Pseudonymizer {
 public:
  // The pepper file holds 64 hex digits (32 bytes), as `renkeictl pki create-pepper` writes.
  // It is read with ReadSecretFile (common/files.h): FAILED_PRECONDITION unless it is a
  // regular file of mode 0600 (or stricter) owned by this process's user or root.
  static absl::StatusOr<Pseudonymizer> FromFile(const std::string& path);
  static absl::StatusOr<Pseudonymizer> FromHex(absl::string_view hex);
  ~Pseudonymizer();
  Pseudonymizer(const Pseudonymizer&) = default;
  Pseudonymizer& operator=(const Pseudonymizer&) = default;

  // 32 bytes.
  std::string Pseudonym(absl::string_view resident_id) const;

 private:
  explicit Pseudonymizer(std::string pepper) : pepper_(std::move(pepper)) {}
  std::string pepper_;
};

}  // namespace renkei

#endif  // RENKEI_COMMON_PSEUDONYM_H_
