// renkei-bench: end-to-end exchange throughput and latency through two security servers,
// against a baseline measured in the same run: the same calls straight to the provider's
// backend (what an unprotected direct call costs). Prints both and their ratio.
//
//   renkei-bench --security_server 127.0.0.1:7200 --direct 127.0.0.1:7101 \
//                --seconds 10 --concurrency 16
// The demo federation (bash deploy/demo.sh --keep-running) provides both endpoints.
#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "municipal/v1/resident_registry.grpc.pb.h"

ABSL_FLAG(std::string, security_server, "127.0.0.1:7200", "Consumer security server (local endpoint, plaintext loopback).");
ABSL_FLAG(std::string, direct, "127.0.0.1:7101", "The provider's backend, called directly for the baseline.");
ABSL_FLAG(std::string, client, "JP/GOV/MHLW/child-allowance", "Client subsystem.");
ABSL_FLAG(std::string, service, "JP/MUNI/131016/resident-registry", "Provider subsystem.");
ABSL_FLAG(std::string, resident, "131016-0001", "Resident code asked for.");
ABSL_FLAG(int, seconds, 10, "Duration of each measurement.");
ABSL_FLAG(int, concurrency, 16, "Concurrent callers (threads, one shared channel).");

namespace {

struct Result {
  uint64_t ok = 0, failed = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
  double Rate() const { return ok / seconds; }
  double Percentile(double p) const {
    if (latencies_ms.empty()) return 0;
    return latencies_ms[std::min(latencies_ms.size() - 1, static_cast<size_t>(p * latencies_ms.size()))];
  }
};

Result Measure(const std::string& address, bool through_renkei) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = renkei::municipal::v1::ResidentRegistry::NewStub(channel);
  const int threads = absl::GetFlag(FLAGS_concurrency);
  const absl::Time end = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  absl::Mutex mu;
  Result result;
  std::vector<std::thread> workers;
  const absl::Time start = absl::Now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      std::vector<double> latencies;
      uint64_t ok = 0, failed = 0;
      while (absl::Now() < end) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        if (through_renkei) {
          context.AddMetadata("renkei-client", absl::GetFlag(FLAGS_client));
          context.AddMetadata("renkei-service", absl::GetFlag(FLAGS_service));
          context.AddMetadata("renkei-subject", absl::GetFlag(FLAGS_resident));
          context.AddMetadata("renkei-purpose", "benchmark");
        }
        renkei::municipal::v1::GetResidentRequest request;
        request.set_resident_code(absl::GetFlag(FLAGS_resident));
        renkei::municipal::v1::GetResidentResponse response;
        absl::Time begin = absl::Now();
        grpc::Status status = stub->GetResident(&context, request, &response);
        if (status.ok()) {
          ++ok;
          latencies.push_back(absl::ToDoubleMilliseconds(absl::Now() - begin));
        } else {
          ++failed;
        }
      }
      absl::MutexLock lock(&mu);
      result.ok += ok;
      result.failed += failed;
      result.latencies_ms.insert(result.latencies_ms.end(), latencies.begin(), latencies.end());
    });
  }
  for (auto& worker : workers) worker.join();
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::sort(result.latencies_ms.begin(), result.latencies_ms.end());
  return result;
}

void Print(const char* name, const Result& r) {
  std::cout << absl::StrFormat("%-32s %9.0f calls/s   p50 %7.2f ms   p99 %7.2f ms   failed %llu\n",
                               name, r.Rate(), r.Percentile(0.5), r.Percentile(0.99),
                               static_cast<unsigned long long>(r.failed));
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "renkei-bench: exchange throughput and latency through two security servers, with a "
      "direct-call baseline measured in the same run.");
  absl::ParseCommandLine(argc, argv);
  std::cout << "concurrency " << absl::GetFlag(FLAGS_concurrency) << ", "
            << absl::GetFlag(FLAGS_seconds) << " s per measurement\n";
  Result direct = Measure(absl::GetFlag(FLAGS_direct), false);
  Print("baseline: direct to the backend", direct);
  Result renkei = Measure(absl::GetFlag(FLAGS_security_server), true);
  Print("through two security servers", renkei);
  std::cout << absl::StrFormat("ratio (renkei / direct): throughput %.3f, p50 latency %.1fx\n",
                               renkei.Rate() / std::max(direct.Rate(), 1e-9),
                               renkei.Percentile(0.5) / std::max(direct.Percentile(0.5), 1e-9));
  return renkei.ok > 0 && direct.ok > 0 ? 0 : 1;
}
