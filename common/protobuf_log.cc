#include "common/protobuf_log.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "google/protobuf/stubs/logging.h"

namespace renkei {
namespace {

absl::Mutex mu(absl::kConstInit);
absl::Time window_start ABSL_GUARDED_BY(mu);
int lines_in_window ABSL_GUARDED_BY(mu) = 0;
uint64_t suppressed_since_last ABSL_GUARDED_BY(mu) = 0;
uint64_t suppressed_total ABSL_GUARDED_BY(mu) = 0;

void Handle(google::protobuf::LogLevel level, const char* filename, int line,
            const std::string& message) {
  if (level == google::protobuf::LOGLEVEL_FATAL) {
    // Protobuf aborts right after: the line must get out whatever the rate.
    Log(LogLevel::kError, "protobuf", absl::StrCat(filename, ":", line, ": ", message));
    return;
  }
  uint64_t suppressed = 0;
  {
    absl::MutexLock lock(&mu);
    const absl::Time now = absl::Now();
    if (now - window_start >= absl::Minutes(1)) {
      window_start = now;
      lines_in_window = 0;
    }
    if (lines_in_window >= kProtobufLinesPerMinute) {
      ++suppressed_since_last;
      ++suppressed_total;
      return;
    }
    ++lines_in_window;
    suppressed = suppressed_since_last;
    suppressed_since_last = 0;
  }
  std::string text = absl::StrCat(filename, ":", line, ": ", message);
  if (suppressed > 0) absl::StrAppend(&text, " (", suppressed, " more not logged)");
  Log(level >= google::protobuf::LOGLEVEL_ERROR ? LogLevel::kError : LogLevel::kWarning,
      "protobuf", text);
}

}  // namespace

void RouteProtobufLogs() { google::protobuf::SetLogHandler(&Handle); }

uint64_t SuppressedProtobufLines() {
  absl::MutexLock lock(&mu);
  return suppressed_total;
}

}  // namespace renkei
