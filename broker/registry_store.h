// RegistryStore: the broker's durable state in RocksDB: the current registry (a
// GlobalConfiguration with its version) and the admin log of every change and resident-key
// enrollment (who, what, when).
//
// Each accepted change is written with its admin-log entry in one synced batch, so the log
// and the registry never disagree. Thread-safe: changes are serialized by a mutex.
#ifndef RENKEI_BROKER_REGISTRY_STORE_H_
#define RENKEI_BROKER_REGISTRY_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "renkei/v1/broker.pb.h"
#include "rocksdb/db.h"

namespace renkei {

struct OperatorIdentity {
  std::string name;
  std::string certificate_sha256;
};

class RegistryStore {
 public:
  // Opens or creates the store; a new store holds version 0 of `instance` with `limits`.
  static absl::StatusOr<std::unique_ptr<RegistryStore>> Open(const std::string& directory,
                                                             const std::string& instance,
                                                             const v1::Limits& limits);

  v1::GlobalConfiguration Current() const;

  // Applies `change` (broker/registry.h rules), stores the new version and the admin-log
  // entry durably, and returns the new version.
  absl::StatusOr<int64_t> Apply(const v1::RegistryChange& change, const OperatorIdentity& who,
                                absl::Time now);

  // Records, durably, an operator's enrollment of a resident key in the admin log. The
  // registry and its version do not change.
  absl::Status LogResidentEnrollment(const v1::AdminLogEntry::ResidentEnrollment& enrollment,
                                     const OperatorIdentity& who, absl::Time now);

  // Newest first.
  absl::StatusOr<std::vector<v1::AdminLogEntry>> ListAdminLog(int limit) const;

 private:
  RegistryStore(std::unique_ptr<rocksdb::DB> db, v1::GlobalConfiguration current,
                uint64_t next_log_sequence);

  // The next admin-log entry's common fields.
  v1::AdminLogEntry NewLogEntry(const OperatorIdentity& who, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<rocksdb::DB> db_;
  mutable absl::Mutex mu_;
  v1::GlobalConfiguration current_ ABSL_GUARDED_BY(mu_);
  uint64_t next_log_sequence_ ABSL_GUARDED_BY(mu_);
};

}  // namespace renkei

#endif  // RENKEI_BROKER_REGISTRY_STORE_H_
