// renkei-bench: end-to-end exchange throughput and latency through two security servers,
// against a baseline measured in the same run: the same calls straight to the provider's
// backend (what an unprotected direct call costs). Prints both, their ratios, the latency
// the platform adds at each percentile, and the CPU time the security servers spent.
//
//   renkei-bench --seconds 10 --concurrency 16            # closed loop: 16 callers
//   renkei-bench --seconds 10 --concurrency 64 --rate 1000  # open loop: 1000 calls/s
//   renkei-bench --payload all                            # one block per payload size
//   renkei-bench --entry both                             # the JSON entry against gRPC's
// --entry picks the consumer's entry: `grpc` (the local endpoint, --security_server), `json`
// (the same call POSTed as JSON to the JSON entry, --json_address; each caller keeps one
// HTTP/1.1 connection alive), or `both`, measured one after the other in each block, with
// the JSON entry's cost against the gRPC entry's.
// --payload picks the call: `small` is GetResident (a record of a few hundred bytes); `1k`,
// `64k` and `1m` are GetResidenceCertificate as TEXT, SCAN_LOW and SCAN_HIGH (documents of
// 1 KiB, 64 KiB and 1 MiB). Each block has its own direct baseline, measured just before.
// In the open loop, latency counts from each call's intended send time, so that a queue
// building up is not hidden. The demo federation (bash deploy/demo.sh --keep-running)
// provides every endpoint these flags default to (its JSON entry is 127.0.0.1:7202).
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "httplib.h"
#include "municipal/v1/resident_registry.grpc.pb.h"

ABSL_FLAG(std::string, security_server, "127.0.0.1:7200", "Consumer security server (local endpoint, plaintext loopback).");
ABSL_FLAG(std::string, direct, "127.0.0.1:7101", "The provider's backend, called directly for the baseline.");
ABSL_FLAG(std::string, client, "JP/GOV/MHLW/child-allowance", "Client subsystem.");
ABSL_FLAG(std::string, service, "JP/MUNI/131016/resident-registry", "Provider subsystem.");
ABSL_FLAG(std::string, resident, "131016-0001", "Resident code asked for.");
ABSL_FLAG(int, seconds, 10, "Duration of each measurement.");
ABSL_FLAG(int, concurrency, 16, "Concurrent callers (threads, one shared channel).");
ABSL_FLAG(double, rate, 0,
          "Open loop: calls per second, sent on schedule by up to --concurrency callers, latency "
          "from the intended send time. 0: closed loop (each caller calls again at once).");
ABSL_FLAG(std::string, server_process, "renkei-security",
          "Name (/proc/PID/comm) of the security server processes whose CPU time is reported.");
ABSL_FLAG(std::string, payload, "small",
          "Response payload measured: small (GetResident, a few hundred bytes), 1k, 64k or 1m "
          "(GetResidenceCertificate as TEXT, SCAN_LOW or SCAN_HIGH), a comma-separated list of "
          "these, or all. One block per size, each with its own direct baseline.");
ABSL_FLAG(std::string, entry, "grpc",
          "Entry of the consumer security server measured: grpc (--security_server), json (the "
          "JSON entry at --json_address, one keep-alive HTTP/1.1 connection per caller), or both "
          "(one after the other in each block, with the JSON entry's cost against gRPC's).");
ABSL_FLAG(std::string, json_address, "127.0.0.1:7202",
          "Consumer security server's JSON entry (local.rest_listen_address, plaintext loopback).");

namespace {

using renkei::municipal::v1::GetResidenceCertificateRequest;

// What one block measures: which call, and for GetResidenceCertificate which rendering.
struct Workload {
  const char* name;         // --payload value
  const char* description;  // the call, for the block's title
  bool certificate;         // GetResidenceCertificate; else GetResident
  GetResidenceCertificateRequest::Rendering rendering;
};

constexpr Workload kWorkloads[] = {
    {"small", "GetResident", false, GetResidenceCertificateRequest::RENDERING_UNSPECIFIED},
    {"1k", "GetResidenceCertificate TEXT", true, GetResidenceCertificateRequest::TEXT},
    {"64k", "GetResidenceCertificate SCAN_LOW", true, GetResidenceCertificateRequest::SCAN_LOW},
    {"1m", "GetResidenceCertificate SCAN_HIGH", true, GetResidenceCertificateRequest::SCAN_HIGH},
};

// The workloads --payload names, in the order given; empty if a name is unknown.
std::vector<const Workload*> SelectedWorkloads(const std::string& flag) {
  std::vector<const Workload*> selected;
  for (absl::string_view name : absl::StrSplit(flag, ',', absl::SkipWhitespace())) {
    if (name == "all") {
      for (const Workload& w : kWorkloads) selected.push_back(&w);
      continue;
    }
    const Workload* found = nullptr;
    for (const Workload& w : kWorkloads) {
      if (name == w.name) found = &w;
    }
    if (found == nullptr) return {};
    selected.push_back(found);
  }
  return selected;
}

// One call of the workload's method on `stub`. On success, `*response_bytes` is the size of
// the response message as it crossed the wire (the exchange's response payload).
grpc::Status Call(renkei::municipal::v1::ResidentRegistry::Stub& stub, grpc::ClientContext* context,
                  const Workload& workload, size_t* response_bytes) {
  const std::string resident = absl::GetFlag(FLAGS_resident);
  grpc::Status status;
  if (workload.certificate) {
    GetResidenceCertificateRequest request;
    request.set_resident_code(resident);
    request.set_rendering(workload.rendering);
    renkei::municipal::v1::ResidenceCertificate response;
    status = stub.GetResidenceCertificate(context, request, &response);
    if (status.ok()) *response_bytes = response.ByteSizeLong();
  } else {
    renkei::municipal::v1::GetResidentRequest request;
    request.set_resident_code(resident);
    renkei::municipal::v1::GetResidentResponse response;
    status = stub.GetResident(context, request, &response);
    if (status.ok()) *response_bytes = response.ByteSizeLong();
  }
  return status;
}

// One caller of a measurement: its connection, made once and used for all of its calls.
// Used by one thread at a time.
class Caller {
 public:
  virtual ~Caller() = default;
  // One call. Empty on success, with `*response_bytes` the size of the answer; else why the
  // call failed.
  virtual std::string CallOnce(size_t* response_bytes) = 0;
};

// Through a gRPC stub: straight to the backend, or through the consumer's local endpoint
// (`through_renkei`: with the renkei-* metadata). The stub is shared by every caller.
class GrpcCaller final : public Caller {
 public:
  GrpcCaller(renkei::municipal::v1::ResidentRegistry::Stub& stub, bool through_renkei,
             const Workload& workload)
      : stub_(stub), through_renkei_(through_renkei), workload_(workload) {}

  std::string CallOnce(size_t* response_bytes) override {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (through_renkei_) {
      context.AddMetadata("renkei-client", absl::GetFlag(FLAGS_client));
      context.AddMetadata("renkei-service", absl::GetFlag(FLAGS_service));
      context.AddMetadata("renkei-subject", absl::GetFlag(FLAGS_resident));
      context.AddMetadata("renkei-purpose", "benchmark");
    }
    grpc::Status status = Call(stub_, &context, workload_, response_bytes);
    if (status.ok()) return "";
    return absl::StrFormat("code %d: %s", static_cast<int>(status.error_code()),
                           status.error_message());
  }

 private:
  renkei::municipal::v1::ResidentRegistry::Stub& stub_;
  const bool through_renkei_;
  const Workload& workload_;
};

// The workload's request in the proto3 JSON mapping (lowerCamelCase names, enums by name).
std::string JsonRequestBody(const Workload& workload) {
  const std::string resident = absl::GetFlag(FLAGS_resident);
  if (!workload.certificate) return absl::StrFormat(R"({"residentCode":"%s"})", resident);
  return absl::StrFormat(R"({"residentCode":"%s","rendering":"%s"})", resident,
                         GetResidenceCertificateRequest::Rendering_Name(workload.rendering));
}

// Where the JSON entry listens (--json_address).
struct HostPort {
  std::string host;
  int port = 0;
};

// The same call as JSON to the consumer's JSON entry, over this caller's own keep-alive
// HTTP/1.1 connection, as an agency system that speaks JSON makes it. The answer must be 200
// with a Renkei-Message-Id header.
class JsonCaller final : public Caller {
 public:
  JsonCaller(const HostPort& entry, const Workload& workload)
      : http_(entry.host, entry.port),
        path_(absl::StrFormat("/r1/%s/renkei.municipal.v1.ResidentRegistry/%s",
                              absl::GetFlag(FLAGS_service),
                              workload.certificate ? "GetResidenceCertificate" : "GetResident")),
        headers_{{"Renkei-Client", absl::GetFlag(FLAGS_client)},
                 {"Renkei-Subject", absl::GetFlag(FLAGS_resident)},
                 {"Renkei-Purpose", "benchmark"},
                 {"Renkei-Timeout", "10S"}},  // the gRPC callers' deadline
        body_(JsonRequestBody(workload)) {
    http_.set_keep_alive(true);
    // Headers and body leave in separate writes: without this, each call on a kept-alive
    // connection waits for the server's delayed ACK.
    http_.set_tcp_nodelay(true);
    http_.set_connection_timeout(5, 0);
    http_.set_read_timeout(15, 0);
    http_.set_write_timeout(15, 0);
  }

  std::string CallOnce(size_t* response_bytes) override {
    httplib::Result result = http_.Post(path_.c_str(), headers_, body_, "application/json");
    if (!result) return "no HTTP answer: " + httplib::to_string(result.error());
    if (result->status != 200) {
      return absl::StrFormat("HTTP %d: %s", result->status, result->body.substr(0, 300));
    }
    if (!result->has_header("Renkei-Message-Id")) return "HTTP 200 without Renkei-Message-Id";
    *response_bytes = result->body.size();
    return "";
  }

 private:
  httplib::Client http_;
  const std::string path_;
  const httplib::Headers headers_;
  const std::string body_;
};

using NewCaller = std::function<std::unique_ptr<Caller>()>;

// User + system CPU seconds of every process named `name` (/proc/PID/comm).
double CpuSecondsOf(const std::string& name) {
  double total = 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  while (dirent* entry = readdir(proc)) {
    const std::string pid = entry->d_name;
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit)) continue;
    std::ifstream comm("/proc/" + pid + "/comm");
    std::string command;
    if (!std::getline(comm, command) || command != name) continue;
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string line;
    std::getline(stat, line);
    // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    total += (utime + stime) / sysconf(_SC_CLK_TCK);
  }
  closedir(proc);
  return total;
}

struct Result {
  uint64_t ok = 0, failed = 0;
  double seconds = 0;
  double server_cpu_seconds = 0;
  size_t response_bytes = 0;  // of one successful call; 0 if none succeeded
  std::string first_error;    // of one failed call, to say why
  std::vector<double> latencies_ms;
  double Rate() const { return ok / seconds; }
  double CpuPerThousand() const { return ok > 0 ? server_cpu_seconds * 1000.0 / ok : 0.0; }
  double Percentile(double p) const {
    if (latencies_ms.empty()) return 0;
    return latencies_ms[std::min(latencies_ms.size() - 1, static_cast<size_t>(p * latencies_ms.size()))];
  }
};

// Runs --concurrency callers made by `new_caller` for --seconds, closed or open loop.
Result Measure(const NewCaller& new_caller) {
  const int threads = absl::GetFlag(FLAGS_concurrency);
  const absl::Time end = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  absl::Mutex mu;
  Result result;
  std::vector<std::thread> workers;
  const double rate = absl::GetFlag(FLAGS_rate);
  std::atomic<uint64_t> next_call{0};
  const double cpu_before = CpuSecondsOf(absl::GetFlag(FLAGS_server_process));
  const absl::Time start = absl::Now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      std::unique_ptr<Caller> caller = new_caller();
      std::vector<double> latencies;
      uint64_t ok = 0, failed = 0;
      size_t response_bytes = 0;
      std::string error;
      while (absl::Now() < end) {
        absl::Time intended = absl::Now();
        if (rate > 0) {
          intended = start + absl::Seconds(static_cast<double>(next_call++) / rate);
          if (intended >= end) break;
          absl::SleepFor(intended - absl::Now());
        }
        std::string call_error = caller->CallOnce(&response_bytes);
        if (call_error.empty()) {
          ++ok;
          latencies.push_back(absl::ToDoubleMilliseconds(absl::Now() - intended));
        } else {
          ++failed;
          if (error.empty()) error = std::move(call_error);
        }
      }
      absl::MutexLock lock(&mu);
      result.ok += ok;
      result.failed += failed;
      if (result.response_bytes == 0) result.response_bytes = response_bytes;
      if (result.first_error.empty()) result.first_error = error;
      result.latencies_ms.insert(result.latencies_ms.end(), latencies.begin(), latencies.end());
    });
  }
  for (auto& worker : workers) worker.join();
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  result.server_cpu_seconds = CpuSecondsOf(absl::GetFlag(FLAGS_server_process)) - cpu_before;
  std::sort(result.latencies_ms.begin(), result.latencies_ms.end());
  return result;
}

constexpr double kPercentiles[] = {0.5, 0.9, 0.99, 0.999};

void Print(const char* name, const Result& r) {
  std::cout << absl::StrFormat("%-30s %8.0f calls/s  failed %llu  latency ms:", name, r.Rate(),
                               static_cast<unsigned long long>(r.failed));
  for (double p : kPercentiles) {
    std::cout << absl::StrFormat("  p%g %.2f", p * 100, r.Percentile(p));
  }
  std::cout << "\n";
  if (!r.first_error.empty()) std::cout << "  first failure: " << r.first_error << "\n";
}

// Which entries of the consumer security server a block measures (--entry).
struct Entries {
  bool grpc = false;
  bool json = false;
  HostPort json_address;  // with `json`
};

// Ratio, added latency and the security servers' CPU of `through` against `direct`.
void PrintAgainstDirect(const char* label, const Result& direct, const Result& through) {
  std::cout << absl::StrFormat("ratio (%s / direct): throughput %.3f\n", label,
                               through.Rate() / std::max(direct.Rate(), 1e-9));
  std::cout << "added latency ms:";
  for (double p : kPercentiles) {
    std::cout << absl::StrFormat("  p%g %.2f", p * 100,
                                 through.Percentile(p) - direct.Percentile(p));
  }
  std::cout << "\n";
  std::cout << absl::StrFormat("security servers (%s): %.2f CPU-s per 1000 exchanges\n",
                               absl::GetFlag(FLAGS_server_process), through.CpuPerThousand());
}

// What the JSON entry costs over the gRPC entry, both measured in this block.
void PrintJsonAgainstGrpc(const Result& grpc_entry, const Result& json_entry) {
  std::cout << absl::StrFormat(
      "JSON entry against gRPC entry: throughput %.3f, CPU per exchange %.3f\n",
      json_entry.Rate() / std::max(grpc_entry.Rate(), 1e-9),
      json_entry.CpuPerThousand() / std::max(grpc_entry.CpuPerThousand(), 1e-9));
  std::cout << "latency added by JSON ms:";
  for (double p : kPercentiles) {
    std::cout << absl::StrFormat("  p%g %.2f", p * 100,
                                 json_entry.Percentile(p) - grpc_entry.Percentile(p));
  }
  std::cout << "\n";
}

// One block: the direct baseline, then the same calls through the security servers, by the
// entries asked for. True if every measurement succeeded at least once.
bool Bench(const Workload& workload, const Entries& entries) {
  std::cout << absl::StrFormat("\n== payload %s: %s\n", workload.name, workload.description);
  auto direct_stub = renkei::municipal::v1::ResidentRegistry::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_direct), grpc::InsecureChannelCredentials()));
  Result direct =
      Measure([&] { return std::make_unique<GrpcCaller>(*direct_stub, false, workload); });
  Print("baseline: direct to the backend", direct);
  bool all_ok = direct.ok > 0;
  std::string bytes =
      absl::StrFormat("response payload bytes (one call): direct %u", direct.response_bytes);

  Result grpc_entry;
  if (entries.grpc) {
    auto stub = renkei::municipal::v1::ResidentRegistry::NewStub(grpc::CreateChannel(
        absl::GetFlag(FLAGS_security_server), grpc::InsecureChannelCredentials()));
    grpc_entry = Measure([&] { return std::make_unique<GrpcCaller>(*stub, true, workload); });
    Print("through two security servers", grpc_entry);
    PrintAgainstDirect("renkei", direct, grpc_entry);
    all_ok = all_ok && grpc_entry.ok > 0;
    absl::StrAppendFormat(&bytes, ", through renkei %u", grpc_entry.response_bytes);
  }
  if (entries.json) {
    // One call before the clock starts: the consumer fetches the provider's service schema
    // once per configuration version, which is not what is measured.
    size_t ignored = 0;
    JsonCaller(entries.json_address, workload).CallOnce(&ignored);
    Result json_entry = Measure(
        [&] { return std::make_unique<JsonCaller>(entries.json_address, workload); });
    Print("through the JSON entry", json_entry);
    PrintAgainstDirect("json", direct, json_entry);
    if (entries.grpc) PrintJsonAgainstGrpc(grpc_entry, json_entry);
    all_ok = all_ok && json_entry.ok > 0;
    absl::StrAppendFormat(&bytes, ", JSON entry %u (JSON text)", json_entry.response_bytes);
  }
  std::cout << bytes << "\n";
  return all_ok;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "renkei-bench: exchange throughput and latency through two security servers, with a "
      "direct-call baseline measured in the same run.");
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view path) {
    return absl::StrContains(path, "renkei-bench");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  const std::vector<const Workload*> workloads = SelectedWorkloads(absl::GetFlag(FLAGS_payload));
  if (workloads.empty()) {
    std::cerr << "renkei-bench: --payload " << absl::GetFlag(FLAGS_payload)
              << ": give small, 1k, 64k, 1m, a comma-separated list of them, or all\n";
    return 2;
  }
  Entries entries;
  const std::string entry = absl::GetFlag(FLAGS_entry);
  entries.grpc = entry == "grpc" || entry == "both";
  entries.json = entry == "json" || entry == "both";
  if (!entries.grpc && !entries.json) {
    std::cerr << "renkei-bench: --entry " << entry << ": give grpc, json or both\n";
    return 2;
  }
  if (entries.json) {
    const std::string address = absl::GetFlag(FLAGS_json_address);
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(address.substr(colon + 1), &entries.json_address.port)) {
      std::cerr << "renkei-bench: --json_address " << address << ": give host:port\n";
      return 2;
    }
    entries.json_address.host = address.substr(0, colon);
  }
  const double rate = absl::GetFlag(FLAGS_rate);
  std::cout << absl::StrFormat("%s, %d callers, %d s per measurement\n",
                               rate > 0 ? absl::StrFormat("open loop at %.0f calls/s", rate)
                                        : std::string("closed loop"),
                               absl::GetFlag(FLAGS_concurrency), absl::GetFlag(FLAGS_seconds));
  bool all_ok = true;
  for (const Workload* workload : workloads) all_ok = Bench(*workload, entries) && all_ok;
  return all_ok ? 0 : 1;
}
