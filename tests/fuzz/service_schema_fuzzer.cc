// A provider's service schema (renkei.v1.ServiceSchema) as the JSON entry uses it once its
// signature has passed: the signature says who wrote it, not that it is well made, so its
// descriptors are hostile input. Never a crash, and no call costs without bound: the view is
// made, each allowed method found, requests transcoded from JSON and an answer to JSON (for
// the first 8 callable methods), and the OpenAPI document of the callable methods written.
// Every error has the code its header promises; a document is never over kMaxOpenApiBytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "google/protobuf/stubs/logging.h"

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "renkei/v1/metadata.pb.h"
#include "security_server/openapi.h"
#include "security_server/rest_request.h"
#include "security_server/service_schema.h"

namespace {

constexpr int kMaxMethodsTranscoded = 8;
constexpr size_t kMaxPayloadBytes = 256;

void Expect(bool condition) {
  if (!condition) std::abort();
}

// Either fine or refused with `expected`.
void ExpectOkOr(const absl::Status& status, absl::StatusCode expected) {
  Expect(status.ok() || status.code() == expected);
}

}  // namespace

// Protobuf logs every descriptor it refuses to build; quiet, so the fuzzer runs fast.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  renkei::v1::ServiceSchema statement;
  if (!statement.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto made = renkei::ServiceSchemaView::Create(std::move(statement));
  if (!made.ok()) {
    Expect(made.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  const renkei::ServiceSchemaView& view = **made;
  // The fuzz input itself, as the provider's answer to every method.
  const absl::string_view payload(reinterpret_cast<const char*>(data),
                                  size < kMaxPayloadBytes ? size : kMaxPayloadBytes);

  renkei::OpenApiInput openapi;
  openapi.service = view.service();
  openapi.client = view.client();
  openapi.configuration_version = view.configuration_version();
  openapi.pool = &view.pool();
  int transcoded = 0;
  for (const std::string& name : view.allowed_methods()) {
    auto method = view.FindMethod(name);
    if (!method.ok()) {
      Expect(method.status().code() == absl::StatusCode::kNotFound ||
             method.status().code() == absl::StatusCode::kUnimplemented);
      continue;
    }
    Expect(*method != nullptr);
    openapi.methods.push_back(name);
    if (transcoded == kMaxMethodsTranscoded) continue;
    ++transcoded;
    for (absl::string_view body : {"{}", R"({"a":1})"}) {
      ExpectOkOr(renkei::JsonToRequest(view, **method, body).status(),
                 absl::StatusCode::kInvalidArgument);
    }
    ExpectOkOr(renkei::ResponseToJson(view, **method, payload).status(),
               absl::StatusCode::kDataLoss);
  }

  // As the entry serves it: every allowed method FindMethod accepts.
  auto document = renkei::OpenApiDocument(openapi);
  if (document.ok()) {
    Expect(document->size() <= renkei::kMaxOpenApiBytes);
  } else if (openapi.service.empty()) {
    Expect(document.status().code() == absl::StatusCode::kInvalidArgument);
  } else {
    Expect(document.status().code() == absl::StatusCode::kResourceExhausted);
  }
  return 0;
}
