// ReplayCache remembers message ids of accepted requests for as long as their timestamps
// could still pass the freshness check, so that a captured request cannot be replayed.
//
// Thread-safe. Memory is bounded by `capacity`; when full of unexpired ids the cache refuses
// new ids (RESOURCE_EXHAUSTED) rather than forgetting one that could then be replayed.
#ifndef RENKEI_SECURITY_SERVER_REPLAY_CACHE_H_
#define RENKEI_SECURITY_SERVER_REPLAY_CACHE_H_

#include <map>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace renkei {

class ReplayCache {
 public:
  // `window`: how long after its timestamp a message could still be accepted (the clock
  // skew allowance). `clock` must outlive the cache.
  ReplayCache(const Clock& clock, absl::Duration window, size_t capacity);

  // OK the first time `message_id` is seen; ALREADY_EXISTS when it was seen before.
  absl::Status CheckAndRemember(const std::string& message_id, absl::Time created_at);

  size_t size() const;

 private:
  void EvictExpired(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const absl::Duration window_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> expiry_by_id_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, std::string> ids_by_expiry_ ABSL_GUARDED_BY(mu_);
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_REPLAY_CACHE_H_
