// The security server's Prometheus metrics (names and labels in one place). Label values are
// configuration identifiers and status-code names only. Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_SERVER_METRICS_H_
#define RENKEI_SECURITY_SERVER_SERVER_METRICS_H_

#include <array>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "renkei/v1/operational.pb.h"

namespace renkei {

class ExchangeMetrics {
 public:
  explicit ExchangeMetrics(MetricsRegistry& registry);

  // direction: "outbound" (this server's client called out) or "inbound" (a peer called in).
  // client/service: subsystem ids, or "unverified" when the request never verified.
  void CountExchange(const std::string& direction, const std::string& client,
                     const std::string& service, absl::StatusCode outcome);
  // Calls from local systems by entry ("grpc" or "rest") and outcome, refusals included.
  void CountLocalCall(v1::OperationalRecord::Entry entry, absl::StatusCode outcome);
  // side: "local" or "peer"; the reason is derived from the code (README "Metrics").
  void CountRejection(const std::string& side, absl::StatusCode code);
  // The stages of an exchange, each a fixed series resolved once.
  enum class Stage {
    kLocalPrepare, kPeerRoundTrip, kLocalComplete, kVerify, kProviderCall, kSign, kOutbox,
  };
  void ObserveStage(Stage stage, absl::Duration duration);
  Gauge& in_flight() { return in_flight_; }

  static std::string RejectionReason(absl::StatusCode code);

 private:
  Family<Counter>& exchanges_;
  Family<Counter>& rejections_;
  Family<Counter>& local_calls_;
  std::array<Histogram*, 7> stages_;
  Gauge& in_flight_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_SERVER_METRICS_H_
