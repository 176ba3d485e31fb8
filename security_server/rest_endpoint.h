// RestEndpoint: the JSON entry of the local endpoint (DESIGN.md "REST/JSON entry"). HTTP/1.1
// with TLS and registered client certificates, as the gRPC local endpoint (plaintext only in
// the loopback development mode):
//
//   POST /r1/{INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}/{package.Service}/{Method}   JSON in, JSON out
//   GET  /r1/{INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}/openapi.json                 OpenAPI 3
//
// A call is transcoded with the provider's signed descriptors (SchemaCache) and then is the
// gRPC entry's exchange (LocalEndpoint::StartExchange): the same checks, signatures over the
// same protobuf bytes, the same records. HTTP connections are served by a bounded pool of
// threads that wait for their exchange; the exchange itself never blocks a gRPC thread.
//
// Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_REST_ENDPOINT_H_
#define RENKEI_SECURITY_SERVER_REST_ENDPOINT_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "security_server/local_endpoint.h"
#include "security_server/schema_cache.h"
#include "security_server/settings.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace renkei {

class RestEndpoint {
 public:
  // `max_payload_bytes`: the federation's bound on a request's protobuf bytes.
  RestEndpoint(LocalEndpoint& local, SchemaCache& schemas, const Settings& settings,
               int64_t max_payload_bytes);
  ~RestEndpoint();

  // Listens on `address` (host:port) and serves on its own threads.
  absl::Status Start(const std::string& address);
  // Stops accepting, lets requests being served finish, and joins the threads.
  void Stop();

  // Connections served at once; more wait for a free thread.
  static constexpr int kThreads = 64;

 private:
  void Call(const httplib::Request& request, httplib::Response& response);
  void OpenApi(const httplib::Request& request, httplib::Response& response);
  // Answers a call refused before its exchange started, and counts it as the gRPC entry
  // counts its refusals. `logged` is what the log line says (never the body's values).
  void Refuse(const httplib::Request& request, absl::Time received_at, int http_status,
              const absl::Status& status, const absl::Status& logged,
              httplib::Response& response);

  LocalEndpoint& local_;
  SchemaCache& schemas_;
  const Settings& settings_;
  const int64_t max_payload_bytes_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_REST_ENDPOINT_H_
