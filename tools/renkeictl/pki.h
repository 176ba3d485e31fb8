// Certificate issuance for the federation PKI (development, tests and the demo; production
// brings its own CA). ECDSA P-256 throughout. Thread-safe (no shared state).
#ifndef RENKEI_TOOLS_RENKEICTL_PKI_H_
#define RENKEI_TOOLS_RENKEICTL_PKI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/certificates.h"

namespace renkei {

enum class CertificateKind {
  kCertificateAuthority,
  // TLS in both directions (security servers' mTLS, local endpoint and its callers).
  kTls,
  // Message signing only (a member's signing certificate).
  kSigning,
};

struct CertificateRequest {
  CertificateKind kind = CertificateKind::kTls;
  std::string common_name;
  std::string organization;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  int validity_days = 365;
  // Negative: valid from that many days ago (tests issue expired certificates this way).
  int not_before_days = 0;
};

// Issues a certificate for `subject_key`. With `issuer` null it is self-signed by
// `issuer_key` (which must then be `subject_key`).
absl::StatusOr<Certificate> IssueCertificate(const CertificateRequest& request,
                                             const PrivateKey& subject_key,
                                             const Certificate* issuer,
                                             const PrivateKey& issuer_key);

}  // namespace renkei

#endif  // RENKEI_TOOLS_RENKEICTL_PKI_H_
