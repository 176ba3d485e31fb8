#include "common/metrics.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace renkei {
namespace {

void AtomicAdd(std::atomic<double>& target, double amount) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + amount, std::memory_order_relaxed)) {
  }
}

// A family whose one series is computed at scrape time.
class ComputedGauge final : public MetricFamilyBase {
 public:
  ComputedGauge(std::string name, std::string help, std::function<double()> compute)
      : MetricFamilyBase(std::move(name), std::move(help), "gauge", {}),
        compute_(std::move(compute)) {}

 private:
  void RenderSeries(std::string& out) const override {
    absl::StrAppend(&out, name_, " ", FormatValue(compute_()), "\n");
  }
  const std::function<double()> compute_;
};

}  // namespace

void Counter::Increment(double amount) { AtomicAdd(value_, amount); }
void Gauge::Add(double amount) { AtomicAdd(value_, amount); }

Histogram::Histogram(const std::vector<double>& upper_bounds)
    : upper_bounds_(upper_bounds),
      counts_(new std::atomic<uint64_t>[upper_bounds.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i] = 0;
}

void Histogram::Observe(double value) {
  size_t bucket = 0;
  while (bucket < upper_bounds_.size() && value > upper_bounds_[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, value);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> cumulative(upper_bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    cumulative[i] = running;
  }
  return cumulative;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
          1, 2.5, 5, 10};
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return absl::StrFormat("%.0f", value);
  // The shortest form that reads back as the same double.
  for (int precision = 15; precision < 17; ++precision) {
    std::string text = absl::StrFormat("%.*g", precision, value);
    if (std::strtod(text.c_str(), nullptr) == value) return text;
  }
  return absl::StrFormat("%.17g", value);
}

MetricFamilyBase::MetricFamilyBase(std::string name, std::string help, std::string type,
                                   std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(std::move(type)),
      label_names_(std::move(label_names)) {}

void MetricFamilyBase::Render(std::string& out) const {
  absl::StrAppend(&out, "# HELP ", name_, " ", EscapeHelp(help_), "\n# TYPE ", name_, " ", type_,
                  "\n");
  RenderSeries(out);
}

std::string MetricFamilyBase::Labels(const std::vector<std::string>& values,
                                     const std::string& extra) const {
  std::string labels;
  for (size_t i = 0; i < label_names_.size(); ++i) {
    absl::StrAppend(&labels, labels.empty() ? "" : ",", label_names_[i], "=\"",
                    EscapeLabelValue(values[i]), "\"");
  }
  if (!extra.empty()) absl::StrAppend(&labels, labels.empty() ? "" : ",", extra);
  return labels.empty() ? "" : absl::StrCat("{", labels, "}");
}

template <typename Metric>
Metric& Family<Metric>::With(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    // A programming error (the call site names the wrong number of labels), never input.
    std::abort();
  }
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = series_.find(label_values);
    if (it != series_.end()) return *it->second;
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Metric>& series = series_[label_values];
  if (series == nullptr) series = make_();
  return *series;
}

template <>
void Family<Counter>::RenderSeries(std::string& out) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [labels, counter] : series_) {
    absl::StrAppend(&out, name_, Labels(labels), " ", FormatValue(counter->value()), "\n");
  }
}

template <>
void Family<Gauge>::RenderSeries(std::string& out) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [labels, gauge] : series_) {
    absl::StrAppend(&out, name_, Labels(labels), " ", FormatValue(gauge->value()), "\n");
  }
}

template <>
void Family<Histogram>::RenderSeries(std::string& out) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [labels, histogram] : series_) {
    std::vector<uint64_t> counts = histogram->CumulativeCounts();
    const auto& bounds = histogram->upper_bounds();
    for (size_t i = 0; i <= bounds.size(); ++i) {
      std::string le = absl::StrCat("le=\"", i < bounds.size() ? FormatValue(bounds[i]) : "+Inf", "\"");
      absl::StrAppend(&out, name_, "_bucket", Labels(labels, le), " ", counts[i], "\n");
    }
    absl::StrAppend(&out, name_, "_sum", Labels(labels), " ", FormatValue(histogram->sum()), "\n");
    absl::StrAppend(&out, name_, "_count", Labels(labels), " ", counts.back(), "\n");
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                             std::vector<std::string> labels) {
  auto family = std::make_unique<Family<Counter>>(name, help, "counter", std::move(labels),
                                                  [] { return std::make_unique<Counter>(); });
  Family<Counter>& result = *family;
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(family));
  return result;
}

Family<Gauge>& MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                         std::vector<std::string> labels) {
  auto family = std::make_unique<Family<Gauge>>(name, help, "gauge", std::move(labels),
                                                [] { return std::make_unique<Gauge>(); });
  Family<Gauge>& result = *family;
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(family));
  return result;
}

Family<Histogram>& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                                 std::vector<std::string> labels,
                                                 std::vector<double> upper_bounds) {
  auto family = std::make_unique<Family<Histogram>>(
      name, help, "histogram", std::move(labels),
      [upper_bounds] { return std::make_unique<Histogram>(upper_bounds); });
  Family<Histogram>& result = *family;
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(family));
  return result;
}

void MetricsRegistry::AddComputedGauge(const std::string& name, const std::string& help,
                                       std::function<double()> compute) {
  absl::MutexLock lock(&mu_);
  families_.push_back(std::make_unique<ComputedGauge>(name, help, std::move(compute)));
}

std::string MetricsRegistry::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& family : families_) family->Render(out);
  return out;
}

}  // namespace renkei
