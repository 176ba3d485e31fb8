#include "common/log_rate_limit.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace renkei {

std::optional<uint64_t> LogRateLimit::Admit(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (now - window_start_ >= absl::Minutes(1)) {
    window_start_ = now;
    lines_in_window_ = 0;
  }
  if (lines_in_window_ >= lines_per_minute_) {
    ++suppressed_since_last_;
    ++suppressed_total_;
    return std::nullopt;
  }
  ++lines_in_window_;
  const uint64_t held_back = suppressed_since_last_;
  suppressed_since_last_ = 0;
  return held_back;
}

void LogRateLimit::Log(LogLevel level, absl::string_view component,
                       absl::FunctionRef<std::string()> message, absl::string_view message_id) {
  const std::optional<uint64_t> held_back = Admit(absl::Now());
  if (!held_back.has_value()) return;
  std::string text = message();
  if (*held_back > 0) absl::StrAppend(&text, " (", *held_back, " more not logged)");
  renkei::Log(level, component, text, message_id);
}

uint64_t LogRateLimit::suppressed() const {
  absl::MutexLock lock(&mu_);
  return suppressed_total_;
}

}  // namespace renkei
