// The seam through which an exchange's evidence is made durable before its answer is
// released: the message log entry and, on the provider side, the access record for the
// ledger's outbox (DESIGN.md "Outbox → ledger"), in one synced write.
#ifndef RENKEI_SECURITY_SERVER_EXCHANGE_RECORDER_H_
#define RENKEI_SECURITY_SERVER_EXCHANGE_RECORDER_H_

#include <string>

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
};

// Implementations are thread-safe. Record returns only once the evidence is durable; an
// error means it is not, and the exchange must fail.
class ExchangeRecorder {
 public:
  virtual ~ExchangeRecorder() = default;
  virtual absl::Status Record(const ExchangeEvidence& evidence) = 0;
  // True when a request with `message_id` was answered as provider (its evidence recorded
  // with role PROVIDER), however long ago.
  virtual absl::StatusOr<bool> HasRecordedRequest(const std::string& message_id) const = 0;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_EXCHANGE_RECORDER_H_
