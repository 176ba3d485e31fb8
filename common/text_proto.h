// Loading configuration files written in protobuf text format. Thread-safe.
#ifndef RENKEI_COMMON_TEXT_PROTO_H_
#define RENKEI_COMMON_TEXT_PROTO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace renkei {

// Parses `text` into `message`. Errors are INVALID_ARGUMENT naming `source_name`, the line
// and column, and what the parser expected (unknown field names are errors, not ignored).
absl::Status ParseTextProto(absl::string_view text, const std::string& source_name,
                            google::protobuf::Message* message);

// Reads and parses a file.
absl::Status LoadTextProtoFile(const std::string& path, google::protobuf::Message* message);

}  // namespace renkei

#endif  // RENKEI_COMMON_TEXT_PROTO_H_
