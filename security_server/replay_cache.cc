#include "security_server/replay_cache.h"

#include "absl/strings/str_cat.h"

namespace renkei {

ReplayCache::ReplayCache(const Clock& clock, absl::Duration window, size_t capacity)
    : clock_(clock), window_(window), capacity_(capacity) {}

void ReplayCache::EvictExpired(absl::Time now) {
  while (!ids_by_expiry_.empty() && ids_by_expiry_.begin()->first < now) {
    expiry_by_id_.erase(ids_by_expiry_.begin()->second);
    ids_by_expiry_.erase(ids_by_expiry_.begin());
  }
}

absl::Status ReplayCache::CheckAndRemember(const std::string& message_id,
                                           absl::Time created_at) {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  EvictExpired(now);
  if (expiry_by_id_.contains(message_id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("message id ", message_id, " was already used: replay refused"));
  }
  if (expiry_by_id_.size() >= capacity_) {
    return absl::ResourceExhaustedError(
        "replay cache is full of unexpired message ids; try again shortly");
  }
  // The id must be remembered until its timestamp falls out of the acceptance window, and
  // at least one full window from now in case the sender's clock runs ahead.
  absl::Time expiry = std::max(created_at, now) + window_;
  expiry_by_id_.emplace(message_id, expiry);
  ids_by_expiry_.emplace(expiry, message_id);
  return absl::OkStatus();
}

size_t ReplayCache::size() const {
  absl::MutexLock lock(&mu_);
  return expiry_by_id_.size();
}

}  // namespace renkei
