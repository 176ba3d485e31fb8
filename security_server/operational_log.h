// OperationalLog: per-exchange operational records (timings per stage, sizes, parties,
// outcome, peer address), kept for a retention period in the message log's RocksDB under
// their own key prefix, and queried by time range. Unlike the message log this is not
// evidence: writes are not synced, and old records are deleted. Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_OPERATIONAL_LOG_H_
#define RENKEI_SECURITY_SERVER_OPERATIONAL_LOG_H_

#include <atomic>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "renkei/v1/operational.pb.h"
#include "rocksdb/db.h"

namespace renkei {

class OperationalLog {
 public:
  // `db` must outlive the log.
  OperationalLog(rocksdb::DB* db, absl::Duration retention);

  // Stores the record; failures are logged, never fatal to the exchange.
  void Record(const v1::OperationalRecord& record);

  // Records received in [from, to], oldest first, at most `limit`.
  absl::StatusOr<v1::OperationalDataResponse> Query(absl::Time from, absl::Time to,
                                                    int limit) const;

  // Deletes records older than the retention period.
  absl::Status DeleteExpired(absl::Time now);

 private:
  rocksdb::DB* const db_;
  const absl::Duration retention_;
  std::atomic<uint64_t> sequence_{0};  // disambiguates records of the same nanosecond
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_OPERATIONAL_LOG_H_
