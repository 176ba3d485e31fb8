// Structured logging: one JSON object per line on stderr.
//
//   {"time":"2026-11-23T01:02:03.456Z","level":"warning","component":"peer",
//    "message_id":"3f2a…","msg":"rejected: signature does not verify"}
//
// Callers must never pass keys, raw resident ids or payloads. Thread-safe: each line is
// written with a single write(2).
#ifndef RENKEI_COMMON_LOG_H_
#define RENKEI_COMMON_LOG_H_

#include <string>

#include "absl/strings/string_view.h"

namespace renkei {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

void Log(LogLevel level, absl::string_view component, absl::string_view message,
         absl::string_view message_id = "");

// JSON string contents (RFC 8259): quotes, backslashes and control characters escaped, and
// each byte that is not part of valid UTF-8 written as U+FFFD (\ufffd), so that hostile bytes
// never make a line or an answer that is not JSON.
std::string JsonEscape(absl::string_view text);
// True when `text` is all valid UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
bool IsUtf8(absl::string_view text);

}  // namespace renkei

#endif  // RENKEI_COMMON_LOG_H_
