// Operators' view, with the real tools: promtool checks every server's /metrics and the
// alert rules; a real Prometheus server scrapes a running federation and fires an alert;
// health flips to NOT_SERVING when the configuration expires and back when it is renewed.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/files.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "protos/health/v1/health.grpc.pb.h"
#include "tests/live_federation.h"

namespace renkei::testing {
namespace {

using ::testing::HasSubstr;

LiveFederationOptions MonitoredOptions() {
  LiveFederationOptions options;
  options.use_broker = true;
  options.monitoring = true;
  return options;
}

bool Exchange(LiveFederation& federation, const std::string& service = kRegistry) {
  grpc::ClientContext context;
  LiveFederation::AddRenkeiMetadata(context, kAllowance, service, "131016-0001");
  municipal::v1::GetResidentRequest request;
  request.set_resident_code("131016-0001");
  municipal::v1::GetResidentResponse response;
  return federation.LocalRegistry(federation.allowance_client)
      ->GetResident(&context, request, &response)
      .ok();
}

std::pair<int, std::string> HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  auto response = client.Get(path.c_str());
  if (!response) return {0, ""};
  return {response->status, response->body};
}

int RunShell(const std::string& command, const std::string& log) {
  Process process("/bin/sh", {"-c", command}, log);
  return process.Wait(120);
}

std::string ReadAll(const std::string& path) {
  auto text = ReadFile(path);
  return text.ok() ? *text : "";
}

TEST(Monitoring, PromtoolAcceptsEveryServersMetricsAndTheAlertRules) {
  LiveFederation federation("monitoring_promtool", MonitoredOptions());
  ASSERT_TRUE(federation.Start());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Exchange(federation));
  Exchange(federation, kTax);  // a failed exchange too, so that every family has series
  const std::string d = federation.directory + "/";
  for (int port : {federation.broker_monitoring_port, federation.provider_monitoring_port,
                   federation.consumer_monitoring_port}) {
    auto [status, body] = HttpGet(port, "/metrics");
    ASSERT_EQ(status, 200);
    std::string file = absl::StrCat(d, "metrics-", port, ".txt");
    ASSERT_TRUE(WriteFileAtomically(file, body, 0644).ok());
    int exit = RunShell(absl::StrCat("promtool check metrics < ", file), file + ".promtool");
    EXPECT_TRUE(WIFEXITED(exit) && WEXITSTATUS(exit) == 0)
        << ReadAll(file + ".promtool") << "\n" << body;
  }
  auto provider = HttpGet(federation.provider_monitoring_port, "/metrics").second;
  EXPECT_THAT(provider, HasSubstr("renkei_security_server_exchanges_total{direction=\"inbound\","
                                  "client=\"JP/GOV/MHLW/child-allowance\",service=\"JP/MUNI/131016/"
                                  "resident-registry\",outcome=\"OK\"} 3"));
  EXPECT_THAT(provider, HasSubstr("renkei_security_server_stage_seconds_bucket{stage=\"verify\""));
  EXPECT_THAT(provider, HasSubstr("renkei_security_server_configuration_version "));
  EXPECT_EQ(provider.find("131016-0001"), std::string::npos) << "no resident ids in metrics";
  auto consumer = HttpGet(federation.consumer_monitoring_port, "/metrics").second;
  EXPECT_THAT(consumer, HasSubstr("outcome=\"UNAVAILABLE\"} 1"));

  int exit = RunShell(absl::StrCat("promtool check rules ", Runfile("deploy/prometheus/alerts.yml")),
                      d + "rules.promtool");
  EXPECT_TRUE(WIFEXITED(exit) && WEXITSTATUS(exit) == 0) << ReadAll(d + "rules.promtool");
}

// Every PromQL expression of the Grafana dashboard, checked by promtool as a rule expression.
TEST(Monitoring, DashboardQueriesAreValidPromQL) {
  auto json = ReadFile(Runfile("deploy/grafana/renkei-dashboard.json"));
  ASSERT_TRUE(json.ok());
  google::protobuf::Struct dashboard;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &dashboard).ok());
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  int count = 0;
  for (const auto& panel : dashboard.fields().at("panels").list_value().values()) {
    for (const auto& target : panel.struct_value().fields().at("targets").list_value().values()) {
      std::string expr = target.struct_value().fields().at("expr").string_value();
      expr = absl::StrReplaceAll(expr, {{"\\", "\\\\"}, {"\"", "\\\""}});
      absl::StrAppend(&rules, "      - alert: Panel", ++count, "\n        expr: \"", expr, "\"\n");
    }
  }
  ASSERT_GT(count, 10);
  const std::string dir = ScratchDirectory("dashboard");
  ASSERT_TRUE(WriteFileAtomically(dir + "/rules.yml", rules, 0644).ok());
  int exit = RunShell("promtool check rules " + dir + "/rules.yml", dir + "/promtool.log");
  EXPECT_TRUE(WIFEXITED(exit) && WEXITSTATUS(exit) == 0) << ReadAll(dir + "/promtool.log") << rules;
}

// The first sample value of a Prometheus query result, or -1.
double QueryValue(int port, const std::string& query) {
  httplib::Client client("127.0.0.1", port);
  auto response = client.Get("/api/v1/query", httplib::Params{{"query", query}}, httplib::Headers{});
  if (!response || response->status != 200) return -1;
  std::smatch match;
  static const std::regex value("\"value\":\\[[0-9.]+,\"([0-9.e+-]+)\"\\]");
  if (!std::regex_search(response->body, match, value)) return -1;
  return std::stod(match[1]);
}

TEST(Monitoring, PrometheusScrapesTheFederationAndFiresTheOutboxAlert) {
  LiveFederation federation("monitoring_prometheus", MonitoredOptions());
  ASSERT_TRUE(federation.Start());
  const std::string d = federation.directory + "/";
  // The production rules, on the test's time scale (seconds instead of minutes).
  std::string rules = ReadAll(Runfile("deploy/prometheus/alerts.yml"));
  ASSERT_FALSE(rules.empty());
  rules = absl::StrReplaceAll(rules, {{"for: 5m", "for: 1s"},
                                      {"oldest_age_seconds > 60", "oldest_age_seconds > 1"}});
  ASSERT_TRUE(WriteFileAtomically(d + "alerts.yml", rules, 0644).ok());
  std::string config = absl::StrCat(
      "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
      "rule_files: [alerts.yml]\n"
      "scrape_configs:\n"
      "  - job_name: renkei-broker\n"
      "    static_configs: [{targets: ['127.0.0.1:", federation.broker_monitoring_port, "']}]\n"
      "  - job_name: renkei-security-server\n"
      "    static_configs: [{targets: ['127.0.0.1:", federation.provider_monitoring_port,
      "', '127.0.0.1:", federation.consumer_monitoring_port, "']}]\n");
  ASSERT_TRUE(WriteFileAtomically(d + "prometheus.yml", config, 0644).ok());
  const int prometheus_port = FreePort();
  Process prometheus("/usr/bin/prometheus",
                     {"--config.file=" + d + "prometheus.yml", "--storage.tsdb.path=" + d + "tsdb",
                      absl::StrCat("--web.listen-address=127.0.0.1:", prometheus_port)},
                     d + "prometheus.log");
  ASSERT_TRUE(WaitForPort(prometheus_port, 60)) << ReadAll(d + "prometheus.log");

  const std::string exchanges =
      "sum(renkei_security_server_exchanges_total{direction=\"inbound\",outcome=\"OK\"})";
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Exchange(federation));
  ASSERT_TRUE(LiveFederation::Eventually([&] { return QueryValue(prometheus_port, exchanges) >= 4; },
                                         absl::Seconds(60)))
      << QueryValue(prometheus_port, exchanges);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Exchange(federation));
  ASSERT_TRUE(LiveFederation::Eventually([&] { return QueryValue(prometheus_port, exchanges) >= 7; },
                                         absl::Seconds(60)));
  EXPECT_EQ(QueryValue(prometheus_port, "sum(up{job=~\"renkei-.*\"})"), 3);

  // The broker goes away; exchanges go on and their records pile up in the outbox.
  federation.StopBroker();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Exchange(federation));
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    httplib::Client client("127.0.0.1", prometheus_port);
    auto response = client.Get("/api/v1/alerts");
    return response && response->body.find("\"alertname\":\"RenkeiOutboxBacklogGrowing\"") !=
                           std::string::npos &&
           response->body.find("\"state\":\"firing\"") != std::string::npos;
  }, absl::Seconds(90))) << HttpGet(prometheus_port, "/api/v1/alerts").second;
}

grpc::health::v1::HealthCheckResponse::ServingStatus GrpcHealth(int port) {
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckResponse response;
  if (!stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response).ok()) {
    return grpc::health::v1::HealthCheckResponse::UNKNOWN;
  }
  return response.status();
}

TEST(Monitoring, HealthFollowsConfigurationExpiryAndRenewal) {
  LiveFederationOptions options = MonitoredOptions();
  options.configuration_validity_seconds = 5;
  LiveFederation federation("monitoring_health", options);
  ASSERT_TRUE(federation.Start());
  const int healthz = federation.provider_monitoring_port;
  const int grpc_port = federation.provider_local_port;  // plaintext loopback endpoint
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    return HttpGet(healthz, "/healthz").first == 200 &&
           GrpcHealth(grpc_port) == grpc::health::v1::HealthCheckResponse::SERVING;
  }));

  federation.StopBroker();
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    return GrpcHealth(grpc_port) == grpc::health::v1::HealthCheckResponse::NOT_SERVING;
  }));
  auto [status, body] = HttpGet(healthz, "/healthz");
  EXPECT_EQ(status, 503);
  EXPECT_THAT(body, HasSubstr("expired"));

  ASSERT_TRUE(federation.StartBroker());
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    return HttpGet(healthz, "/healthz").first == 200 &&
           GrpcHealth(grpc_port) == grpc::health::v1::HealthCheckResponse::SERVING;
  }));
}

}  // namespace
}  // namespace renkei::testing
