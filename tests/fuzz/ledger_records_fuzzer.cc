// What a security server sends the ledger and what the broker sends back: record batches,
// access records (the ledger's own validation) and receipts. Never crashes; a receipt never
// verifies without the broker's key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "google/protobuf/stubs/logging.h"

#include "broker/access_ledger.h"
#include "common/ledger_receipt.h"
#include "renkei/v1/ledger.pb.h"
#include "security_server/test_federation.h"

// Protobuf logs every string field of invalid UTF-8 it refuses; quiet, so the fuzzer runs fast.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static renkei::TestFederation pki;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  renkei::v1::AccessRecord record;
  (void)renkei::ValidateAccessRecord(bytes, absl::Now(), &record);
  renkei::v1::RecordBatch batch;
  if (batch.ParseFromString(bytes)) {
    for (const renkei::v1::ShippedRecord& shipped : batch.records()) {
      renkei::v1::AccessRecord inner;
      (void)renkei::ValidateAccessRecord(shipped.record(), absl::Now(), &inner);
    }
  }
  renkei::v1::SignedLedgerReceipt receipt;
  if (receipt.ParseFromString(bytes) &&
      renkei::VerifyLedgerReceipt(receipt, pki.provider_signer.certificate).ok()) {
    std::abort();
  }
  return 0;
}
