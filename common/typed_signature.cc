#include "common/typed_signature.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace renkei {

absl::string_view SignedTypeName(SignedType type) {
  switch (type) {
    case SignedType::kRequestHeader:
      return "renkei/v1 request-header";
    case SignedType::kResponseHeader:
      return "renkei/v1 response-header";
    case SignedType::kRecordBatch:
      return "renkei/v1 record-batch";
    case SignedType::kTreeHead:
      return "renkei/v1 tree-head";
    case SignedType::kConfiguration:
      return "renkei/v1 global-configuration";
    case SignedType::kLedgerReceipt:
      return "renkei/v1 ledger-receipt";
    case SignedType::kKeyCheck:
      return "renkei/v1 key-check";
    case SignedType::kServiceSchema:
      return "renkei/v1 service-schema";
  }
  return "renkei/v1 invalid";
}

std::string SigningInput(SignedType type, absl::string_view bytes) {
  absl::string_view name = SignedTypeName(type);
  std::string input;
  input.reserve(name.size() + 1 + bytes.size());
  input.append(name.data(), name.size());
  input.push_back('\0');
  input.append(bytes.data(), bytes.size());
  return input;
}

absl::StatusOr<std::string> SignTyped(const PrivateKey& key, SignedType type,
                                      absl::string_view bytes) {
  return key.Sign(SigningInput(type, bytes));
}

bool VerifyTyped(const Certificate& certificate, SignedType type, absl::string_view bytes,
                 absl::string_view signature) {
  return certificate.VerifySignature(SigningInput(type, bytes), signature);
}

absl::Status CheckKeyMatchesCertificate(const PrivateKey& key, const Certificate& certificate) {
  constexpr absl::string_view kProbe = "renkei key check";
  auto signature = SignTyped(key, SignedType::kKeyCheck, kProbe);
  if (!signature.ok()) return signature.status();
  if (!VerifyTyped(certificate, SignedType::kKeyCheck, kProbe, *signature)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the private key does not match certificate ", certificate.fingerprint()));
  }
  return absl::OkStatus();
}

}  // namespace renkei
