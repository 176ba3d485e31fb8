#include "common/monitoring_server.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "httplib.h"

namespace renkei {

absl::Status SplitHostPort(const std::string& address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), port)) {
    return absl::InvalidArgumentError(absl::StrCat("address \"", address, "\" is not host:port"));
  }
  *host = address.substr(0, colon);
  // "[::1]:9090": httplib binds the bare IPv6 literal.
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::OkStatus();
}

MonitoringServer::MonitoringServer(const MetricsRegistry& registry,
                                   std::function<absl::Status()> health)
    : registry_(registry), health_(std::move(health)) {}

MonitoringServer::~MonitoringServer() { Stop(); }

absl::Status MonitoringServer::Start(const std::string& address) {
  std::string host;
  int port = 0;
  absl::Status parsed = SplitHostPort(address, &host, &port);
  if (!parsed.ok()) return parsed;
  server_ = std::make_unique<httplib::Server>();
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(registry_.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& response) {
    absl::Status status = health_();
    response.status = status.ok() ? 200 : 503;
    response.set_content(status.ok() ? "ok\n" : absl::StrCat("not serving: ", status.message(), "\n"),
                         "text/plain; charset=utf-8");
  });
  if (!server_->bind_to_port(host.c_str(), port)) {
    return absl::UnavailableError(absl::StrCat("cannot listen on monitoring address ", address));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  Log(LogLevel::kInfo, "monitoring", absl::StrCat("metrics and health on http://", address, "/"));
  return absl::OkStatus();
}

void MonitoringServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace renkei
