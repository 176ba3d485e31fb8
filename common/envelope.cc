#include "common/envelope.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/identifiers.h"

namespace renkei {

absl::StatusOr<v1::SignedHeader> SignHeader(SignedType type, std::string header_bytes,
                                            const SigningIdentity& signer) {
  auto signature = SignTyped(signer.key, type, header_bytes);
  if (!signature.ok()) return signature.status();
  v1::SignedHeader signed_header;
  signed_header.set_header(std::move(header_bytes));
  signed_header.set_signature(*std::move(signature));
  signed_header.set_algorithm(v1::ECDSA_P256_SHA256);
  *signed_header.mutable_signer() = signer.member;
  signed_header.set_signer_certificate(signer.certificate.der());
  return signed_header;
}

absl::Status VerifySignedHeader(SignedType type, const v1::SignedHeader& signed_header,
                                const Federation& federation, absl::Time at) {
  const std::string signer = ToString(signed_header.signer());
  if (signed_header.algorithm() != v1::ECDSA_P256_SHA256) {
    const std::string name = v1::SignatureAlgorithm_Name(signed_header.algorithm());
    return absl::UnauthenticatedError(absl::StrCat(
        "unsupported signature algorithm ",
        name.empty() ? absl::StrCat(static_cast<int>(signed_header.algorithm())) : name,
        " (the federation signs with ECDSA_P256_SHA256)"));
  }
  if (!federation.HasMember(signed_header.signer())) {
    return absl::UnauthenticatedError(absl::StrCat("signer ", signer, " is not a member"));
  }
  // Parsing and chaining depend only on the certificate's bytes and this configuration
  // version: a signer seen before skips them while `at` is inside its chain's window.
  SignerCertificateCache& cache = federation.signer_certificate_cache();
  std::shared_ptr<const SignerCertificateCache::Entry> cached =
      cache.Find(signed_header.signer_certificate());
  std::optional<Certificate> parsed;
  if (cached == nullptr) {
    auto certificate = Certificate::FromDer(signed_header.signer_certificate());
    if (!certificate.ok()) {
      return absl::UnauthenticatedError(
          absl::StrCat("signer certificate of ", signer, " is malformed"));
    }
    parsed.emplace(*std::move(certificate));
  }
  const Certificate& certificate = cached != nullptr ? cached->certificate : *parsed;
  if (cached == nullptr && !certificate.HasP256Key()) {  // only P-256 certificates are cached
    return absl::UnauthenticatedError(
        absl::StrCat("signer certificate of ", signer, " does not hold an ECDSA P-256 key"));
  }
  if (federation.IsRevoked(certificate.fingerprint())) {
    return absl::UnauthenticatedError(absl::StrCat("signing certificate ",
                                                   certificate.fingerprint(), " of ", signer,
                                                   " is revoked"));
  }
  if (!federation.IsRegisteredSigningCertificate(signed_header.signer(),
                                                 certificate.fingerprint())) {
    return absl::UnauthenticatedError(absl::StrCat("certificate ", certificate.fingerprint(),
                                                   " is not a registered signing certificate of ",
                                                   signer));
  }
  if (cached == nullptr || !cached->chain_window.Contains(at)) {
    absl::StatusOr<ValidityWindow> chain = federation.trust().VerifyWithWindow(certificate, at);
    if (!chain.ok()) {
      return absl::UnauthenticatedError(
          absl::StrCat("signing certificate of ", signer, ": ", chain.status().message()));
    }
    // Only a verified chain is remembered, and only for a registered certificate: the cache
    // holds no more certificates than the configuration names.
    cache.Insert({certificate, *chain});
  }
  if (!VerifyTyped(certificate, type, signed_header.header(), signed_header.signature())) {
    return absl::UnauthenticatedError(absl::StrCat(
        "signature does not verify as a ", SignedTypeName(type),
        " with the signing certificate of ", signer));
  }
  return absl::OkStatus();
}

absl::Status CheckFreshness(const google::protobuf::Timestamp& created_at, absl::Time now,
                            absl::Duration max_skew) {
  absl::Duration offset = FromTimestamp(created_at) - now;
  if (offset > max_skew || offset < -max_skew) {
    return absl::UnauthenticatedError(absl::StrCat(
        "header timestamp ", absl::FormatTime(FromTimestamp(created_at), absl::UTCTimeZone()),
        " is ", absl::FormatDuration(offset), " from this server's clock (allowed ±",
        absl::FormatDuration(max_skew), ")"));
  }
  return absl::OkStatus();
}

std::string NewMessageId() { return ToHex(RandomBytes(16)); }

bool IsMessageId(absl::string_view id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

namespace {

bool IsPrintableAscii(absl::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

absl::Status CheckField(absl::string_view name, absl::string_view value, bool required) {
  if (required && value.empty()) return absl::InvalidArgumentError(absl::StrCat(name, " is empty"));
  if (value.size() > kMaxFieldBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is longer than ", kMaxFieldBytes, " bytes"));
  }
  if (!IsPrintableAscii(value)) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not printable ASCII"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRequestHeaderFields(const v1::RequestHeader& header) {
  if (!IsMessageId(header.message_id())) {
    return absl::InvalidArgumentError("message id is not 32 lowercase hex digits");
  }
  if (header.subjects_size() < 1 || header.subjects_size() > kMaxSubjects) {
    return absl::InvalidArgumentError(absl::StrCat("request names ", header.subjects_size(),
                                                   " subjects; 1 to ", kMaxSubjects, " allowed"));
  }
  for (const std::string& subject : header.subjects()) {
    absl::Status status = CheckField("subject", subject, /*required=*/true);
    if (!status.ok()) return status;
  }
  absl::Status purpose = CheckField("purpose", header.purpose(), /*required=*/true);
  if (!purpose.ok()) return purpose;
  return CheckField("user", header.user(), /*required=*/false);
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  google::protobuf::Timestamp timestamp;
  int64_t nanos = absl::ToUnixNanos(time);
  timestamp.set_seconds(nanos / 1000000000);
  timestamp.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return timestamp;
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

}  // namespace renkei
