#include "common/metrics.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace renkei {
namespace {

using ::testing::HasSubstr;

TEST(Metrics, RendersCountersWithHelpTypeAndEscapedLabels) {
  MetricsRegistry registry;
  auto& exchanges = registry.AddCounter("renkei_exchanges_total", "Exchanges.\nSecond line \\ done",
                                        {"client", "outcome"});
  exchanges.With({"JP/GOV/MHLW/child-allowance", "OK"}).Increment();
  exchanges.With({"JP/GOV/MHLW/child-allowance", "OK"}).Increment(2);
  exchanges.With({"a\"b\\c\nd", "NOT_FOUND"}).Increment();
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP renkei_exchanges_total Exchanges.\\nSecond line \\\\ done\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE renkei_exchanges_total counter\n"));
  EXPECT_THAT(text, HasSubstr(
      "renkei_exchanges_total{client=\"JP/GOV/MHLW/child-allowance\",outcome=\"OK\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("renkei_exchanges_total{client=\"a\\\"b\\\\c\\nd\",outcome=\"NOT_FOUND\"} 1\n"));
}

TEST(Metrics, RendersHistogramBucketsSumAndCount) {
  MetricsRegistry registry;
  auto& latency = registry.AddHistogram("renkei_stage_seconds", "Stage latency.", {"stage"},
                                        {0.1, 1});
  Histogram& verify = latency.With({"verify"});
  verify.Observe(0.05);
  verify.Observe(0.1);  // le is inclusive
  verify.Observe(0.5);
  verify.Observe(7);
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE renkei_stage_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("renkei_stage_seconds_bucket{stage=\"verify\",le=\"0.1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("renkei_stage_seconds_bucket{stage=\"verify\",le=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("renkei_stage_seconds_bucket{stage=\"verify\",le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("renkei_stage_seconds_sum{stage=\"verify\"} 7.65\n"));
  EXPECT_THAT(text, HasSubstr("renkei_stage_seconds_count{stage=\"verify\"} 4\n"));
}

TEST(Metrics, GaugesAndComputedGauges) {
  MetricsRegistry registry;
  auto& in_flight = registry.AddGauge("renkei_in_flight", "Calls in flight.");
  in_flight.With({}).Add(3);
  in_flight.With({}).Add(-1);
  double depth = 42;
  registry.AddComputedGauge("renkei_outbox_records", "Outbox depth.", [&] { return depth; });
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("renkei_in_flight 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE renkei_outbox_records gauge\nrenkei_outbox_records 42\n"));
  depth = 0.5;
  EXPECT_THAT(registry.Render(), HasSubstr("renkei_outbox_records 0.5\n"));
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry registry;
  auto& counter = registry.AddCounter("renkei_test_total", "Test.", {"worker"});
  auto& histogram = registry.AddHistogram("renkei_test_seconds", "Test.", {});
  constexpr int kThreads = 8, kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        counter.With({t % 2 ? "odd" : "even"}).Increment();
        histogram.With({}).Observe(0.001);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.With({"odd"}).value() + counter.With({"even"}).value(), kThreads * kPerThread);
  EXPECT_EQ(histogram.With({}).CumulativeCounts().back(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_NEAR(histogram.With({}).sum(), kThreads * kPerThread * 0.001, 1e-6);
}

TEST(Metrics, FormatsSpecialValues) {
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
  EXPECT_EQ(FormatValue(12), "12");
}

}  // namespace
}  // namespace renkei
