// What one exchange computes on gRPC's callback threads, piece by piece, with a SHA-256 of
// the same header bytes as the baseline of the same run (issue 10: what to cache or prepare).
// Run: bazel run -c opt //security_server:hot_path_benchmark (see BENCHMARKS.md).
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "common/certificates.h"
#include "common/digest.h"
#include "common/envelope.h"
#include "common/metrics.h"
#include "common/pseudonym.h"
#include "renkei/v1/envelope.pb.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

const TestFederation& Pki() {
  static const TestFederation* pki = new TestFederation();
  return *pki;
}

std::string HeaderBytes() {
  v1::RequestHeader header;
  header.set_message_id(NewMessageId());
  header.set_purpose("benchmark");
  header.add_subjects("131016-0001");
  return header.SerializeAsString();
}

void BM_Sha256OfHeader(benchmark::State& state) {
  const std::string bytes = HeaderBytes();
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(bytes));
}
BENCHMARK(BM_Sha256OfHeader);

// Every exchange signs its request (consumer) and its response (provider).
void BM_SignHeader(benchmark::State& state) {
  const std::string bytes = HeaderBytes();
  for (auto _ : state) {
    benchmark::DoNotOptimize(SignHeader(SignedType::kRequestHeader, bytes, Pki().consumer_signer));
  }
}
BENCHMARK(BM_SignHeader);

// ... and verifies both. Cold: the signer is new to this configuration version (a fresh
// Federation, built outside the timing), so its certificate is parsed and chained.
void BM_VerifySignedHeaderCold(benchmark::State& state) {
  auto signed_header = *SignHeader(SignedType::kRequestHeader, HeaderBytes(), Pki().consumer_signer);
  std::shared_ptr<const Federation> federation;
  for (auto _ : state) {
    state.PauseTiming();
    federation = Pki().Build();  // the previous one is freed here too, untimed
    state.ResumeTiming();
    if (!VerifySignedHeader(SignedType::kRequestHeader, signed_header, *federation).ok()) {
      state.SkipWithError("did not verify");
    }
  }
}
BENCHMARK(BM_VerifySignedHeaderCold);

// Cached: the signer seen before (issue 10); revocation, registration and the signature are
// still checked each time.
void BM_VerifySignedHeaderCached(benchmark::State& state) {
  auto federation = Pki().Build();
  auto signed_header =
      *SignHeader(SignedType::kRequestHeader, HeaderBytes(), Pki().consumer_signer);
  if (!VerifySignedHeader(SignedType::kRequestHeader, signed_header, *federation).ok()) {
    state.SkipWithError("did not verify");
  }
  for (auto _ : state) {
    if (!VerifySignedHeader(SignedType::kRequestHeader, signed_header, *federation).ok()) {
      state.SkipWithError("did not verify");
    }
  }
}
BENCHMARK(BM_VerifySignedHeaderCached);

// The TLS peer's fingerprint, parsing the PEM gRPC hands over (as before issue 10).
void BM_PeerFingerprintFromPem(benchmark::State& state) {
  const std::string pem = Pki().consumer_server.certificate.Pem();
  for (auto _ : state) benchmark::DoNotOptimize(Certificate::FromPem(pem)->fingerprint());
}
BENCHMARK(BM_PeerFingerprintFromPem);

// The same from the PEM's bytes alone (what PeerCertificateSha256 does now).
void BM_PeerFingerprintOfPemBytes(benchmark::State& state) {
  const std::string pem = Pki().consumer_server.certificate.Pem();
  for (auto _ : state) benchmark::DoNotOptimize(FingerprintOfPemCertificate(pem));
}
BENCHMARK(BM_PeerFingerprintOfPemBytes);

// The resident's pseudonym in each access record (HMAC-SHA-256 with the pepper).
void BM_Pseudonym(benchmark::State& state) {
  const Pseudonymizer pseudonymizer = *Pseudonymizer::FromHex(std::string(64, 'a'));
  for (auto _ : state) benchmark::DoNotOptimize(pseudonymizer.Pseudonym("131016-0001"));
}
BENCHMARK(BM_Pseudonym);

// A labelled counter as the exchange metrics use it today: labels built and looked up each time.
void BM_CounterWithLabels(benchmark::State& state) {
  MetricsRegistry registry;
  auto& family = registry.AddCounter("bench_total", "help", {"client", "service", "code"});
  for (auto _ : state) {
    family.With({"JP/GOV/MHLW/child-allowance", "JP/MUNI/131016/resident-registry", "OK"})
        .Increment();
  }
}
BENCHMARK(BM_CounterWithLabels);

// The same counter through a handle resolved once.
void BM_CounterResolvedOnce(benchmark::State& state) {
  MetricsRegistry registry;
  auto& counter = registry.AddCounter("bench_total", "help", {"client", "service", "code"})
                      .With({"JP/GOV/MHLW/child-allowance", "JP/MUNI/131016/resident-registry", "OK"});
  for (auto _ : state) counter.Increment();
}
BENCHMARK(BM_CounterResolvedOnce);

}  // namespace
}  // namespace renkei

BENCHMARK_MAIN();
