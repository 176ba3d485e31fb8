#include "broker/portal_api.h"

#include <functional>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "google/protobuf/util/json_util.h"

namespace renkei {
namespace {

using Query = std::multimap<std::string, std::string>;

// A uint64 query parameter, or INVALID_ARGUMENT.
absl::StatusOr<uint64_t> QueryNumber(const Query& query, const char* name) {
  uint64_t value = 0;
  auto found = query.find(name);
  if (found == query.end() || !absl::SimpleAtoi(found->second, &value)) {
    return absl::InvalidArgumentError(absl::StrCat("query parameter ", name, " must be a number"));
  }
  return value;
}

int HttpStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

PortalAnswer Error(const absl::Status& status) {
  return {HttpStatus(status.code()),
          absl::StrCat("{\"error\":\"", JsonEscape(status.message()), "\"}")};
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json);
  return json;
}

// Parses the JSON body into `message`.
absl::Status Parse(absl::string_view body, google::protobuf::Message* message) {
  if (body.size() > PortalApi::kMaxRequestBytes) {
    return absl::InvalidArgumentError("request too large");
  }
  auto status = google::protobuf::util::JsonStringToMessage(std::string(body), message);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed request: ", std::string(status.message())));
  }
  return absl::OkStatus();
}

// Parses the body as `Request`, calls `operation` with it and answers with its result.
template <typename Request, typename Operation>
PortalAnswer Call(absl::string_view body, Operation operation,
                  const std::function<std::string(std::string)>& wrap = nullptr) {
  Request request;
  absl::Status parsed = Parse(body, &request);
  if (!parsed.ok()) return Error(parsed);
  auto result = operation(request);
  if (!result.ok()) return Error(result.status());
  std::string json = ToJson(*result);
  return {200, wrap ? wrap(std::move(json)) : std::move(json)};
}

}  // namespace

PortalApi::PortalApi(ResidentService& residents, const AccessLedger& ledger,
                     const RegistryStore& registry, const Certificate& tree_head_signer)
    : residents_(residents), ledger_(ledger), registry_(registry),
      tree_head_signer_(tree_head_signer) {}

PortalAnswer PortalApi::Handle(absl::string_view method, absl::string_view path,
                               const Query& query, absl::string_view body) const {
  if (method == "GET" && path == "/api/tree-head-key") {
    // The certificate that signs tree heads (the anchor's): the page takes the key from it
    // and shows its SHA-256, the fingerprint the anchor and renkeictl name it by.
    return {200, absl::StrCat("{\"certificate\":\"", absl::Base64Escape(tree_head_signer_.der()),
                              "\"}")};
  }
  if (method == "GET" && path == "/api/consistency-proof") {
    // RFC 9162 consistency proof between two tree sizes, as ResidentAccess serves it:
    // public, like the tree heads it links. The page checks that the tree head it is shown
    // extends the one it saw before.
    auto from = QueryNumber(query, "from");
    if (!from.ok()) return Error(from.status());
    auto to = QueryNumber(query, "to");
    if (!to.ok()) return Error(to.status());
    auto proof = ledger_.ConsistencyProof(*from, *to);
    if (!proof.ok()) return Error(proof.status());
    v1::ConsistencyProofResponse message;
    for (std::string& hash : *proof) message.add_proof(std::move(hash));
    return {200, ToJson(message)};
  }
  if (method == "POST" && path == "/api/challenge") {
    return Call<v1::ChallengeRequest>(
        body, [this](const auto& request) { return residents_.DoChallenge(request); });
  }
  if (method == "POST" && path == "/api/sign-in") {
    return Call<v1::SignInRequest>(
        body, [this](const auto& request) { return residents_.DoSignIn(request); });
  }
  if (method == "POST" && path == "/api/records") {
    // With the agencies' names, for display and the agency filter.
    return Call<v1::ListRecordsRequest>(
        body, [this](const auto& request) { return residents_.DoListRecords(request); },
        [this](std::string records) {
          std::string names;
          const v1::GlobalConfiguration registry = registry_.Current();  // a copy: keep it
          for (const v1::Member& member : registry.members()) {
            absl::StrAppend(&names, names.empty() ? "" : ",", "\"", JsonEscape(member.id()),
                            "\":\"", JsonEscape(member.name()), "\"");
          }
          return absl::StrCat("{\"response\":", records, ",\"memberNames\":{", names, "}}");
        });
  }
  return Error(absl::NotFoundError("no such API"));
}

}  // namespace renkei
