// Limits every Renkei gRPC server applies before any authorization (DESIGN.md "Trust"): an
// unauthenticated client must not be able to exhaust memory, streams or connections so that
// the server stops answering others. Thread-safe (stateless).
#ifndef RENKEI_COMMON_SERVER_LIMITS_H_
#define RENKEI_COMMON_SERVER_LIMITS_H_

#include "grpcpp/server_builder.h"

namespace renkei {

// Concurrent streams per connection: a client opening streams it never finishes holds at
// most this many.
inline constexpr int kMaxConcurrentStreams = 100;
// Memory all calls of a server may hold (request buffers included); beyond, new calls are
// refused with RESOURCE_EXHAUSTED instead of the process growing.
inline constexpr size_t kMaxServerMemoryBytes = 512u << 20;
// A TLS handshake that has not finished by then is dropped.
inline constexpr int kHandshakeTimeoutMs = 10'000;
// Connections idle this long are closed; any connection is closed after kMaxConnectionAgeMs
// plus a grace period, which ends streams that never finish.
inline constexpr int kMaxConnectionIdleMs = 5 * 60'000;
inline constexpr int kMaxConnectionAgeMs = 30 * 60'000;
inline constexpr int kMaxConnectionAgeGraceMs = 2 * 60'000;

void ApplyServerLimits(grpc::ServerBuilder& builder);

}  // namespace renkei

#endif  // RENKEI_COMMON_SERVER_LIMITS_H_
