// The OpenAPI 3.0.3 description of a provider's services as the REST/JSON entry serves them
// (DESIGN.md, "REST/JSON entry"): one POST operation per unary method a client may call, with
// request and response bodies described by the proto3 JSON mapping of their messages, so that
// an agency can generate its HTTP client instead of reading .proto files.
//
// A pure function of its input: thread-safe as long as the pool is (DescriptorPool lookups
// are). Descriptors from reflection carry no comments, so the document has no field prose.
//
// The descriptors are the provider's, so hostile input: the document is bounded by
// kMaxOpenApiBytes, counted while it is built, so that no schema makes it cost more memory
// than a small multiple of that bound.
#ifndef RENKEI_SECURITY_SERVER_OPENAPI_H_
#define RENKEI_SECURITY_SERVER_OPENAPI_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"

namespace renkei {

// The largest document served. The municipal services' documents are a few kilobytes; a
// provider whose descriptors need more than this is refused rather than served.
inline constexpr size_t kMaxOpenApiBytes = 8 << 20;

struct OpenApiInput {
  // Provider service subsystem id, e.g. "JP/MUNI/131016/resident-registry".
  std::string service;
  // The caller's client subsystem id (for the description only).
  std::string client;
  int64_t configuration_version = 0;
  // Holds the provider's service descriptors; borrowed for the call.
  const google::protobuf::DescriptorPool* pool = nullptr;
  // gRPC full method names the client may call, e.g.
  // "/renkei.municipal.v1.ResidentRegistry/GetResident".
  std::vector<std::string> methods;
};

// An OpenAPI 3.0.3 document (JSON text) of `methods`: one POST operation per method at
// /r1/{service}/{package.Service}/{Method}; INVALID_ARGUMENT when a method is not in the pool
// or is streaming, or when `pool` is null or `service` empty; RESOURCE_EXHAUSTED when the
// document would be larger than kMaxOpenApiBytes (refused as soon as the part built so far
// passes it, never after building the whole).
//
// Every message reachable from the methods is a schema in components.schemas under its full
// name (recursive messages refer to themselves by $ref; a message's description names each of
// its oneofs and their members once); well-known types (Timestamp, wrappers, Struct, ...) are
// written in place as the JSON mapping renders them. Object keys come out sorted, so the same
// input always gives the same bytes.
//
//   OpenApiInput input{"JP/MUNI/131016/resident-registry", "JP/GOV/MHLW/child-allowance", 7,
//                      google::protobuf::DescriptorPool::generated_pool(),
//                      {"/renkei.municipal.v1.ResidentRegistry/GetResident"}};
//   absl::StatusOr<std::string> json = OpenApiDocument(input);
absl::StatusOr<std::string> OpenApiDocument(const OpenApiInput& input);

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_OPENAPI_H_
