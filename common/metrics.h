// Metrics in the Prometheus text exposition format (0.0.4): counters, gauges and histograms
// with labels, and gauges computed at scrape time. prometheus-cpp is not packaged in Debian
// 12; this is the project's own small equivalent, checked with promtool and a real
// Prometheus server in tests.
//
// Thread-safe. The hot path is lock-free: a series is an atomic; a caller that updates the
// same series often keeps the reference With() returned (series live as long as the
// registry). With() takes a reader lock to find the series and a writer lock only the first
// time a label combination appears. Label values must come from bounded sets (identifiers of
// the configuration, status codes), never message or resident ids.
#ifndef RENKEI_COMMON_METRICS_H_
#define RENKEI_COMMON_METRICS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace renkei {

class Counter {
 public:
  void Increment(double amount = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& upper_bounds);
  void Observe(double value);
  // Cumulative counts per bucket (the last is +Inf), sum and count: one consistent-enough
  // snapshot for exposition (each field is read atomically).
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, +Inf last; not cumulative
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, 100 µs to 10 s.
std::vector<double> LatencyBuckets();

class MetricFamilyBase {
 public:
  MetricFamilyBase(std::string name, std::string help, std::string type,
                   std::vector<std::string> label_names);
  virtual ~MetricFamilyBase() = default;
  void Render(std::string& out) const;

 protected:
  virtual void RenderSeries(std::string& out) const = 0;
  std::string Labels(const std::vector<std::string>& values, const std::string& extra = "") const;

  const std::string name_, help_, type_;
  const std::vector<std::string> label_names_;
};

template <typename Metric>
class Family final : public MetricFamilyBase {
 public:
  Family(std::string name, std::string help, std::string type, std::vector<std::string> labels,
         std::function<std::unique_ptr<Metric>()> make)
      : MetricFamilyBase(std::move(name), std::move(help), std::move(type), std::move(labels)),
        make_(std::move(make)) {}

  // The series for these label values (as many as label names).
  Metric& With(const std::vector<std::string>& label_values);

 private:
  void RenderSeries(std::string& out) const override;

  const std::function<std::unique_ptr<Metric>()> make_;
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_ ABSL_GUARDED_BY(mu_);
};

class MetricsRegistry {
 public:
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> labels,
                                  std::vector<double> upper_bounds = LatencyBuckets());
  // A gauge whose value `compute` returns at each scrape (queue depths, ages, versions).
  void AddComputedGauge(const std::string& name, const std::string& help,
                        std::function<double()> compute);

  // The exposition text, families in registration order.
  std::string Render() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<MetricFamilyBase>> families_ ABSL_GUARDED_BY(mu_);
};

// Escaping of the exposition format, exposed for tests.
std::string EscapeLabelValue(const std::string& value);
std::string EscapeHelp(const std::string& help);
std::string FormatValue(double value);

}  // namespace renkei

#endif  // RENKEI_COMMON_METRICS_H_
