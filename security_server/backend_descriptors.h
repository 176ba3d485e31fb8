// The protobuf descriptors of a provider's backend services: what the security server needs to
// translate REST/JSON calls into the backend's gRPC messages (issue 11).
//
// They come from the backend itself, by gRPC server reflection, or, for a backend without
// reflection, from a FileDescriptorSet file named in the configuration. Either way they come
// from another process and are checked (CheckDescriptorSet) before anything builds on them.
// A consumer's security server gets them, signed, from the provider's security server and
// builds its pool from them with BuildDescriptorPool: hostile input there too, since a valid
// federation member may still send anything.
//
// Thread-safe (no shared state).
//
//   RENKEI_ASSIGN_OR_RETURN(
//       google::protobuf::FileDescriptorSet files,
//       FetchDescriptorsByReflection("127.0.0.1:7101", {"renkei.municipal.v1.ResidentRegistry"},
//                                    absl::Seconds(5)));
#ifndef RENKEI_SECURITY_SERVER_BACKEND_DESCRIPTORS_H_
#define RENKEI_SECURITY_SERVER_BACKEND_DESCRIPTORS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace renkei {

// Limits on what a backend may send: a service's files with all their imports are a few
// dozen files and well under a MiB.
inline constexpr int kMaxBackendDescriptorFiles = 256;
inline constexpr int kMaxBackendDescriptorBytes = 16 << 20;  // all files; also per message
// Limits on what is inside the files, checked before protobuf builds them (its builder
// recurses into nested messages; the JSON transcoder walks every field of a message).
inline constexpr int kMaxDescriptorNameBytes = 512;  // a file name, or any full name
inline constexpr int kMaxFieldsPerMessage = 2000;
// A top-level message is at depth 1. Protobuf 3.21's builder refuses depth 32 on its own
// ("maximum recursion limit"); checking first says so in our words, whatever the version.
inline constexpr int kMaxMessageNesting = 31;

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

// Builds `files` (hostile: from another process or another security server) into a new pool,
// file by file in dependency order without recursion, and checks that it defines each of
// `service_names`. The pool has neither a fallback database nor an underlay: everything is
// built here, and nothing later (FindServiceByName, FindMessageTypeByName) builds more. The
// caller owns the pool; its lookups (const) are safe from several threads.
//
// Files of the well-known types (named "google/protobuf/..."): always this binary's own copy
// (from DescriptorPool::generated_pool()), whatever the set holds under that name, so that
// protobuf's JSON code, which trusts the shape of google.protobuf.Struct, Any, Timestamp...,
// only ever meets the real ones. A set may also omit them. A provider built with another
// protobuf version sends a slightly different copy: replacing it, rather than refusing it
// when it differs, keeps such providers working.
//
// INVALID_ARGUMENT naming the first problem (names from `files` escaped and shortened):
// - more than kMaxBackendDescriptorFiles files or kMaxBackendDescriptorBytes bytes in all;
// - a file named "google/protobuf/..." that this binary does not have, or any other file
//   declaring a name in package google.protobuf (or under it), its package included;
// - a file name or full name (of a message, field, oneof, enum, enum value, extension,
//   service or method) longer than kMaxDescriptorNameBytes, a message with more than
//   kMaxFieldsPerMessage fields, message types nested more than kMaxMessageNesting deep;
// - a file without a name or named twice, an import the set does not hold, an import cycle,
//   a file that does not build (conflicting or invalid definitions), a service not defined.
//
//   RENKEI_ASSIGN_OR_RETURN(std::unique_ptr<google::protobuf::DescriptorPool> pool,
//                           BuildDescriptorPool(schema.files(), {"renkei.municipal.v1.Pension"}));
//   const google::protobuf::ServiceDescriptor* service =
//       pool->FindServiceByName("renkei.municipal.v1.Pension");  // not null
absl::StatusOr<std::unique_ptr<google::protobuf::DescriptorPool>> BuildDescriptorPool(
    const google::protobuf::FileDescriptorSet& files,
    const std::vector<std::string>& service_names);

// BuildDescriptorPool(files, service_names).status().
absl::Status CheckDescriptorSet(const google::protobuf::FileDescriptorSet& files,
                                const std::vector<std::string>& service_names);

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_BACKEND_DESCRIPTORS_H_
