// The broker's Prometheus metrics (names and labels in one place). Thread-safe.
#ifndef RENKEI_BROKER_BROKER_METRICS_H_
#define RENKEI_BROKER_BROKER_METRICS_H_

#include "common/metrics.h"

namespace renkei {

struct BrokerMetrics {
  explicit BrokerMetrics(MetricsRegistry& registry)
      : ledger_appends(registry.AddCounter(
            "renkei_broker_ledger_appends_total",
            "Access records acknowledged to security servers, by the server that recorded them.",
            {"server"})),
        ledger_append_seconds(registry.AddHistogram(
            "renkei_broker_ledger_append_seconds", "Time to verify and append one record batch.",
            {})),
        ledger_rejected_batches(registry.AddCounter(
            "renkei_broker_ledger_rejected_batches_total",
            "Record batches refused, by gRPC status code name.", {"code"})),
        ledger_refused_records(registry.AddCounter(
            "renkei_broker_ledger_refused_records_total",
            "Access records refused one by one (the sender quarantines them), by gRPC status "
            "code name.",
            {"code"})),
        ledger_conflicts(registry.AddCounter(
            "renkei_broker_ledger_conflicts_total",
            "Records refused because a different record is stored under the same recording "
            "server and message id, by the member that sent them.",
            {"member"})),
        resident_requests(registry.AddCounter(
            "renkei_broker_resident_requests_total",
            "Resident API requests, by operation and result (gRPC status code name).",
            {"operation", "result"})),
        admin_changes(registry.AddCounter("renkei_broker_admin_changes_total",
                                          "Registry changes requested by operators, by result.",
                                          {"result"})) {}

  Family<Counter>& ledger_appends;
  Family<Histogram>& ledger_append_seconds;
  Family<Counter>& ledger_rejected_batches;
  Family<Counter>& ledger_refused_records;
  Family<Counter>& ledger_conflicts;
  Family<Counter>& resident_requests;
  Family<Counter>& admin_changes;
};

}  // namespace renkei

#endif  // RENKEI_BROKER_BROKER_METRICS_H_
