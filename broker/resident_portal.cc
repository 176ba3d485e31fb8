#include "broker/resident_portal.h"

#include "common/transport_security.h"

#include "absl/strings/str_cat.h"
#include "broker/portal_assets.h"
#include "common/log.h"
#include "common/monitoring_server.h"
#include "httplib.h"

namespace renkei {
namespace {

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

}  // namespace

ResidentPortal::ResidentPortal(ResidentService& residents, const AccessLedger& ledger,
                               const RegistryStore& registry, const Certificate& tree_head_signer)
    : api_(residents, ledger, registry, tree_head_signer) {}

ResidentPortal::~ResidentPortal() { Stop(); }

void ResidentPortal::Routes() {
  server_->set_payload_max_length(PortalApi::kMaxRequestBytes);
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
  auto api = [this](const httplib::Request& request, httplib::Response& response) {
    // Every answer, errors included, carries the API headers.
    SetApiHeaders(response);
    // httplib answers HEAD with the GET handler (and no body).
    const std::string method = request.method == "HEAD" ? "GET" : request.method;
    PortalAnswer answer = api_.Handle(method, request.path, request.params, request.body);
    response.status = answer.status;
    response.set_content(answer.body, "application/json");
  };
  server_->Get("/api/.*", api);
  server_->Post("/api/.*", api);
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
