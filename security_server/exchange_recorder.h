// The seam through which an exchange's evidence is made durable before its answer is
// released. The message log implements it today; the access-record outbox of the ledger
// (DESIGN.md "Outbox → ledger") is the next implementation behind the same call.
#ifndef RENKEI_SECURITY_SERVER_EXCHANGE_RECORDER_H_
#define RENKEI_SECURITY_SERVER_EXCHANGE_RECORDER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "renkei/v1/envelope.pb.h"
#include "renkei/v1/message_log.pb.h"

namespace renkei {

struct ExchangeEvidence {
  v1::MessageLogEntry::Role role = v1::MessageLogEntry::ROLE_UNSPECIFIED;
  std::string message_id;
  const v1::SignedHeader* request = nullptr;   // required
  const v1::SignedHeader* response = nullptr;  // required
  absl::string_view request_payload;
  absl::string_view response_payload;
};

// Implementations are thread-safe. Record returns only once the evidence is durable; an
// error means it is not, and the exchange must fail.
class ExchangeRecorder {
 public:
  virtual ~ExchangeRecorder() = default;
  virtual absl::Status Record(const ExchangeEvidence& evidence) = 0;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_EXCHANGE_RECORDER_H_
