#include "broker/resident_portal.h"

#include "common/transport_security.h"

#include <functional>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/portal_assets.h"
#include "common/log.h"
#include "common/monitoring_server.h"
#include "google/protobuf/util/json_util.h"
#include "httplib.h"

namespace renkei {
namespace {

constexpr size_t kMaxRequestBytes = 16 * 1024;

// The page runs only its own script and style sheet, talks only to its own origin, and is
// never framed (clickjacking a resident's history page).
constexpr char kPagePolicy[] =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'";

void SetPageHeaders(httplib::Response& response) {
  response.set_header("Content-Security-Policy", kPagePolicy);
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("X-Frame-Options", "DENY");
  response.set_header("Referrer-Policy", "no-referrer");
  // Revalidate: a page cached from an older broker would rebuild old signing inputs.
  response.set_header("Cache-Control", "no-cache");
}

// Answers hold a resident's history and session: no cache, shared or private, keeps them.
void SetApiHeaders(httplib::Response& response) {
  response.set_header("Cache-Control", "no-store");
  response.set_header("X-Content-Type-Options", "nosniff");
}

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

// Wraps an API handler so that every answer, errors included, carries the API headers.
Handler Api(Handler handler) {
  return [handler = std::move(handler)](const httplib::Request& request,
                                        httplib::Response& response) {
    SetApiHeaders(response);
    handler(request, response);
  };
}

// A uint64 query parameter, or INVALID_ARGUMENT.
absl::StatusOr<uint64_t> QueryNumber(const httplib::Request& request, const char* name) {
  uint64_t value = 0;
  if (!request.has_param(name) || !absl::SimpleAtoi(request.get_param_value(name), &value)) {
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
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

void Error(httplib::Response& response, const absl::Status& status) {
  response.status = HttpStatus(status.code());
  response.set_content(absl::StrCat("{\"error\":\"", JsonEscape(status.message()), "\"}"),
                       "application/json");
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// Parses the JSON body into `message`, or answers 400 and returns false.
bool Parse(const httplib::Request& request, httplib::Response& response,
           google::protobuf::Message* message) {
  if (request.body.size() > kMaxRequestBytes) {
    Error(response, absl::InvalidArgumentError("request too large"));
    return false;
  }
  auto status = google::protobuf::util::JsonStringToMessage(request.body, message);
  if (!status.ok()) {
    Error(response, absl::InvalidArgumentError(absl::StrCat("malformed request: ",
                                                            std::string(status.message()))));
    return false;
  }
  return true;
}

}  // namespace

ResidentPortal::ResidentPortal(ResidentService& residents, const AccessLedger& ledger,
                               const RegistryStore& registry, const Certificate& tree_head_signer)
    : residents_(residents), ledger_(ledger), registry_(registry),
      tree_head_signer_(tree_head_signer) {}

ResidentPortal::~ResidentPortal() { Stop(); }

void ResidentPortal::Routes() {
  server_->set_payload_max_length(kMaxRequestBytes);
  server_->Get("/", [](const httplib::Request&, httplib::Response& response) {
    SetPageHeaders(response);
    response.set_redirect("/index.html");
  });
  for (const auto& [path, asset] : PortalAssets()) {
    const PortalAsset* served = &asset;
    server_->Get(path, [served](const httplib::Request&, httplib::Response& response) {
      SetPageHeaders(response);
      response.set_content(served->body, served->content_type.c_str());
    });
  }
  server_->Get("/api/tree-head-key", Api([this](const httplib::Request&,
                                                httplib::Response& response) {
    // The certificate that signs tree heads (the anchor's): the page takes the key from it
    // and shows its SHA-256, the fingerprint the anchor and renkeictl name it by.
    response.set_content(
        absl::StrCat("{\"certificate\":\"", absl::Base64Escape(tree_head_signer_.der()), "\"}"),
        "application/json");
  }));
  // RFC 9162 consistency proof between two tree sizes, as ResidentAccess/GetConsistencyProof
  // serves it: public, like the tree heads it links. The page checks that the tree head it
  // is shown extends the one it saw before.
  server_->Get("/api/consistency-proof", Api([this](const httplib::Request& request,
                                                    httplib::Response& response) {
    auto from = QueryNumber(request, "from");
    if (!from.ok()) return Error(response, from.status());
    auto to = QueryNumber(request, "to");
    if (!to.ok()) return Error(response, to.status());
    auto proof = ledger_.ConsistencyProof(*from, *to);
    if (!proof.ok()) return Error(response, proof.status());
    v1::ConsistencyProofResponse message;
    for (std::string& hash : *proof) message.add_proof(std::move(hash));
    response.set_content(ToJson(message), "application/json");
  }));
  server_->Post("/api/challenge", Api([this](const httplib::Request& request,
                                             httplib::Response& response) {
    v1::ChallengeRequest message;
    if (!Parse(request, response, &message)) return;
    auto result = residents_.DoChallenge(message);
    if (!result.ok()) return Error(response, result.status());
    response.set_content(ToJson(*result), "application/json");
  }));
  server_->Post("/api/sign-in", Api([this](const httplib::Request& request,
                                           httplib::Response& response) {
    v1::SignInRequest message;
    if (!Parse(request, response, &message)) return;
    auto result = residents_.DoSignIn(message);
    if (!result.ok()) return Error(response, result.status());
    response.set_content(ToJson(*result), "application/json");
  }));
  server_->Post("/api/records", Api([this](const httplib::Request& request,
                                           httplib::Response& response) {
    v1::ListRecordsRequest message;
    if (!Parse(request, response, &message)) return;
    auto result = residents_.DoListRecords(message);
    if (!result.ok()) return Error(response, result.status());
    // Agencies by name, for display and the agency filter.
    std::string names;
    const v1::GlobalConfiguration registry = registry_.Current();
    for (const v1::Member& member : registry.members()) {
      absl::StrAppend(&names, names.empty() ? "" : ",", "\"", JsonEscape(member.id()), "\":\"",
                      JsonEscape(member.name()), "\"");
    }
    response.set_content(
        absl::StrCat("{\"response\":", ToJson(*result), ",\"memberNames\":{", names, "}}"),
        "application/json");
  }));
}

absl::Status ResidentPortal::Start(const std::string& address,
                                   const std::string& tls_certificate_file,
                                   const std::string& tls_key_file) {
  std::string host;
  int port = 0;
  absl::Status parsed = SplitHostPort(address, &host, &port);
  if (!parsed.ok()) return parsed;
  const bool tls = !tls_certificate_file.empty();
  if (!tls && !IsLoopbackAddress(address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the resident portal serves plain HTTP only on a loopback address, not ", address,
        ": give it the broker's TLS certificate"));
  }
  if (tls) {
    auto secure = std::make_unique<httplib::SSLServer>(tls_certificate_file.c_str(),
                                                       tls_key_file.c_str());
    if (!secure->is_valid()) {
      return absl::InvalidArgumentError("the resident portal cannot use the TLS certificate");
    }
    secure->set_default_headers(
        {{"Strict-Transport-Security", "max-age=31536000; includeSubDomains"}});
    server_ = std::move(secure);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  Routes();
  if (!server_->bind_to_port(host.c_str(), port)) {
    return absl::UnavailableError(absl::StrCat("cannot listen on portal address ", address));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  Log(LogLevel::kInfo, "portal",
      absl::StrCat("resident portal on ", tls ? "https://" : "http://", address, "/"));
  return absl::OkStatus();
}

void ResidentPortal::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace renkei
