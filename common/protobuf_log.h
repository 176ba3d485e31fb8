// Protobuf's own log lines go through the structured log, at a bounded rate.
//
// Protobuf logs an ERROR line for every proto3 string field with invalid UTF-8 that it
// refuses to parse; a peer sending such messages could otherwise fill a server's log (and
// the disk under it) at the rate it sends them.
#ifndef RENKEI_COMMON_PROTOBUF_LOG_H_
#define RENKEI_COMMON_PROTOBUF_LOG_H_

#include <cstdint>

namespace renkei {

// At most this many protobuf lines a minute are logged; the rest are counted, and the count
// is logged with the next line that gets through.
inline constexpr int kProtobufLinesPerMinute = 10;

// Installs the handler (once, at process start: protobuf's SetLogHandler is not thread-safe).
void RouteProtobufLogs();

// Protobuf lines not logged because of the rate limit, since the start.
uint64_t SuppressedProtobufLines();

}  // namespace renkei

#endif  // RENKEI_COMMON_PROTOBUF_LOG_H_
