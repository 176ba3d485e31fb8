#include "tools/renkeictl/pki.h"

#include <openssl/x509v3.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/digest.h"

namespace renkei {
namespace {

absl::Status AddExtension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, certificate, nullptr, nullptr, 0);
  OpenSslPtr<X509_EXTENSION> extension(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot add extension ", value, ": ", OpenSslErrorText()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Certificate> IssueCertificate(const CertificateRequest& request,
                                             const PrivateKey& subject_key,
                                             const Certificate* issuer,
                                             const PrivateKey& issuer_key) {
  if (request.common_name.empty()) return absl::InvalidArgumentError("common name is empty");
  OpenSslPtr<X509> x509(X509_new());
  X509_set_version(x509.get(), 2);
  // 128-bit random serial: unique without a serial-number database.
  std::string serial_bytes = RandomBytes(16);
  serial_bytes[0] &= 0x7f;
  OpenSslPtr<BIGNUM> serial(BN_bin2bn(reinterpret_cast<const unsigned char*>(serial_bytes.data()),
                                      serial_bytes.size(), nullptr));
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x509.get()));
  X509_gmtime_adj(X509_getm_notBefore(x509.get()),
                  static_cast<long>(request.not_before_days) * 86400 - 60);
  X509_gmtime_adj(X509_getm_notAfter(x509.get()),
                  static_cast<long>(request.not_before_days + request.validity_days) * 86400);
  X509_set_pubkey(x509.get(), subject_key.get());

  X509_NAME* name = X509_get_subject_name(x509.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(request.common_name.c_str()),
                             -1, -1, 0);
  if (!request.organization.empty()) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(request.organization.c_str()),
                               -1, -1, 0);
  }
  X509* issuer_x509 = issuer == nullptr ? x509.get() : issuer->get();
  X509_set_issuer_name(x509.get(), X509_get_subject_name(issuer_x509));

  absl::Status status;
  auto add = [&](int nid, const std::string& value) {
    if (status.ok()) status = AddExtension(x509.get(), issuer_x509, nid, value);
  };
  add(NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add(NID_authority_key_identifier, "keyid:always");
  switch (request.kind) {
    case CertificateKind::kCertificateAuthority:
      add(NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
      add(NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case CertificateKind::kTls:
      add(NID_basic_constraints, "critical,CA:FALSE");
      add(NID_key_usage, "critical,digitalSignature");
      add(NID_ext_key_usage, "serverAuth,clientAuth");
      break;
    case CertificateKind::kSigning:
      add(NID_basic_constraints, "critical,CA:FALSE");
      add(NID_key_usage, "critical,digitalSignature,nonRepudiation");
      break;
  }
  std::vector<std::string> names;
  for (const auto& dns : request.dns_names) names.push_back("DNS:" + dns);
  for (const auto& ip : request.ip_addresses) names.push_back("IP:" + ip);
  if (!names.empty()) add(NID_subject_alt_name, absl::StrJoin(names, ","));
  if (!status.ok()) return status;

  if (X509_sign(x509.get(), issuer_key.get(), EVP_sha256()) <= 0) {
    return absl::InternalError(absl::StrCat("cannot sign certificate: ", OpenSslErrorText()));
  }
  unsigned char* der = nullptr;
  int length = i2d_X509(x509.get(), &der);
  std::string der_bytes(reinterpret_cast<char*>(der), length);
  OPENSSL_free(der);
  return Certificate::FromDer(der_bytes);
}

}  // namespace renkei
