// A bound on how many lines a kind of log message may write a minute. Lines a peer can cause
// (refusals, protobuf's parse errors) must not let it fill a server's log, and the disk
// under it, at the rate it sends; what is held back is counted and said with the next line
// that gets through.
#ifndef RENKEI_COMMON_LOG_RATE_LIMIT_H_
#define RENKEI_COMMON_LOG_RATE_LIMIT_H_

#include <cstdint>
#include <optional>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/log.h"

namespace renkei {

// Refusals of calls, per side of a security server: enough to see what is wrong, while the
// metrics count every one.
inline constexpr int kRefusalLinesPerMinute = 120;

class LogRateLimit {
 public:
  explicit constexpr LogRateLimit(int lines_per_minute) : lines_per_minute_(lines_per_minute) {}

  // nullopt: do not log this line (it is counted). Otherwise log it, with the number of
  // lines held back since the last one logged.
  std::optional<uint64_t> Admit(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // Logs the line `message` makes (made only when it gets through), ending with how many
  // were held back before it.
  void Log(LogLevel level, absl::string_view component, absl::FunctionRef<std::string()> message,
           absl::string_view message_id = "") ABSL_LOCKS_EXCLUDED(mu_);
  // Lines held back since the start.
  uint64_t suppressed() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const int lines_per_minute_;
  mutable absl::Mutex mu_{absl::kConstInit};
  absl::Time window_start_ ABSL_GUARDED_BY(mu_);
  int lines_in_window_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t suppressed_since_last_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t suppressed_total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace renkei

#endif  // RENKEI_COMMON_LOG_RATE_LIMIT_H_
