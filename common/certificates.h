// X.509 certificates, ECDSA P-256 keys and signatures (OpenSSL 3).
//
// Certificate and PrivateKey are immutable after construction and safe to use from many
// threads. TrustStore::Verify is thread-safe.
#ifndef RENKEI_COMMON_CERTIFICATES_H_
#define RENKEI_COMMON_CERTIFICATES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/openssl_types.h"

namespace renkei {

class Certificate {
 public:
  static absl::StatusOr<Certificate> FromPem(absl::string_view pem);
  static absl::StatusOr<Certificate> FromDer(absl::string_view der);
  // Reads the first certificate of a PEM file.
  static absl::StatusOr<Certificate> FromPemFile(const std::string& path);

  const std::string& der() const { return der_; }
  std::string Pem() const;
  // Lowercase hex SHA-256 of the DER: how the configuration names certificates.
  const std::string& fingerprint() const { return fingerprint_; }
  X509* get() const { return x509_.get(); }

  // True when the key is ECDSA over P-256 (the only algorithm the federation signs with).
  bool HasP256Key() const;
  // Verifies an ECDSA-SHA256 DER signature over `data` with this certificate's key.
  bool VerifySignature(absl::string_view data, absl::string_view signature) const;

 private:
  Certificate(OpenSslPtr<X509> x509, std::string der);
  std::shared_ptr<X509> x509_;
  std::string der_;
  std::string fingerprint_;
};

// The fingerprint (as Certificate::fingerprint) of the first PEM "CERTIFICATE" block, from
// its bytes alone, without parsing the certificate (a hundred times faster). For PEM that a
// trusted party encoded from a certificate it parsed: the TLS peer certificate gRPC hands
// over after a handshake that checked it. "" when there is no such block.
std::string FingerprintOfPemCertificate(absl::string_view pem);

// An ECDSA P-256 public key on its own (a resident's key, enrolled without a certificate).
class PublicKey {
 public:
  // PEM "PUBLIC KEY" (SubjectPublicKeyInfo). INVALID_ARGUMENT unless ECDSA P-256.
  static absl::StatusOr<PublicKey> FromPem(absl::string_view pem);
  std::string Pem() const;
  // ECDSA-SHA256 over `data`; `signature` DER, or 64-byte r||s (WebCrypto's format).
  bool VerifySignature(absl::string_view data, absl::string_view signature) const;

 private:
  explicit PublicKey(EVP_PKEY* key);
  std::shared_ptr<EVP_PKEY> key_;
};

// 64-byte r||s (IEEE P1363, as WebCrypto signs) to DER; "" if malformed.
std::string EcdsaRawToDer(absl::string_view raw);
// DER to 64-byte r||s for P-256; "" if malformed.
std::string EcdsaDerToRaw(absl::string_view der);

class PrivateKey {
 public:
  // Reads the key with ReadSecretFile (common/files.h): FAILED_PRECONDITION for a file
  // group or others may access (mode & 077), a symbolic link, or one another user owns.
  static absl::StatusOr<PrivateKey> FromPemFile(const std::string& path);
  static absl::StatusOr<PrivateKey> FromPem(absl::string_view pem);
  static PrivateKey GenerateP256();

  // ECDSA-SHA256, DER-encoded.
  absl::StatusOr<std::string> Sign(absl::string_view data) const;
  // PKCS#8 PEM. Callers write it only to files of mode 0600.
  std::string Pem() const;
  std::string PublicKeyPem() const;
  EVP_PKEY* get() const { return key_.get(); }

 private:
  explicit PrivateKey(EVP_PKEY* key);
  std::shared_ptr<EVP_PKEY> key_;
};

// The times for which a verified chain holds: [not_before, not_after), whole seconds, the
// intersection of the validity periods of every certificate in it. Empty by default.
struct ValidityWindow {
  absl::Time not_before = absl::InfiniteFuture();
  absl::Time not_after = absl::InfinitePast();
  // True when `at` (now when InfiniteFuture, as TrustStore::Verify) is inside, compared to
  // the second as OpenSSL compares it.
  bool Contains(absl::Time at) const;
};

// A set of trusted CA certificates against which leaf certificates are verified.
class TrustStore {
 public:
  static absl::StatusOr<TrustStore> FromPems(const std::vector<std::string>& ca_pems);
  // OK when `leaf` chains to one of the CAs and is within its validity period at `at` (now
  // when InfiniteFuture); UNAUTHENTICATED naming the reason otherwise.
  absl::Status Verify(const Certificate& leaf, absl::Time at = absl::InfiniteFuture()) const;
  // As Verify, and on success the window in which the chain it built stays valid: the same
  // verdict holds for any time in it (this store is immutable and checks no CRLs), so a
  // caller may reuse it instead of verifying again. Errors as Verify.
  absl::StatusOr<ValidityWindow> VerifyWithWindow(
      const Certificate& leaf, absl::Time at = absl::InfiniteFuture()) const;

 private:
  explicit TrustStore(X509_STORE* store);
  std::shared_ptr<X509_STORE> store_;
};

}  // namespace renkei

#endif  // RENKEI_COMMON_CERTIFICATES_H_
