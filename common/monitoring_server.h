// MonitoringServer: the operators' HTTP endpoint of a server: GET /metrics (Prometheus text
// exposition) and GET /healthz (200 "ok", or 503 with the failing checks, for load
// balancers). Thread-safe; `registry` and `health` must outlive it.
#ifndef RENKEI_COMMON_MONITORING_SERVER_H_
#define RENKEI_COMMON_MONITORING_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "common/metrics.h"

namespace httplib {
class Server;
}

namespace renkei {

class MonitoringServer {
 public:
  // `health` returns OK when serving, or why not.
  MonitoringServer(const MetricsRegistry& registry, std::function<absl::Status()> health);
  ~MonitoringServer();

  absl::Status Start(const std::string& address);
  void Stop();

 private:
  const MetricsRegistry& registry_;
  const std::function<absl::Status()> health_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

// Splits "host:port"; INVALID_ARGUMENT otherwise.
absl::Status SplitHostPort(const std::string& address, std::string* host, int* port);

}  // namespace renkei

#endif  // RENKEI_COMMON_MONITORING_SERVER_H_
