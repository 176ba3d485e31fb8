#include "common/certificates.h"

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <time.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/digest.h"
#include "common/files.h"

namespace renkei {

std::string OpenSslErrorText() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error recorded";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof(buffer));
  return buffer;
}

namespace {

OpenSslPtr<BIO> MemoryBio(absl::string_view data) {
  return OpenSslPtr<BIO>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, size);
}

bool IsP256(EVP_PKEY* key) {
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {0};
  size_t length = 0;
  if (!EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &length)) return false;
  return std::string(group) == "prime256v1" || std::string(group) == "P-256";
}

bool VerifyDer(EVP_PKEY* key, absl::string_view data, absl::string_view signature) {
  OpenSslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  bool ok = EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace

Certificate::Certificate(OpenSslPtr<X509> x509, std::string der)
    : x509_(x509.release(), X509_free), der_(std::move(der)), fingerprint_(ToHex(Sha256(der_))) {}

absl::StatusOr<Certificate> Certificate::FromDer(absl::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  OpenSslPtr<X509> x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509 || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a DER X.509 certificate: ", OpenSslErrorText()));
  }
  return Certificate(std::move(x509), std::string(der));
}

absl::StatusOr<Certificate> Certificate::FromPem(absl::string_view pem) {
  auto bio = MemoryBio(pem);
  OpenSslPtr<X509> x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x509) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a PEM X.509 certificate: ", OpenSslErrorText()));
  }
  unsigned char* der = nullptr;
  int length = i2d_X509(x509.get(), &der);
  if (length <= 0) return absl::InternalError("cannot DER-encode certificate");
  std::string der_bytes(reinterpret_cast<char*>(der), length);
  OPENSSL_free(der);
  return Certificate(std::move(x509), std::move(der_bytes));
}

std::string FingerprintOfPemCertificate(absl::string_view pem) {
  auto bio = MemoryBio(pem);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
  std::string fingerprint;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &length) == 1 &&
      absl::string_view(name) == "CERTIFICATE" && length > 0) {
    fingerprint = ToHex(Sha256(absl::string_view(reinterpret_cast<char*>(data),
                                                 static_cast<size_t>(length))));
  }
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  ERR_clear_error();
  return fingerprint;
}

absl::StatusOr<Certificate> Certificate::FromPemFile(const std::string& path) {
  auto pem = ReadFile(path);
  if (!pem.ok()) return pem.status();
  auto certificate = FromPem(*pem);
  if (!certificate.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", certificate.status().message()));
  }
  return certificate;
}

std::string Certificate::Pem() const {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x509_.get());
  return BioContents(bio.get());
}

bool Certificate::HasP256Key() const { return IsP256(X509_get0_pubkey(x509_.get())); }

bool Certificate::VerifySignature(absl::string_view data, absl::string_view signature) const {
  EVP_PKEY* key = X509_get0_pubkey(x509_.get());
  return key != nullptr && VerifyDer(key, data, signature);
}

std::string EcdsaRawToDer(absl::string_view raw) {
  if (raw.size() != 64) return "";
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* der = nullptr;
  int length = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (length <= 0) return "";
  std::string result(reinterpret_cast<char*>(der), length);
  OPENSSL_free(der);
  return result;
}

std::string EcdsaDerToRaw(absl::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return "";
  std::string raw(64, '\0');
  bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32) == 32 &&
            BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32) == 32;
  ECDSA_SIG_free(sig);
  return ok ? raw : "";
}

PublicKey::PublicKey(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {}

absl::StatusOr<PublicKey> PublicKey::FromPem(absl::string_view pem) {
  auto bio = MemoryBio(pem);
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("not a PEM public key: ", OpenSslErrorText()));
  }
  PublicKey result(key);
  if (!IsP256(key)) return absl::InvalidArgumentError("public key is not ECDSA P-256");
  return result;
}

std::string PublicKey::Pem() const {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  return BioContents(bio.get());
}

bool PublicKey::VerifySignature(absl::string_view data, absl::string_view signature) const {
  if (signature.size() == 64) {
    std::string der = EcdsaRawToDer(signature);
    if (!der.empty() && VerifyDer(key_.get(), data, der)) return true;
  }
  return VerifyDer(key_.get(), data, signature);
}

std::string PrivateKey::PublicKeyPem() const {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  return BioContents(bio.get());
}

PrivateKey::PrivateKey(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {}

PrivateKey PrivateKey::GenerateP256() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) std::abort();  // only on a broken OpenSSL installation
  return PrivateKey(key);
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(absl::string_view pem) {
  auto bio = MemoryBio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a PEM private key: ", OpenSslErrorText()));
  }
  return PrivateKey(key);
}

absl::StatusOr<PrivateKey> PrivateKey::FromPemFile(const std::string& path) {
  // A key another local user can read is already leaked; refuse it rather than sign with it.
  auto pem = ReadSecretFile(path, "key file");
  if (!pem.ok()) return pem.status();
  auto key = FromPem(*pem);
  OPENSSL_cleanse(pem->data(), pem->size());
  if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", key.status().message()));
  return key;
}

absl::StatusOr<std::string> PrivateKey::Sign(absl::string_view data) const {
  OpenSslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  size_t length = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return absl::InternalError(absl::StrCat("signing failed: ", OpenSslErrorText()));
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return absl::InternalError(absl::StrCat("signing failed: ", OpenSslErrorText()));
  }
  signature.resize(length);
  return signature;
}

std::string PrivateKey::Pem() const {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return BioContents(bio.get());
}

TrustStore::TrustStore(X509_STORE* store) : store_(store, X509_STORE_free) {}

absl::StatusOr<TrustStore> TrustStore::FromPems(const std::vector<std::string>& ca_pems) {
  if (ca_pems.empty()) return absl::InvalidArgumentError("no trusted CA certificate given");
  TrustStore trust(X509_STORE_new());
  for (const std::string& pem : ca_pems) {
    auto ca = Certificate::FromPem(pem);
    if (!ca.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("trusted CA: ", ca.status().message()));
    }
    if (X509_STORE_add_cert(trust.store_.get(), ca->get()) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("trusted CA not usable: ", OpenSslErrorText()));
    }
  }
  return trust;
}

namespace {

// False when `time` does not convert (then the window is left empty: never reused).
bool ToAbslTime(const ASN1_TIME* time, absl::Time* result) {
  struct tm tm = {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return false;
  *result = absl::FromTimeT(timegm(&tm));
  return true;
}

}  // namespace

bool ValidityWindow::Contains(absl::Time at) const {
  if (at == absl::InfiniteFuture()) at = absl::Now();
  const absl::Time second = absl::FromTimeT(absl::ToTimeT(at));  // what Verify hands OpenSSL
  return not_before <= second && second < not_after;
}

absl::Status TrustStore::Verify(const Certificate& leaf, absl::Time at) const {
  return VerifyWithWindow(leaf, at).status();
}

absl::StatusOr<ValidityWindow> TrustStore::VerifyWithWindow(const Certificate& leaf,
                                                            absl::Time at) const {
  OpenSslPtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(ctx.get(), store_.get(), leaf.get(), nullptr) != 1) {
    return absl::InternalError("cannot initialise certificate verification");
  }
  if (at != absl::InfiniteFuture()) X509_STORE_CTX_set_time(ctx.get(), 0, absl::ToTimeT(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    int error = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::UnauthenticatedError(
        absl::StrCat("certificate ", leaf.fingerprint().substr(0, 16),
                     "... does not chain to a trusted CA: ",
                     X509_verify_cert_error_string(error)));
  }
  // OpenSSL checks notBefore <= t < notAfter for every certificate of the chain.
  ValidityWindow window;
  window.not_before = absl::InfinitePast();
  window.not_after = absl::InfiniteFuture();
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  bool converted = chain != nullptr && sk_X509_num(chain) > 0;
  for (int i = 0; converted && i < sk_X509_num(chain); ++i) {
    X509* certificate = sk_X509_value(chain, i);
    absl::Time not_before, not_after;
    converted = ToAbslTime(X509_get0_notBefore(certificate), &not_before) &&
                ToAbslTime(X509_get0_notAfter(certificate), &not_after);
    window.not_before = std::max(window.not_before, not_before);
    window.not_after = std::min(window.not_after, not_after);
  }
  if (!converted) return ValidityWindow();  // verified, but only for `at`
  return window;
}

}  // namespace renkei
