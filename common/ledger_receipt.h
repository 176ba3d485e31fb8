// Ledger receipts (schemas/renkei/v1/ledger.proto, LedgerReceipt): the broker's signed promise
// that a record is in the access-history ledger. The broker signs them with the key of the
// configuration anchor; a recording server verifies one before it deletes the record from its
// outbox. Thread-safe (pure functions).
#ifndef RENKEI_COMMON_LEDGER_RECEIPT_H_
#define RENKEI_COMMON_LEDGER_RECEIPT_H_

#include "absl/status/statusor.h"
#include "common/certificates.h"
#include "renkei/v1/ledger.pb.h"

namespace renkei {

absl::StatusOr<v1::SignedLedgerReceipt> SignLedgerReceipt(const v1::LedgerReceipt& receipt,
                                                          const PrivateKey& key);

// The receipt, once its signature verifies as a "renkei/v1 ledger-receipt" with `broker`
// (the anchor's certificate). UNAUTHENTICATED otherwise; nothing in it is believed before.
absl::StatusOr<v1::LedgerReceipt> VerifyLedgerReceipt(const v1::SignedLedgerReceipt& signed_receipt,
                                                      const Certificate& broker);

}  // namespace renkei

#endif  // RENKEI_COMMON_LEDGER_RECEIPT_H_
