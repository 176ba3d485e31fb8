#include "security_server/rest_request.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/wire_format.h"
#include "google/protobuf/wire_format_lite.h"

namespace renkei {
namespace {

// The protobuf JSON parser's messages may quote the rest of the body after a syntax error;
// the first line says what is wrong, and the body stays out of answers and logs.
std::string FirstLine(absl::string_view message) {
  return std::string(message.substr(0, message.find('\n')));
}

// The JSON printer's own limit: a deeper answer could not be printed anyway.
constexpr int kMaxMessageDepth = 64;

// True when the packed contents of `field` up to `in`'s limit are whole values.
bool IsWellFormedPacked(google::protobuf::io::CodedInputStream& in,
                        const google::protobuf::FieldDescriptor& field) {
  using google::protobuf::internal::WireFormat;
  using google::protobuf::internal::WireFormatLite;
  switch (WireFormat::WireTypeForFieldType(field.type())) {
    case WireFormatLite::WIRETYPE_FIXED32:
      return in.BytesUntilLimit() % 4 == 0 && in.Skip(in.BytesUntilLimit());
    case WireFormatLite::WIRETYPE_FIXED64:
      return in.BytesUntilLimit() % 8 == 0 && in.Skip(in.BytesUntilLimit());
    default:  // varints
      while (in.BytesUntilLimit() > 0) {
        uint64_t value = 0;
        if (!in.ReadVarint64(&value)) return false;
      }
      return true;
  }
}

// True when `in` (up to its limit) holds a well-formed `type`, as protobuf's parser would
// accept it: fields with another wire type than declared are unknown fields, packed values
// are whole, and strings are UTF-8 (JSON cannot carry anything else; proto2 allows it, but the
// printer would silently write ""). Walks the bytes without building any message, so a schema
// cannot make it cost more than the bytes do; depth is bounded. The JSON printer trusts its
// input: it prints made-up values for malformed bytes rather than failing.
bool IsWellFormed(google::protobuf::io::CodedInputStream& in,
                  const google::protobuf::Descriptor& type, int depth) {
  using google::protobuf::FieldDescriptor;
  using google::protobuf::internal::WireFormat;
  using google::protobuf::internal::WireFormatLite;
  if (depth > kMaxMessageDepth) return false;
  while (true) {
    if (in.BytesUntilLimit() == 0) return true;
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return false;  // a tag that is none, or cut short
    const FieldDescriptor* field = type.FindFieldByNumber(static_cast<int>(tag >> 3));
    const bool delimited =
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    const bool nested = field != nullptr && field->type() == FieldDescriptor::TYPE_MESSAGE;
    const bool text = field != nullptr && field->type() == FieldDescriptor::TYPE_STRING;
    const bool packed = field != nullptr && field->is_packable();
    if (delimited && (nested || text || packed)) {
      uint32_t length = 0;
      if (!in.ReadVarint32(&length) || length > static_cast<uint32_t>(in.BytesUntilLimit())) {
        return false;
      }
      if (text) {
        std::string value;
        if (!in.ReadString(&value, static_cast<int>(length)) || !IsUtf8(value)) return false;
        continue;
      }
      const auto limit = in.PushLimit(static_cast<int>(length));
      if (!(nested ? IsWellFormed(in, *field->message_type(), depth + 1)
                   : IsWellFormedPacked(in, *field))) {
        return false;
      }
      in.PopLimit(limit);
      continue;
    }
    if (!WireFormat::SkipField(&in, tag, nullptr)) return false;
  }
}

// Messages may carry bytes from a provider or its backend: at most this much of them is sent.
constexpr size_t kMaxMessageBytes = 2048;

bool IsSegment(absl::string_view segment) {
  if (segment.empty() || segment.size() > 255) return false;
  // "." and ".." name nothing here, and look like a path traversal to whoever reads a log.
  if (segment.find_first_not_of('.') == absl::string_view::npos) return false;
  for (char c : segment) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<RestTarget> ParseRestPath(absl::string_view path, bool openapi) {
  if (!absl::ConsumePrefix(&path, kRestPrefix)) {
    return absl::NotFoundError(absl::StrCat("JSON entry paths start with ", kRestPrefix));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  const size_t expected = openapi ? 5 : 6;
  if (parts.size() != expected) {
    return absl::NotFoundError(
        openapi ? "expected /r1/{INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}/openapi.json"
                : "expected /r1/{INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}/{package.Service}/{Method}");
  }
  for (absl::string_view part : parts) {
    if (!IsSegment(part)) {
      return absl::NotFoundError(absl::StrCat("path segment \"", JsonEscape(part.substr(0, 64)),
                                              "\" is not a name"));
    }
  }
  RestTarget target;
  target.service = absl::StrCat(parts[0], "/", parts[1], "/", parts[2], "/", parts[3]);
  if (openapi) {
    if (parts[4] != "openapi.json") return absl::NotFoundError("expected openapi.json");
    return target;
  }
  if (parts[4].find('.') == absl::string_view::npos || parts[5].find('.') != absl::string_view::npos) {
    return absl::NotFoundError("expected {package.Service}/{Method} after the service subsystem");
  }
  target.method = absl::StrCat("/", parts[4], "/", parts[5]);
  return target;
}

absl::StatusOr<absl::Duration> ParseRestTimeout(absl::string_view value) {
  int64_t amount = 0;
  if (value.size() < 2 || value.size() > 9 ||
      !std::all_of(value.begin(), value.end() - 1, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(value.substr(0, value.size() - 1), &amount)) {
    return absl::InvalidArgumentError(
        "Renkei-Timeout: expected 1 to 8 digits and a unit (H, M, S, m, u, n), e.g. 5S");
  }
  switch (value.back()) {
    case 'H': return absl::Hours(amount);
    case 'M': return absl::Minutes(amount);
    case 'S': return absl::Seconds(amount);
    case 'm': return absl::Milliseconds(amount);
    case 'u': return absl::Microseconds(amount);
    case 'n': return absl::Nanoseconds(amount);
    default:
      return absl::InvalidArgumentError(
          "Renkei-Timeout: the unit must be one of H, M, S, m, u, n (e.g. 5S)");
  }
}

LocalCall RestLocalCall(const RestTarget& target,
                        const std::multimap<std::string, std::string>& headers,
                        LocalCaller caller) {
  LocalCall call;
  call.method = target.method;
  call.caller = std::move(caller);
  call.metadata.emplace(kServiceKey, target.service);
  for (const auto& [name, value] : headers) {
    const std::string key = absl::AsciiStrToLower(name);
    // Only the exchange's own headers; renkei-service comes from the path alone.
    if (key == kClientKey || key == kSubjectKey || key == kPurposeKey || key == kUserKey) {
      call.metadata.emplace(key, value);
    }
  }
  return call;
}

// Both directions stream between JSON and protobuf bytes through the schema's type resolver:
// no message object is built, so memory follows the size of what is written, however the
// schema's types multiply empty elements.
absl::StatusOr<std::string> JsonToRequest(const ServiceSchemaView& schema,
                                          const google::protobuf::MethodDescriptor& method,
                                          absl::string_view json) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  std::string binary;
  // protobuf 3.21 has its own Status and StringPiece.
  const auto parsed = google::protobuf::util::JsonToBinaryString(
      schema.resolver(), TypeUrlOf(*method.input_type()), std::string(json), &binary, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the body is not a ", method.input_type()->full_name(), " in JSON: ",
                     FirstLine(std::string(parsed.message()))));
  }
  return binary;
}

absl::StatusOr<std::string> ResponseToJson(const ServiceSchemaView& schema,
                                           const google::protobuf::MethodDescriptor& method,
                                           absl::string_view payload) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(payload.data()),
                                           static_cast<int>(payload.size()));
  in.PushLimit(static_cast<int>(payload.size()));
  if (!IsWellFormed(in, *method.output_type(), 0)) {
    return absl::DataLossError(absl::StrCat("the provider's answer is not a well-formed ",
                                            method.output_type()->full_name()));
  }
  // Fields at their default are left out (the proto3 JSON default): printing them all would
  // let a schema with wide messages turn a few bytes into gigabytes.
  std::string json;
  const auto printed = google::protobuf::util::BinaryToJsonString(
      schema.resolver(), TypeUrlOf(*method.output_type()), std::string(payload), &json,
      google::protobuf::util::JsonPrintOptions());
  if (!printed.ok()) {
    return absl::DataLossError(absl::StrCat("the provider's answer is not a ",
                                            method.output_type()->full_name(), ": ",
                                            FirstLine(std::string(printed.message()))));
  }
  return json;
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kCancelled: return 499;
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kFailedPrecondition: return 400;
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;  // UNKNOWN, INTERNAL, DATA_LOSS
  }
}

std::string RestErrorBody(const absl::Status& status, const std::string& message_id) {
  absl::string_view message = status.message();
  const bool cut = message.size() > kMaxMessageBytes;
  return absl::StrCat("{\"code\":\"", absl::StatusCodeToString(status.code()),
                      "\",\"message\":\"", JsonEscape(message.substr(0, kMaxMessageBytes)),
                      cut ? " [...]" : "", "\",\"message_id\":\"", JsonEscape(message_id), "\"}");
}

}  // namespace renkei
