// The JSON entry end to end (README "Calling from a system that speaks JSON"): real security
// servers, the real registry (descriptors by reflection) and the in-process test backend
// (descriptors from a file), called over HTTPS with client certificates.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "renkei/v1/operational.grpc.pb.h"
#include "tests/live_federation.h"

namespace renkei::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kRegistryPath[] =
    "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident";
constexpr char kBackendPath[] =
    "/r1/JP/MUNI/131016/test-backend/renkei.municipal.v1.ResidentRegistry/GetResident";
constexpr char kTsujiIvs[] = "\xE8\xBE\xBB\xF3\xA0\x84\x80";  // 辻 + VS17

std::string Header(const LiveFederation::HttpAnswer& answer, const std::string& name) {
  for (const auto& [key, value] : answer.headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

// The error body the entry promises: {"code": ..., "message": ..., "message_id": ...}.
void ExpectError(const LiveFederation::HttpAnswer& answer, int status, const std::string& code,
                 const std::string& message_part) {
  EXPECT_EQ(answer.status, status) << answer.error << answer.body;
  EXPECT_THAT(answer.body, HasSubstr(absl::StrCat("{\"code\":\"", code, "\",\"message\":\"")));
  EXPECT_THAT(answer.body, HasSubstr(message_part));
  EXPECT_THAT(answer.body, HasSubstr("\"message_id\":\""));
  EXPECT_EQ(Header(answer, "Content-Type"), "application/json");
}

int RunTool(const std::string& program, const std::vector<std::string>& arguments,
        const std::string& log) {
  Process process(program, arguments, log);
  int status = process.Wait(120);
  return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(RestEntry, CurlAndAStandardLibraryPythonClientCallTheRegistry) {
  LiveFederation federation("rest_clients");
  ASSERT_TRUE(federation.Start());
  const std::string d = federation.directory + "/";
  ASSERT_TRUE(WriteFileAtomically(d + "client.pem", federation.allowance_client.certificate.Pem(), 0644).ok());
  ASSERT_TRUE(WriteFileAtomically(d + "client.key", federation.allowance_client.key.Pem(), 0600).ok());
  const std::string url = absl::StrCat("https://127.0.0.1:", federation.consumer_rest_port);

  int curl = RunTool("/usr/bin/curl",
                 {"--silent", "--show-error", "--cacert", federation.local_ca_file, "--cert",
                  d + "client.pem", "--key", d + "client.key", "--header",
                  "Renkei-Client: JP/GOV/MHLW/child-allowance", "--header",
                  "Renkei-Subject: 131016-0007", "--header", "Renkei-Purpose: curl-test",
                  "--header", "Content-Type: application/json", "--data",
                  R"({"residentCode": "131016-0007"})", "--dump-header", d + "curl.headers",
                  "--output", d + "curl.body", url + kRegistryPath},
                 d + "curl.log");
  ASSERT_EQ(curl, 0) << *ReadFile(d + "curl.log");
  std::string headers = *ReadFile(d + "curl.headers");
  std::string body = *ReadFile(d + "curl.body");
  EXPECT_THAT(headers, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(headers, ::testing::ContainsRegex("Renkei-Message-Id: [0-9a-f]{32}"));
  EXPECT_THAT(body, HasSubstr(absl::StrCat("\"familyNameKanji\":\"", kTsujiIvs, "\"")));
  EXPECT_THAT(body, HasSubstr("\"residentCode\":\"131016-0007\""));

  // A chunked body is refused before it is read: httplib bounds only a Content-Length.
  ASSERT_TRUE(WriteFileAtomically(d + "big.json", std::string(1024, ' ') + "{}", 0644).ok());
  int chunked = RunTool("/usr/bin/curl",
                        {"--silent", "--show-error", "--cacert", federation.local_ca_file, "--cert",
                         d + "client.pem", "--key", d + "client.key", "--header",
                         "Transfer-Encoding: chunked", "--data-binary", "@" + d + "big.json",
                         "--write-out", "%{http_code}", "--output", d + "chunked.body",
                         url + kRegistryPath},
                        d + "chunked.log");
  EXPECT_EQ(chunked, 0) << *ReadFile(d + "chunked.log");
  EXPECT_THAT(*ReadFile(d + "chunked.log"), HasSubstr("411"));
  EXPECT_THAT(*ReadFile(d + "chunked.body"), HasSubstr("not in chunks"));

  const std::string log = d + "python.log";
  int python = RunTool("/usr/bin/python3",
                   {Runfile("tests/rest_client.py"), "--url", url, "--ca", federation.local_ca_file,
                    "--cert", d + "client.pem", "--key", d + "client.key"},
                   log);
  std::string text = *ReadFile(log);
  EXPECT_EQ(python, 0) << text;
  EXPECT_THAT(text, HasSubstr("all checks passed"));
  std::cout << text;
}

TEST(RestEntry, EveryRefusalHasItsStatusAndJsonBody) {
  LiveFederationOptions options;
  options.monitoring = true;
  LiveFederation federation("rest_errors", options);
  ASSERT_TRUE(federation.Start());
  const TestCredentials* allowance = &federation.allowance_client;
  auto headers = LiveFederation::RestHeaders(kAllowance, "131016-0001");
  auto post = [&](const std::string& path, const std::string& body,
                  std::vector<std::pair<std::string, std::string>> with = {},
                  const TestCredentials* client = nullptr) {
    if (with.empty()) with = headers;
    return federation.Rest(client ? client : allowance, "POST", path, with, body);
  };

  // A provider whose backend cannot be asked for its descriptors: nothing to transcode with.
  federation.registry->Signal(SIGKILL);
  federation.registry->Wait(10);
  // It is the provider's side that failed, not the call: 502.
  ExpectError(post(kRegistryPath, R"({"residentCode": "131016-0001"})"), 502, "UNAVAILABLE",
              "no descriptors of JP/MUNI/131016/resident-registry");

  // The right call works.
  auto ok = post(kBackendPath, R"({"residentCode": "plain"})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_THAT(ok.body, HasSubstr("\"familyNameKanji\":\"plain\""));

  const int calls_before = federation.BackendCalls();
  ExpectError(post(kBackendPath, R"({"residentCode": "a",)"), 400, "INVALID_ARGUMENT",
              "is not a renkei.municipal.v1.GetResidentRequest in JSON");
  ExpectError(post(kBackendPath, R"({"residentKode": "a"})"), 400, "INVALID_ARGUMENT",
              "residentKode");
  ExpectError(post(kBackendPath, R"({"residentCode": 12})"), 400, "INVALID_ARGUMENT",
              "(resident_code): invalid value 12");
  ExpectError(post(kBackendPath, R"(["residentCode"])"), 400, "INVALID_ARGUMENT", "JSON");
  // A body that does not match is refused before anything is sent to the provider.
  EXPECT_EQ(federation.BackendCalls(), calls_before);

  ExpectError(post("/r1/JP/MUNI/131016/no-such-service/renkei.municipal.v1.ResidentRegistry/"
                   "GetResident", "{}"),
              404, "NOT_FOUND", "no security server provides service subsystem");
  ExpectError(post("/r1/JP/MUNI/131016/test-backend/renkei.municipal.v1.ResidentRegistry/Nope",
                   "{}"),
              404, "NOT_FOUND", "offers no method /renkei.municipal.v1.ResidentRegistry/Nope");
  ExpectError(post("/r1/JP/MUNI/131016/test-backend/GetResident", "{}"), 404, "NOT_FOUND",
              "expected /r1/");
  ExpectError(post("/elsewhere", "{}"), 404, "NOT_FOUND", "no such path");

  // The pension system may call nothing of the registry, and only GetResident of the test
  // backend: of that service it is shown nothing else. An unregistered system may call nothing.
  auto pension = LiveFederation::RestHeaders(kPension, "131016-0001");
  ExpectError(post(kRegistryPath, R"({"residentCode": "131016-0001"})", pension,
                   &federation.pension_client),
              403, "PERMISSION_DENIED",
              "client JP/GOV/MHLW/pension may call no method of JP/MUNI/131016/resident-registry");
  ExpectError(post("/r1/JP/MUNI/131016/test-backend/renkei.municipal.v1.ResidentRegistry/"
                   "GetResidenceCertificate",
                   R"({"residentCode": "131016-0001", "rendering": "TEXT"})", pension,
                   &federation.pension_client),
              404, "NOT_FOUND",
              "offers no method /renkei.municipal.v1.ResidentRegistry/GetResidenceCertificate");
  ExpectError(post(kBackendPath, R"({"residentCode": "a"})", headers, &federation.stranger_client),
              403, "PERMISSION_DENIED", "may not act as client subsystem");
  // Without a client certificate there is no TLS connection at all.
  auto anonymous = federation.Rest(nullptr, "POST", kBackendPath, headers, "{}");
  EXPECT_EQ(anonymous.status, 0);

  // The Renkei-* headers follow the gRPC metadata's rules.
  ExpectError(post(kBackendPath, R"({"residentCode": "a"})",
                   {{"Renkei-Client", kAllowance}, {"Renkei-Purpose", "test"}}),
              400, "INVALID_ARGUMENT", "missing renkei-subject");
  ExpectError(post(kBackendPath, "{}", {{"Renkei-Subject", "x"}, {"Renkei-Purpose", "test"}}),
              400, "INVALID_ARGUMENT", "exactly one Renkei-Client header");
  auto bad_timeout = headers;
  bad_timeout.push_back({"Renkei-Timeout", "soon"});
  ExpectError(post(kBackendPath, "{}", bad_timeout), 400, "INVALID_ARGUMENT", "Renkei-Timeout");

  // Renkei-Timeout travels to the provider as the gRPC deadline does.
  auto short_timeout = headers;
  short_timeout.push_back({"Renkei-Timeout", "700m"});
  const absl::Time sent = absl::Now();
  auto slow = post(kBackendPath, R"({"residentCode": "slow"})", short_timeout);
  ExpectError(slow, 504, "DEADLINE_EXCEEDED", "");
  EXPECT_LT(federation.LastBackendDeadline(), sent + absl::Seconds(1));
  EXPECT_GT(federation.LastBackendDeadline(), sent);

  // Over the federation's size: as protobuf (413 from the entry) and as a body httplib
  // refuses before reading it.
  const std::string big(300 * 1024, 'x');
  ExpectError(post(kBackendPath, absl::StrCat(R"({"residentCode": ")", big, "\"}")), 413,
              "RESOURCE_EXHAUSTED", "the federation allows");
  ExpectError(post(kBackendPath, std::string(1024 * 1024, ' ')), 413, "RESOURCE_EXHAUSTED",
              "the body is larger than");

  // A service that declares no methods has none to call.
  ExpectError(post("/r1/JP/MUNI/131016/tax/renkei.municipal.v1.ResidentRegistry/GetResident",
                   "{}"),
              404, "NOT_FOUND", "JP/MUNI/131016/tax declares no methods");

  // A backend answer over the provider server's bound is recorded as the provider's answer
  // (RESOURCE_EXHAUSTED, which from a service means a quota: 429), with its message id.
  auto refused = post(kBackendPath, R"({"residentCode": "big:400000"})");
  ExpectError(refused, 429, "RESOURCE_EXHAUSTED", "Received message larger than max");
  EXPECT_THAT(Header(refused, "Renkei-Message-Id"), ::testing::MatchesRegex("[0-9a-f]{32}"));

  auto compressed = headers;
  compressed.push_back({"Content-Encoding", "gzip"});
  ExpectError(post(kBackendPath, "\x1f\x8b", compressed), 415, "INVALID_ARGUMENT",
              "Content-Encoding is not accepted");

  auto not_a_route = federation.Rest(allowance, "GET", "/", {});
  ExpectError(not_a_route, 404, "NOT_FOUND", "no such path");

  // Counted apart from the gRPC entry, refusals included; never a resident number.
  httplib::Client monitoring("127.0.0.1", federation.consumer_monitoring_port);
  auto metrics = monitoring.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body,
              HasSubstr("renkei_security_server_local_calls_total{entry=\"rest\",outcome=\"OK\"} 1\n"));
  EXPECT_THAT(metrics->body, HasSubstr("renkei_security_server_local_calls_total{entry=\"rest\","
                                       "outcome=\"INVALID_ARGUMENT\"}"));
  EXPECT_THAT(metrics->body, Not(HasSubstr("entry=\"grpc\"")));
  EXPECT_THAT(metrics->body, Not(HasSubstr("131016-0001")));

  // The operational records say which entry each call came by.
  auto operational = v1::OperationalMonitoring::NewStub(federation.LocalChannel(*allowance));
  v1::OperationalDataRequest request;
  v1::OperationalDataResponse data;
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    grpc::ClientContext context;
    data.Clear();
    if (!operational->GetOperationalData(&context, request, &data).ok()) return false;
    for (const v1::OperationalRecord& record : data.records()) {
      if (record.outcome() == 0) return true;
    }
    return false;
  }, absl::Seconds(10)));
  int answered = 0;
  for (const v1::OperationalRecord& record : data.records()) {
    EXPECT_EQ(record.entry(), v1::OperationalRecord::REST) << record.DebugString();
    EXPECT_EQ(record.role(), v1::OperationalRecord::CONSUMER);
    if (record.outcome() != 0) continue;
    ++answered;
    EXPECT_EQ(record.client(), kAllowance);
    EXPECT_EQ(record.service(), kTestBackend);
    EXPECT_EQ(record.method(), "/renkei.municipal.v1.ResidentRegistry/GetResident");
    EXPECT_GT(record.request_bytes(), 0);
  }
  EXPECT_EQ(answered, 1);
}

TEST(RestEntry, OpenApiDocumentValidatesAndListsOnlyCallableMethods) {
  LiveFederation federation("rest_openapi");
  ASSERT_TRUE(federation.Start());
  const std::string d = federation.directory + "/";
  auto document = [&](const TestCredentials& client, const std::string& subsystem,
                      const std::string& service) {
    return federation.Rest(&client, "GET", absl::StrCat("/r1/", service, "/openapi.json"),
                           {{"Renkei-Client", subsystem}});
  };
  auto allowance = document(federation.allowance_client, kAllowance, kTestBackend);
  ASSERT_EQ(allowance.status, 200) << allowance.body;
  auto pension = document(federation.pension_client, kPension, kTestBackend);
  ASSERT_EQ(pension.status, 200) << pension.body;
  const std::string get = "/renkei.municipal.v1.ResidentRegistry/GetResident\"";
  const std::string certificate = "/renkei.municipal.v1.ResidentRegistry/GetResidenceCertificate\"";
  // A "*" right: every method the descriptors name. One method: that one alone.
  EXPECT_THAT(allowance.body, HasSubstr(get));
  EXPECT_THAT(allowance.body, HasSubstr(certificate));
  EXPECT_THAT(pension.body, HasSubstr(get));
  EXPECT_THAT(pension.body, Not(HasSubstr(certificate)));
  auto registry = document(federation.allowance_client, kAllowance, kRegistry);
  ASSERT_EQ(registry.status, 200) << registry.body;
  EXPECT_THAT(registry.body, HasSubstr(get));
  EXPECT_THAT(registry.body, Not(HasSubstr(certificate)));
  ExpectError(document(federation.pension_client, kAllowance, kRegistry), 403, "PERMISSION_DENIED",
              "may not act as client subsystem");

  for (const auto& [name, answer] : {std::make_pair("allowance", allowance),
                                     std::make_pair("pension", pension),
                                     std::make_pair("registry", registry)}) {
    const std::string file = d + name + ".openapi.json";
    ASSERT_TRUE(WriteFileAtomically(file, answer.body, 0644).ok());
    const std::string log = d + name + ".validate.log";
    // node_modules is installed beside the script in the source tree (deploy/setup-debian.sh).
    const std::string validator =
        std::filesystem::canonical(Runfile("tests/openapi/validate.mjs")).string();
    int valid = RunTool("/usr/bin/node", {validator, file}, log);
    EXPECT_EQ(valid, 0) << name << ": " << *ReadFile(log) << "\n" << answer.body;
  }
}

}  // namespace
}  // namespace renkei::testing
