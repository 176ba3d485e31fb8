// ReplayCache remembers message ids of accepted requests for as long as their timestamps
// could still pass the freshness check, so that a captured request cannot be replayed.
//
// Thread-safe. Memory is bounded by `capacity`; when full of unexpired ids the cache refuses
// new ids (UNAVAILABLE) rather than forgetting one that could then be replayed.
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
  // `clock` must outlive the cache.
  ReplayCache(const Clock& clock, size_t capacity);

  // OK the first time `message_id` is seen; ALREADY_EXISTS when it was seen before.
  // `window`: how long after its timestamp a message can still be accepted, from the
  // configuration in force now (the clock skew allowance); ids are kept until the later of
  // their timestamp and their arrival is further than the current window in the past.
  absl::Status CheckAndRemember(const std::string& message_id, absl::Time created_at,
                                absl::Duration window);

  size_t size() const;

 private:
  void EvictOlderThan(absl::Time oldest) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  // Each id with its anchor: the later of its timestamp and its arrival.
  absl::flat_hash_map<std::string, absl::Time> anchor_by_id_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, std::string> ids_by_anchor_ ABSL_GUARDED_BY(mu_);
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_REPLAY_CACHE_H_
