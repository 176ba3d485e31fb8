#include "common/protobuf_log.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/log_rate_limit.h"
#include "google/protobuf/stubs/logging.h"

namespace renkei {
namespace {

LogRateLimit limit(kProtobufLinesPerMinute);

void Handle(google::protobuf::LogLevel level, const char* filename, int line,
            const std::string& message) {
  if (level == google::protobuf::LOGLEVEL_FATAL) {
    // Protobuf aborts right after: the line must get out whatever the rate.
    Log(LogLevel::kError, "protobuf", absl::StrCat(filename, ":", line, ": ", message));
    return;
  }
  limit.Log(level >= google::protobuf::LOGLEVEL_ERROR ? LogLevel::kError : LogLevel::kWarning,
            "protobuf", [&] { return absl::StrCat(filename, ":", line, ": ", message); });
}

}  // namespace

void RouteProtobufLogs() { google::protobuf::SetLogHandler(&Handle); }

uint64_t SuppressedProtobufLines() { return limit.suppressed(); }

}  // namespace renkei
