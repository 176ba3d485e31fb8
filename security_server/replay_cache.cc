#include "security_server/replay_cache.h"

#include "absl/strings/str_cat.h"

namespace renkei {

ReplayCache::ReplayCache(const Clock& clock, size_t capacity)
    : clock_(clock), capacity_(capacity) {}

void ReplayCache::EvictOlderThan(absl::Time oldest) {
  while (!ids_by_anchor_.empty() && ids_by_anchor_.begin()->first < oldest) {
    anchor_by_id_.erase(ids_by_anchor_.begin()->second);
    ids_by_anchor_.erase(ids_by_anchor_.begin());
  }
}

absl::Status ReplayCache::CheckAndRemember(const std::string& message_id, absl::Time created_at,
                                           absl::Duration window) {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  EvictOlderThan(now - window);
  if (anchor_by_id_.contains(message_id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("message id ", message_id, " was already used: replay refused"));
  }
  if (anchor_by_id_.size() >= capacity_) {
    // UNAVAILABLE, not RESOURCE_EXHAUSTED: the platform says that only of sizes (a JSON
    // caller would read it as "too large").
    return absl::UnavailableError(
        "replay cache is full of unexpired message ids; try again shortly");
  }
  // The id must be remembered until its timestamp falls out of the acceptance window, and
  // at least one full window from now in case the sender's clock runs ahead.
  absl::Time anchor = std::max(created_at, now);
  anchor_by_id_.emplace(message_id, anchor);
  ids_by_anchor_.emplace(anchor, message_id);
  return absl::OkStatus();
}

size_t ReplayCache::size() const {
  absl::MutexLock lock(&mu_);
  return anchor_by_id_.size();
}

}  // namespace renkei
