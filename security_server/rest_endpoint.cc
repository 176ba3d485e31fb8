#include "security_server/rest_endpoint.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/monitoring_server.h"
#include "common/openssl_types.h"
#include "httplib.h"
#include "security_server/openapi.h"
#include "security_server/rest_request.h"

namespace renkei {
namespace {

constexpr char kJson[] = "application/json";
constexpr char kMessageIdHeader[] = "Renkei-Message-Id";
// After the exchange's deadline, how long to wait for its evidence to be written before the
// HTTP answer gives up (the record is still written; the answer says 504).
constexpr absl::Duration kCommitGrace = absl::Seconds(10);

// Runs `start(done)` and waits until `done` got a value or `until`; the value may come on any
// thread, also after the wait gave up.
template <typename T, typename Start>
std::optional<T> WaitFor(absl::Time until, Start start) {
  struct Slot {
    absl::Mutex mu;
    std::optional<T> value ABSL_GUARDED_BY(mu);
    absl::Notification ready;
  };
  auto slot = std::make_shared<Slot>();
  start([slot](T value) {
    {
      absl::MutexLock lock(&slot->mu);
      slot->value = std::move(value);
    }
    slot->ready.Notify();
  });
  if (!slot->ready.WaitForNotificationWithDeadline(until)) return std::nullopt;
  absl::MutexLock lock(&slot->mu);
  return std::move(slot->value);
}

// The caller as the gRPC entry would see it (ConsumerSide checks both the same way).
LocalCaller CallerOf(const httplib::Request& request) {
  LocalCaller caller;
  const bool ipv6 = request.remote_addr.find(':') != std::string::npos;
  caller.peer_address = ipv6 ? absl::StrCat("ipv6:[", request.remote_addr, "]:", request.remote_port)
                             : absl::StrCat("ipv4:", request.remote_addr, ":", request.remote_port);
  if (request.ssl != nullptr) {
    OpenSslPtr<X509> certificate(SSL_get1_peer_certificate(request.ssl));
    if (certificate != nullptr) {
      unsigned char* der = nullptr;
      const int length = i2d_X509(certificate.get(), &der);
      if (length > 0) {
        caller.tls = true;
        caller.certificate_sha256 =
            ToHex(Sha256(absl::string_view(reinterpret_cast<char*>(der), length)));
      }
      OPENSSL_free(der);
    }
  }
  return caller;
}

std::multimap<std::string, std::string> HeadersOf(const httplib::Request& request) {
  return {request.headers.begin(), request.headers.end()};
}

// TLS as the gRPC local endpoint: our certificate, client certificates required and issued
// by a local CA (every certificate of the CA file), TLS 1.2 at least.
bool SetUpTls(SSL_CTX& context, const Settings& settings) {
  const auto bio = [](const std::string& pem) {
    return OpenSslPtr<BIO>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  };
  OpenSslPtr<BIO> certificate_pem = bio(settings.local_tls.certificate_pem);
  OpenSslPtr<BIO> key_pem = bio(settings.local_tls.key_pem);
  OpenSslPtr<BIO> ca_pem = bio(settings.local_client_ca_pem);
  OpenSslPtr<X509> certificate(PEM_read_bio_X509(certificate_pem.get(), nullptr, nullptr, nullptr));
  OpenSslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(key_pem.get(), nullptr, nullptr, nullptr));
  if (certificate == nullptr || key == nullptr) return false;
  int cas = 0;
  while (OpenSslPtr<X509> ca{PEM_read_bio_X509(ca_pem.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(SSL_CTX_get_cert_store(&context), ca.get()) != 1) return false;
    ++cas;
  }
  ERR_clear_error();  // the end of the CA file reads as an error
  // Client certificates with session resumption need a context the sessions belong to.
  static constexpr unsigned char kSessionContext[] = "renkei-json-entry";
  if (cas == 0 || SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate(&context, certificate.get()) != 1 ||
      SSL_CTX_use_PrivateKey(&context, key.get()) != 1 ||
      SSL_CTX_check_private_key(&context) != 1 ||
      SSL_CTX_set_session_id_context(&context, kSessionContext, sizeof(kSessionContext) - 1) != 1) {
    return false;
  }
  SSL_CTX_set_verify(&context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return true;
}

// With plaintext on loopback, any local process may act as any client: a web page a browser
// on this machine opened must not, so the Host must be this machine and no Origin is sent
// (browsers always send one on cross-site POSTs).
bool IsLoopbackHost(const std::string& host) {
  const std::string name = host.substr(0, host.rfind(':') == std::string::npos ||
                                                  host.back() == ']'
                                              ? host.size()
                                              : host.rfind(':'));
  return name == "localhost" || name == "[::1]" || name == "127.0.0.1";
}

// The refusal of a plaintext call that a web page, not a local program, may have made.
absl::Status CheckLocalProgram(const httplib::Request& request, bool plaintext) {
  if (!plaintext || (IsLoopbackHost(request.get_header_value("Host")) &&
                     !request.has_header("Origin"))) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      "the plaintext JSON entry answers only local programs: a loopback Host and no Origin");
}

void Answer(httplib::Response& response, int http_status, const absl::Status& status,
            const std::string& message_id) {
  response.status = http_status;
  if (!message_id.empty()) response.set_header(kMessageIdHeader, message_id);
  response.set_content(RestErrorBody(status, message_id), kJson);
}

}  // namespace

RestEndpoint::RestEndpoint(LocalEndpoint& local, SchemaCache& schemas, const Settings& settings,
                           int64_t max_payload_bytes)
    : local_(local), schemas_(schemas), settings_(settings), max_payload_bytes_(max_payload_bytes) {}

RestEndpoint::~RestEndpoint() { Stop(); }

absl::Status RestEndpoint::Start(const std::string& address) {
  std::string host;
  int port = 0;
  absl::Status parsed = SplitHostPort(address, &host, &port);
  if (!parsed.ok()) return parsed;
  if (settings_.local_plaintext) {
    server_ = std::make_unique<httplib::Server>();
  } else {
    auto secure = std::make_unique<httplib::SSLServer>(
        [this](SSL_CTX& context) { return SetUpTls(context, settings_); });
    if (!secure->is_valid()) {
      return absl::InvalidArgumentError(
          "the JSON entry cannot use the local endpoint's TLS certificate, key or client CA");
    }
    server_ = std::move(secure);
  }
  server_->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // JSON spells a message out: room for a request of the federation's size as JSON.
  const size_t max_body = static_cast<size_t>(max_payload_bytes_) * 2 + 64 * 1024;
  server_->set_payload_max_length(max_body);
  const int read_timeout = settings_.config.local().request_read_timeout_seconds() > 0
                               ? settings_.config.local().request_read_timeout_seconds()
                               : 10;
  server_->set_read_timeout(read_timeout, 0);
  server_->set_write_timeout(10, 0);
  server_->set_keep_alive_max_count(1000);
  // httplib writes headers and body apart: without this each kept-alive call waits for the
  // client's delayed ACK (about 40 ms).
  server_->set_tcp_nodelay(true);
  // Refused before the body is read: a compressed or chunked body could grow past every
  // limit (httplib bounds only a Content-Length). httplib keeps the connection open after
  // these, and what was not read is then read as the next request: so only refusals whose
  // next request is the same caller's belong here (the Host and Origin checks are made once
  // the body has been read, in Call and OpenApi).
  server_->set_pre_routing_handler([](const httplib::Request& request,
                                      httplib::Response& response) {
    std::optional<std::pair<int, absl::Status>> refusal;
    if (request.has_header("Content-Encoding")) {
      refusal = {415, absl::InvalidArgumentError(
                          "Content-Encoding is not accepted: send the JSON body uncompressed")};
    } else if (request.has_header("Transfer-Encoding")) {
      refusal = {411, absl::InvalidArgumentError(
                          "send the body with a Content-Length, not in chunks")};
    } else if (request.method != "POST" && request.has_header("Content-Length") &&
               request.get_header_value("Content-Length") != "0") {
      refusal = {400, absl::InvalidArgumentError(
                          absl::StrCat("a ", request.method, " request has no body"))};
    }
    if (!refusal.has_value()) return httplib::Server::HandlerResponse::Unhandled;
    response.status = refusal->first;
    response.set_header("Connection", "close");
    response.set_content(RestErrorBody(refusal->second, ""), kJson);
    return httplib::Server::HandlerResponse::Handled;
  });
  server_->Post(R"(/r1/.*)", [this](const httplib::Request& request, httplib::Response& response) {
    Call(request, response);
  });
  server_->Get(R"(/r1/.*)", [this](const httplib::Request& request, httplib::Response& response) {
    OpenApi(request, response);
  });
  // What httplib refuses itself (no route, a body over the limit, a malformed request) gets
  // the same JSON error body as everything else.
  server_->set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    absl::Status status =
        response.status == 413
            ? absl::ResourceExhaustedError(absl::StrCat("the body is larger than ", max_body, " bytes"))
        : response.status == 404
            ? absl::NotFoundError(
                  "no such path: POST /r1/{INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}/{package.Service}/"
                  "{Method}, or GET .../{SUBSYSTEM}/openapi.json")
            : absl::InvalidArgumentError(absl::StrCat("HTTP request refused (", response.status, ")"));
    response.set_content(RestErrorBody(status, ""), kJson);
    return httplib::Server::HandlerResponse::Handled;
  }));
  if (!server_->bind_to_port(host.c_str(), port)) {
    return absl::UnavailableError(absl::StrCat("cannot listen on JSON entry address ", address));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  Log(LogLevel::kInfo, "server",
      absl::StrCat("JSON entry listening on ", settings_.local_plaintext ? "http://" : "https://",
                   address, kRestPrefix));
  return absl::OkStatus();
}

void RestEndpoint::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void RestEndpoint::Refuse(const httplib::Request& request, absl::Time received_at,
                          int http_status, const absl::Status& status,
                          const absl::Status& logged, httplib::Response& response) {
  // Not the caller's request but the provider's side failed (its schema, its server).
  const bool providers = IsProviderFault(status) || http_status == 502;
  if (providers) http_status = 502;
  // Recorded by gRPC method name, as the gRPC entry's calls are, once the path names one.
  absl::StatusOr<RestTarget> target = ParseRestPath(request.path, /*openapi=*/false);
  local_.CountRefusal(v1::OperationalRecord::REST, target.ok() ? target->method : request.path,
                      CallerOf(request).peer_address, received_at, logged, !providers);
  Answer(response, http_status, status, "");
}

void RestEndpoint::Call(const httplib::Request& request, httplib::Response& response) {
  const absl::Time received_at = absl::Now();
  local_.metrics().in_flight().Add(1);
  struct InFlight {
    LocalEndpoint& local;
    ~InFlight() { local.metrics().in_flight().Add(-1); }
  } in_flight{local_};
  auto refuse = [&](const absl::Status& status) {
    Refuse(request, received_at, HttpStatusOf(status.code()), status, status, response);
  };

  const absl::Status local = CheckLocalProgram(request, settings_.local_plaintext);
  if (!local.ok()) return refuse(local);
  absl::StatusOr<RestTarget> target = ParseRestPath(request.path, /*openapi=*/false);
  if (!target.ok()) return refuse(target.status());
  absl::Time deadline = received_at + LocalEndpoint::kMaxExchange;
  if (request.has_header("Renkei-Timeout")) {
    absl::StatusOr<absl::Duration> timeout =
        ParseRestTimeout(request.get_header_value("Renkei-Timeout"));
    if (!timeout.ok()) return refuse(timeout.status());
    deadline = std::min(deadline, received_at + *timeout);
  }
  const LocalCaller caller = CallerOf(request);
  if (request.get_header_value_count("Renkei-Client") != 1) {
    return refuse(absl::InvalidArgumentError("exactly one Renkei-Client header is required"));
  }
  const std::string client = request.get_header_value("Renkei-Client");

  auto schema = WaitFor<absl::StatusOr<std::shared_ptr<const ServiceSchemaView>>>(
      deadline, [&](auto done) {
        schemas_.Get(caller, client, target->service, std::move(done));
      });
  if (!schema.has_value()) {
    return refuse(absl::DeadlineExceededError("no service schema from the provider in time"));
  }
  if (!schema->ok()) return refuse(schema->status());
  const ServiceSchemaView& view = ***schema;
  absl::StatusOr<const google::protobuf::MethodDescriptor*> method = view.FindMethod(target->method);
  if (!method.ok()) return refuse(method.status());
  if (!view.Allows(target->method)) {
    // The provider's own statement of the rights: refused here, nothing is sent.
    return refuse(absl::PermissionDeniedError(
        absl::StrCat("client subsystem ", client, " may not call ", target->method,
                     " of service subsystem ", target->service)));
  }
  absl::StatusOr<std::string> payload =
      JsonToRequest(view, **method, request.body.empty() ? "{}" : request.body);
  if (!payload.ok()) {
    // The parser's message may quote the body's values: the log line does not.
    return Refuse(request, received_at, 400, payload.status(),
                  absl::InvalidArgumentError(absl::StrCat(
                      "the body is not a ", (*method)->input_type()->full_name(), " in JSON")),
                  response);
  }
  if (static_cast<int64_t>(payload->size()) > max_payload_bytes_) {
    const absl::Status too_large = absl::ResourceExhaustedError(
        absl::StrCat("the request is ", payload->size(), " bytes as protobuf; the federation "
                     "allows ", max_payload_bytes_));
    return Refuse(request, received_at, 413, too_large, too_large, response);
  }

  LocalCall call = RestLocalCall(*target, HeadersOf(request), caller);
  call.payload = *std::move(payload);
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(deadline));
  std::optional<ExchangeOutcome> outcome =
      WaitFor<ExchangeOutcome>(deadline + kCommitGrace, [&](auto done) {
        local_.StartExchange(std::move(call), std::move(context), v1::OperationalRecord::REST,
                             received_at, std::move(done));
      });
  if (!outcome.has_value()) {
    return Answer(response, 504,
                  absl::DeadlineExceededError("the exchange's evidence was not written in time"),
                  "");
  }
  if (!outcome->status.ok()) {
    // The platform refuses with RESOURCE_EXHAUSTED only for size; a service may mean a quota.
    const bool too_large =
        !outcome->answered && outcome->status.code() == absl::StatusCode::kResourceExhausted;
    return Answer(response, too_large ? 413 : HttpStatusOf(outcome->status.code()),
                  outcome->status, outcome->message_id);
  }
  absl::StatusOr<std::string> json = ResponseToJson(view, **method, outcome->payload);
  if (!json.ok()) return Answer(response, 502, json.status(), outcome->message_id);
  response.status = 200;
  response.set_header(kMessageIdHeader, outcome->message_id);
  response.set_content(*std::move(json), kJson);
}

void RestEndpoint::OpenApi(const httplib::Request& request, httplib::Response& response) {
  const absl::Time received_at = absl::Now();
  auto refuse = [&](const absl::Status& status) {
    Refuse(request, received_at, HttpStatusOf(status.code()), status, status, response);
  };
  const absl::Status local = CheckLocalProgram(request, settings_.local_plaintext);
  if (!local.ok()) return refuse(local);
  absl::StatusOr<RestTarget> target = ParseRestPath(request.path, /*openapi=*/true);
  if (!target.ok()) return refuse(target.status());
  if (request.get_header_value_count("Renkei-Client") != 1) {
    return refuse(absl::InvalidArgumentError(
        "exactly one Renkei-Client header is required: the document lists what that client "
        "subsystem may call"));
  }
  const std::string client = request.get_header_value("Renkei-Client");
  const absl::Time deadline = received_at + absl::Seconds(20);
  auto schema = WaitFor<absl::StatusOr<std::shared_ptr<const ServiceSchemaView>>>(
      deadline, [&](auto done) {
        schemas_.Get(CallerOf(request), client, target->service, std::move(done));
      });
  if (!schema.has_value()) {
    return refuse(absl::DeadlineExceededError("no service schema from the provider in time"));
  }
  if (!schema->ok()) return refuse(schema->status());
  const ServiceSchemaView& view = ***schema;
  OpenApiInput input;
  input.service = target->service;
  input.client = client;
  input.configuration_version = view.configuration_version();
  input.pool = &view.pool();
  for (const std::string& method : view.allowed_methods()) {
    if (view.FindMethod(method).ok()) input.methods.push_back(method);  // callable with JSON
  }
  absl::StatusOr<std::string> document = OpenApiDocument(input);
  // What the provider's schema holds is too much to describe: its side, not the caller's.
  if (!document.ok()) {
    return Refuse(request, received_at, 502, document.status(), document.status(), response);
  }
  response.status = 200;
  response.set_content(*std::move(document), kJson);
}

}  // namespace renkei
