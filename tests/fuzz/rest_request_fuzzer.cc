// What a local system may send the JSON entry (security_server/rest_request.h), as
//   PATH\n HEADERS\n BODY
// with HEADERS as "Name: value" lines separated by '\r', against the municipal resident
// registry's schema as its provider would sign it. Never a crash; a path that parses names
// only name characters and yields a call to the service of the path alone; every error has
// the code the header promises and an error body that is one JSON object.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/stubs/logging.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "municipal/v1/resident_registry.pb.h"
#include "security_server/rest_request.h"
#include "security_server/service_schema.h"

namespace {

const renkei::ServiceSchemaView& TheSchema() {
  static const auto* schema = [] {
    renkei::v1::ServiceSchema statement;
    statement.set_service("JP/MUNI/131016/resident-registry");
    statement.set_client("JP/GOV/MHLW/child-allowance");
    statement.set_configuration_version(1);
    // resident_registry.proto imports nothing: it is the whole set.
    renkei::municipal::v1::GetResidentRequest::descriptor()->file()->CopyTo(
        statement.mutable_files()->add_file());
    statement.add_methods("/renkei.municipal.v1.ResidentRegistry/GetResident");
    statement.add_methods("/renkei.municipal.v1.ResidentRegistry/GetResidenceCertificate");
    statement.add_allowed_methods("/renkei.municipal.v1.ResidentRegistry/GetResident");
    auto view = renkei::ServiceSchemaView::Create(std::move(statement));
    if (!view.ok()) std::abort();
    return new std::shared_ptr<const renkei::ServiceSchemaView>(*std::move(view));
  }();
  return **schema;
}

bool IsNameText(absl::string_view text) {
  for (char c : text) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/')) return false;
  }
  return true;
}

// An error as the entry answers it: a code the header promises, an HTTP error status, and a
// body that is one JSON object.
void CheckError(const absl::Status& status, absl::StatusCode expected) {
  if (status.ok() || status.code() != expected) std::abort();
  const int http = renkei::HttpStatusOf(status.code());
  if (http < 400 || http > 599) std::abort();
  const std::string body = renkei::RestErrorBody(status, "0123456789abcdef0123456789abcdef");
  if (body.empty() || body.front() != '{' || body.back() != '}') std::abort();
  for (char c : body) {
    if (static_cast<unsigned char>(c) < 0x20) std::abort();  // control characters escaped
  }
}

}  // namespace

// Protobuf logs every string field of invalid UTF-8 it refuses; quiet, so the fuzzer runs fast.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  (void)TheSchema();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const renkei::ServiceSchemaView& schema = TheSchema();
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> parts = absl::StrSplit(text, absl::MaxSplits('\n', 2));
  parts.resize(3);
  const absl::string_view path = parts[0];
  const absl::string_view body = parts[2];

  std::multimap<std::string, std::string> headers;
  for (absl::string_view line : absl::StrSplit(parts[1], '\r', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> field =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    headers.emplace(std::string(field.first),
                    std::string(absl::StripLeadingAsciiWhitespace(field.second)));
  }
  for (const auto& [name, value] : headers) {
    if (absl::AsciiStrToLower(name) != "renkei-timeout") continue;
    auto timeout = renkei::ParseRestTimeout(value);
    if (timeout.ok()) {
      if (*timeout < absl::ZeroDuration()) std::abort();
    } else {
      CheckError(timeout.status(), absl::StatusCode::kInvalidArgument);
    }
  }

  auto openapi = renkei::ParseRestPath(path, /*openapi=*/true);
  if (openapi.ok()) {
    if (!openapi->method.empty() || !IsNameText(openapi->service)) std::abort();
  } else {
    CheckError(openapi.status(), absl::StatusCode::kNotFound);
  }
  auto target = renkei::ParseRestPath(path, /*openapi=*/false);
  if (!target.ok()) {
    CheckError(target.status(), absl::StatusCode::kNotFound);
    return 0;
  }
  if (target->method.empty() || !IsNameText(target->service) || !IsNameText(target->method)) {
    std::abort();
  }
  const renkei::LocalCall call = renkei::RestLocalCall(*target, headers, renkei::LocalCaller());
  auto service = call.metadata.equal_range(renkei::kServiceKey);
  // The service subsystem comes from the path alone, whatever the headers say.
  if (call.method != target->method || service.first == service.second ||
      service.first->second != target->service || std::next(service.first) != service.second ||
      !call.payload.empty()) {
    std::abort();
  }

  auto method = schema.FindMethod(target->method);
  if (!method.ok()) {
    // The schema offers unary methods only: anything else is simply not offered.
    if (method.status().code() != absl::StatusCode::kNotFound) std::abort();
    return 0;
  }
  auto request = renkei::JsonToRequest(schema, **method, body);
  if (request.ok()) {
    // The request's bytes as if the provider answered them: any outcome but a crash.
    auto json = renkei::ResponseToJson(schema, **method, *request);
    if (!json.ok()) CheckError(json.status(), absl::StatusCode::kDataLoss);
  } else {
    CheckError(request.status(), absl::StatusCode::kInvalidArgument);
  }
  // The body as a provider's answer.
  auto answer = renkei::ResponseToJson(schema, **method, body);
  if (!answer.ok()) CheckError(answer.status(), absl::StatusCode::kDataLoss);
  return 0;
}
