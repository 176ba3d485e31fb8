#include "security_server/server_metrics.h"

namespace renkei {
namespace {

// In the order of ExchangeMetrics::Stage: the series' label values.
constexpr const char* kStageNames[] = {"local_prepare", "peer_round_trip", "local_complete",
                                       "verify",        "provider_call",   "sign",
                                       "outbox"};

std::array<Histogram*, 7> StageSeries(Family<Histogram>& family) {
  static_assert(std::size(kStageNames) == 7, "one name per stage");
  std::array<Histogram*, 7> series;
  for (size_t i = 0; i < series.size(); ++i) series[i] = &family.With({kStageNames[i]});
  return series;
}

}  // namespace

ExchangeMetrics::ExchangeMetrics(MetricsRegistry& registry)
    : exchanges_(registry.AddCounter(
          "renkei_security_server_exchanges_total",
          "Exchanges handled, by direction, client subsystem, service subsystem and outcome "
          "(gRPC status code name).",
          {"direction", "client", "service", "outcome"})),
      rejections_(registry.AddCounter(
          "renkei_security_server_rejections_total",
          "Calls this server refused, by side (local callers or peer servers) and reason.",
          {"side", "reason"})),
      local_calls_(registry.AddCounter(
          "renkei_security_server_local_calls_total",
          "Calls from this agency's systems, by entry (grpc, or rest for JSON over HTTP) and "
          "outcome (gRPC status code name), refusals included.",
          {"entry", "outcome"})),
      stages_(StageSeries(registry.AddHistogram("renkei_security_server_stage_seconds",
                                                "Time spent per stage of an exchange.",
                                                {"stage"}))),
      in_flight_(registry.AddGauge("renkei_security_server_in_flight_calls",
                                   "Calls being handled now (local and peer).")
                     .With({})) {}

void ExchangeMetrics::CountExchange(const std::string& direction, const std::string& client,
                                    const std::string& service, absl::StatusCode outcome) {
  exchanges_.With({direction, client, service, absl::StatusCodeToString(outcome)}).Increment();
}

void ExchangeMetrics::CountLocalCall(v1::OperationalRecord::Entry entry,
                                     absl::StatusCode outcome) {
  local_calls_.With({entry == v1::OperationalRecord::REST ? "rest" : "grpc",
                     absl::StatusCodeToString(outcome)})
      .Increment();
}

void ExchangeMetrics::CountRejection(const std::string& side, absl::StatusCode code) {
  rejections_.With({side, RejectionReason(code)}).Increment();
}

void ExchangeMetrics::ObserveStage(Stage stage, absl::Duration duration) {
  stages_[static_cast<size_t>(stage)]->Observe(absl::ToDoubleSeconds(duration));
}

std::string ExchangeMetrics::RejectionReason(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnauthenticated: return "authentication";  // signature, identity, time
    case absl::StatusCode::kPermissionDenied: return "access_rights";
    case absl::StatusCode::kAlreadyExists: return "replay";
    case absl::StatusCode::kResourceExhausted: return "size_limit";
    case absl::StatusCode::kInvalidArgument: return "malformed";
    case absl::StatusCode::kNotFound: return "unknown_service";
    case absl::StatusCode::kUnavailable: return "unavailable";
    case absl::StatusCode::kDeadlineExceeded: return "deadline";
    case absl::StatusCode::kFailedPrecondition: return "configuration";
    default: return "other";
  }
}

}  // namespace renkei
