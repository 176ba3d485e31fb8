// OperationalLog: per-exchange operational records (timings per stage, sizes, parties,
// outcome, peer address), kept for a retention period in the message log's RocksDB under
// their own key prefix (queued to its committer), and queried by time range. Unlike the message log this is not
// evidence: writes are not synced, and old records are deleted. Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_OPERATIONAL_LOG_H_
#define RENKEI_SECURITY_SERVER_OPERATIONAL_LOG_H_

#include <atomic>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/log_rate_limit.h"
#include "renkei/v1/operational.pb.h"
#include "security_server/message_log.h"

namespace renkei {

class OperationalLog {
 public:
  // `message_log` must outlive the log.
  OperationalLog(MessageLog& message_log, absl::Duration retention);

  // Queues the record (a query sees it once the message log's committer wrote it); failures
  // are logged, never fatal to the exchange.
  void Record(const v1::OperationalRecord& record);

  // Records received in [from, to], oldest first, at most `limit`.
  absl::StatusOr<v1::OperationalDataResponse> Query(absl::Time from, absl::Time to,
                                                    int limit) const;

  // Queues the deletion of records older than the retention period.
  absl::Status DeleteExpired(absl::Time now);

  // Records not kept because the message log refused them (overload, a failed disk).
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  MessageLog& message_log_;
  const absl::Duration retention_;
  std::atomic<uint64_t> sequence_{0};  // disambiguates records of the same nanosecond
  std::atomic<uint64_t> dropped_{0};
  LogRateLimit drop_warnings_{1};
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_OPERATIONAL_LOG_H_
