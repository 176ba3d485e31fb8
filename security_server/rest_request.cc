#include "security_server/rest_request.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"

namespace renkei {
namespace {

// The protobuf JSON parser's messages may quote the rest of the body after a syntax error;
// the first line says what is wrong, and the body stays out of answers and logs.
std::string FirstLine(absl::string_view message) {
  return std::string(message.substr(0, message.find('\n')));
}

// JSON string contents, escaped per RFC 8259.
std::string JsonEscape(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += absl::StrCat("\\u00", absl::Hex(c, absl::kZeroPad2));
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

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

absl::StatusOr<std::string> JsonToRequest(const ServiceSchemaView& schema,
                                          const google::protobuf::MethodDescriptor& method,
                                          absl::string_view json) {
  std::unique_ptr<google::protobuf::Message> request = schema.NewMessage(*method.input_type());
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  // protobuf 3.21 has its own Status and StringPiece.
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(std::string(json), request.get(), options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the body is not a ", method.input_type()->full_name(), " in JSON: ",
                     FirstLine(std::string(parsed.message()))));
  }
  return request->SerializeAsString();
}

absl::StatusOr<std::string> ResponseToJson(const ServiceSchemaView& schema,
                                           const google::protobuf::MethodDescriptor& method,
                                           absl::string_view payload) {
  std::unique_ptr<google::protobuf::Message> response = schema.NewMessage(*method.output_type());
  if (!response->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::DataLossError(absl::StrCat("the provider's answer does not parse as ",
                                            method.output_type()->full_name()));
  }
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  const auto printed = google::protobuf::util::MessageToJsonString(*response, &json, options);
  if (!printed.ok()) {
    return absl::DataLossError(absl::StrCat("the provider's answer cannot be written as JSON: ",
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
  return absl::StrCat("{\"code\":\"", absl::StatusCodeToString(status.code()),
                      "\",\"message\":\"", JsonEscape(status.message()), "\",\"message_id\":\"",
                      JsonEscape(message_id), "\"}");
}

}  // namespace renkei
