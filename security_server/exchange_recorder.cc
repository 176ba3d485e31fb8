#include "security_server/exchange_recorder.h"

#include "absl/synchronization/notification.h"

namespace renkei {

absl::Status RecordAndWait(ExchangeRecorder& recorder, const ExchangeEvidence& evidence) {
  absl::Notification done;
  absl::Status outcome;
  recorder.Record(evidence, [&](absl::Status status) {
    outcome = std::move(status);
    done.Notify();
  });
  done.WaitForNotification();
  return outcome;
}

}  // namespace renkei
