// The protobuf descriptors of a provider's backend services: what the security server needs to
// translate REST/JSON calls into the backend's gRPC messages (issue 11).
//
// They come from the backend itself, by gRPC server reflection, or, for a backend without
// reflection, from a FileDescriptorSet file named in the configuration. Either way they come
// from another process and are checked (CheckDescriptorSet) before anything builds on them.
//
// Thread-safe (no shared state).
//
//   RENKEI_ASSIGN_OR_RETURN(
//       google::protobuf::FileDescriptorSet files,
//       FetchDescriptorsByReflection("127.0.0.1:7101", {"renkei.municipal.v1.ResidentRegistry"},
//                                    absl::Seconds(5)));
#ifndef RENKEI_SECURITY_SERVER_BACKEND_DESCRIPTORS_H_
#define RENKEI_SECURITY_SERVER_BACKEND_DESCRIPTORS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.pb.h"

namespace renkei {

// Limits on what a backend may send: a service's files with all their imports are a few
// dozen files and well under a MiB.
inline constexpr int kMaxBackendDescriptorFiles = 256;
inline constexpr int kMaxBackendDescriptorBytes = 16 << 20;  // all files; also per message

// Synchronous, with a deadline: call only off the gRPC callback threads.
// The files that define `service_names` (full names, e.g. "renkei.municipal.v1.ResidentRegistry")
// and all their dependencies, asked of the backend at `backend_address` (host:port, plaintext:
// backends listen on the agency's own machine) by gRPC server reflection. The files come in
// dependency order (imports first) and pass CheckDescriptorSet.
// UNAVAILABLE: the backend cannot be reached within `timeout` or has no reflection
// (UNIMPLEMENTED from it); NOT_FOUND: it does not know a service; INVALID_ARGUMENT: what it
// sent does not parse, is incomplete, or exceeds the limits above.
absl::StatusOr<google::protobuf::FileDescriptorSet> FetchDescriptorsByReflection(
    const std::string& backend_address, const std::vector<std::string>& service_names,
    absl::Duration timeout);

// A FileDescriptorSet file as `protoc --include_imports --descriptor_set_out` writes it.
// INVALID_ARGUMENT when it does not parse; ReadFile's errors when it cannot be read. The files
// are not checked: see CheckDescriptorSet.
absl::StatusOr<google::protobuf::FileDescriptorSet> LoadDescriptorSetFile(const std::string& path);

// OK when `files` builds (every file named once, every import present, no import cycle, no
// conflicting or invalid definition) and defines each of `service_names`. `files` is treated
// as hostile: it came from another process. INVALID_ARGUMENT naming the problem (names from
// `files` are escaped and shortened in the message).
absl::Status CheckDescriptorSet(const google::protobuf::FileDescriptorSet& files,
                                const std::vector<std::string>& service_names);

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_BACKEND_DESCRIPTORS_H_
