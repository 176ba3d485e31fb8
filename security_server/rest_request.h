// The JSON entry's request and answer handling, without any I/O (README "Calling from a
// system that speaks JSON"): the path, the Renkei-* headers, and transcoding between the
// proto3 JSON mapping and protobuf with the provider's descriptors. Everything here sees
// bytes straight from a local system: it rejects what it does not understand and never
// crashes (tests/fuzz/rest_request_fuzzer.cc).
//
// Thread-safe (pure functions).
#ifndef RENKEI_SECURITY_SERVER_REST_REQUEST_H_
#define RENKEI_SECURITY_SERVER_REST_REQUEST_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "security_server/consumer_side.h"
#include "security_server/service_schema.h"

namespace renkei {

inline constexpr char kRestPrefix[] = "/r1/";

// What a JSON entry path names.
struct RestTarget {
  std::string service;  // subsystem id, "INSTANCE/CLASS/CODE/SUBSYSTEM"
  std::string method;   // gRPC full method name, "/package.Service/Method"; empty for OpenAPI
};

// POST /r1/{INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}/{package.Service}/{Method}, or
// GET /r1/{INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}/openapi.json (`openapi`). NOT_FOUND naming
// what is wrong with the path.
absl::StatusOr<RestTarget> ParseRestPath(absl::string_view path, bool openapi);

// A Renkei-Timeout value in the gRPC timeout format: 1 to 8 digits and a unit, H M S m u n.
absl::StatusOr<absl::Duration> ParseRestTimeout(absl::string_view value);

// The local call a JSON request makes, with its headers (names in any case; repeated headers
// kept) turned into the renkei-* metadata of the gRPC entry. The payload is left empty.
LocalCall RestLocalCall(const RestTarget& target,
                        const std::multimap<std::string, std::string>& headers,
                        LocalCaller caller);

// `json` as the protobuf bytes of `method`'s request message. INVALID_ARGUMENT naming the
// field that does not match (unknown fields are errors, as a typo must not send less than meant).
absl::StatusOr<std::string> JsonToRequest(const ServiceSchemaView& schema,
                                          const google::protobuf::MethodDescriptor& method,
                                          absl::string_view json);
// The provider's answer (protobuf bytes of `method`'s response message) as JSON, fields at
// their defaults left out. DATA_LOSS when the bytes are not a well-formed such message.
absl::StatusOr<std::string> ResponseToJson(const ServiceSchemaView& schema,
                                           const google::protobuf::MethodDescriptor& method,
                                           absl::string_view payload);

// HTTP status for a gRPC code (the mapping of google.rpc.Code: RESOURCE_EXHAUSTED is 429, as a
// service means a quota by it; the entry answers 413 itself where the platform refused a size).
int HttpStatusOf(absl::StatusCode code);
// {"code": "PERMISSION_DENIED", "message": "...", "message_id": "..."}
std::string RestErrorBody(const absl::Status& status, const std::string& message_id);

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_REST_REQUEST_H_
