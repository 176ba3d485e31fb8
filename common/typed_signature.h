// Typed signatures (DESIGN.md "Trust"): every signature of the federation covers a context
// naming the signed object's type and protocol version before the object's bytes,
//
//   "renkei/v1 <type name>" || 0x00 || bytes
//
// and a verifier names the one type it expects. Protobuf messages of different types often
// parse as each other (a ResponseHeader's message id and a RecordBatch's records share a wire
// tag), so without the context one signed object could be replayed as another. Keys are used
// only through these functions (the raw PrivateKey::Sign is for this file and tests).
//
// Thread-safe (pure functions over immutable inputs).
#ifndef RENKEI_COMMON_TYPED_SIGNATURE_H_
#define RENKEI_COMMON_TYPED_SIGNATURE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/certificates.h"

namespace renkei {

enum class SignedType {
  kRequestHeader,   // v1::RequestHeader, signed by the client member
  kResponseHeader,  // v1::ResponseHeader, signed by the provider member
  kRecordBatch,     // v1::RecordBatch, signed by the provider member for the ledger
  kTreeHead,        // the ledger's tree head layout (audit/tree_head.h), signed by the broker
  kConfiguration,   // v1::GlobalConfiguration, signed by the broker
  kLedgerReceipt,   // v1::LedgerReceipt, signed by the broker
  kKeyCheck,        // a fixed probe that proves a key matches its certificate; never trusted
  kServiceSchema,   // v1::ServiceSchema, signed by the provider member for the JSON entry
};

// "renkei/v1 request-header" and so on: the context string of `type`, without the 0x00.
absl::string_view SignedTypeName(SignedType type);

// The exact bytes a signature of `type` over `bytes` covers.
std::string SigningInput(SignedType type, absl::string_view bytes);

// ECDSA-SHA256 (DER) over SigningInput(type, bytes).
absl::StatusOr<std::string> SignTyped(const PrivateKey& key, SignedType type,
                                      absl::string_view bytes);
bool VerifyTyped(const Certificate& certificate, SignedType type, absl::string_view bytes,
                 absl::string_view signature);

// OK when `key` is the private key of `certificate` (a sign-and-verify round trip).
absl::Status CheckKeyMatchesCertificate(const PrivateKey& key, const Certificate& certificate);

}  // namespace renkei

#endif  // RENKEI_COMMON_TYPED_SIGNATURE_H_
