// The seam through which an exchange's evidence is made durable before its answer is
// released: the message log entry and, on the provider side, the access record for the
// ledger's outbox (DESIGN.md "Outbox → ledger"), in one synced write.
#ifndef RENKEI_SECURITY_SERVER_EXCHANGE_RECORDER_H_
#define RENKEI_SECURITY_SERVER_EXCHANGE_RECORDER_H_

#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "renkei/v1/envelope.pb.h"
#include "renkei/v1/ledger.pb.h"
#include "renkei/v1/message_log.pb.h"

namespace renkei {

struct ExchangeEvidence {
  v1::MessageLogEntry::Role role = v1::MessageLogEntry::ROLE_UNSPECIFIED;
  std::string message_id;
  const v1::SignedHeader* request = nullptr;   // required
  const v1::SignedHeader* response = nullptr;  // required
  absl::string_view request_payload;
  absl::string_view response_payload;
  // The provider side's access record for the ledger; stored in the outbox with the entry.
  const v1::AccessRecord* access_record = nullptr;
  // Bytes the caller keeps alive until the record completes (the answer it will release):
  // counted against the recorder's memory budget whether or not bodies are stored.
  size_t retained_bytes = 0;
};

// Runs once the evidence is durable (OK), or cannot be made so (the exchange must fail).
using RecordDone = absl::AnyInvocable<void(absl::Status) &&>;

// Implementations are thread-safe.
class ExchangeRecorder {
 public:
  virtual ~ExchangeRecorder() = default;
  // Copies what it needs from `evidence` before returning, and never blocks on I/O: `done`
  // runs exactly once, later on the recorder's own thread, or at once (before Record
  // returns) when the evidence is refused without a write (a full queue, a failed disk).
  virtual void Record(const ExchangeEvidence& evidence, RecordDone done) = 0;
  // OK while new exchanges may start: UNAVAILABLE when their evidence could not be recorded
  // now (a failed disk, a queue past its high-water mark). Asked before any work is done.
  virtual absl::Status Admit() const = 0;
  // True when a request with `message_id` was answered as provider (its evidence recorded
  // with role PROVIDER), however long ago.
  virtual absl::StatusOr<bool> HasRecordedRequest(const std::string& message_id) const = 0;
};

// Records and waits for the outcome: for tools and tests, never for a reactor thread.
absl::Status RecordAndWait(ExchangeRecorder& recorder, const ExchangeEvidence& evidence);

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_EXCHANGE_RECORDER_H_
