#include "common/ledger_receipt.h"

#include "absl/status/status.h"
#include "common/typed_signature.h"

namespace renkei {

absl::StatusOr<v1::SignedLedgerReceipt> SignLedgerReceipt(const v1::LedgerReceipt& receipt,
                                                          const PrivateKey& key) {
  v1::SignedLedgerReceipt signed_receipt;
  signed_receipt.set_receipt(receipt.SerializeAsString());
  auto signature = SignTyped(key, SignedType::kLedgerReceipt, signed_receipt.receipt());
  if (!signature.ok()) return signature.status();
  signed_receipt.set_signature(*std::move(signature));
  signed_receipt.set_algorithm(v1::ECDSA_P256_SHA256);
  return signed_receipt;
}

absl::StatusOr<v1::LedgerReceipt> VerifyLedgerReceipt(const v1::SignedLedgerReceipt& signed_receipt,
                                                      const Certificate& broker) {
  if (signed_receipt.algorithm() != v1::ECDSA_P256_SHA256 ||
      !VerifyTyped(broker, SignedType::kLedgerReceipt, signed_receipt.receipt(),
                   signed_receipt.signature())) {
    return absl::UnauthenticatedError(
        "ledger receipt does not verify with the broker's key of the configuration anchor");
  }
  v1::LedgerReceipt receipt;
  if (!receipt.ParseFromString(signed_receipt.receipt())) {
    return absl::UnauthenticatedError("ledger receipt is malformed");
  }
  return receipt;
}

}  // namespace renkei
