// One whole exchange in one process, without gRPC or a disk (not a test): ConsumerSide::Prepare
// → ProviderSide::Verify → ProviderSide::Answer → ConsumerSide::Complete per iteration, with a
// recorder that completes at once and keeps only counts. What it measures is the security
// servers' own work for one exchange (two signatures, two verifications, the checks, the
// access record, the digests of the payloads), against a SHA-256 of the same payload measured
// in the same run (the baseline, as in hot_path_benchmark).
//   BM_Sha256OfPayload/bytes      one SHA-256 of the request payload (the baseline)
//   BM_Exchange/bytes             one whole exchange with that request payload, echoed back
// Read items_per_second: exchanges (or digests) per second; the ratio is what to compare.
// Run: bazel run -c opt //security_server:exchange_benchmark (see BENCHMARKS.md).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "common/digest.h"
#include "renkei/v1/envelope.pb.h"
#include "renkei/v1/peer.pb.h"
#include "security_server/consumer_side.h"
#include "security_server/exchange_recorder.h"
#include "security_server/provider_side.h"
#include "security_server/replay_cache.h"
#include "security_server/settings.h"
#include "security_server/test_federation.h"
#include "security_server/test_sides.h"

namespace renkei {
namespace {

// As security_server.cc sizes it.
constexpr size_t kReplayCacheCapacity = 2'000'000;
// The provider side (with a new, empty replay cache) is renewed, untimed, before the cache
// holds this many ids: it forgets ids only a clock-skew window (60 s) after their time, so a
// fast machine could otherwise fill it and have requests refused.
constexpr size_t kRenewAt = kReplayCacheCapacity / 2;

const TestFederation& Pki() {
  static const TestFederation* pki = new TestFederation();
  return *pki;
}

// Completes every record at once, on the caller's thread (as exchange_test's MemoryRecorder),
// keeping only counts. Every message id in this benchmark is new, so none was answered before.
class CountingRecorder final : public ExchangeRecorder {
 public:
  void Record(const ExchangeEvidence& evidence, RecordDone done) override {
    if (evidence.role == v1::MessageLogEntry::PROVIDER) {
      provider_records.fetch_add(1, std::memory_order_relaxed);
    } else {
      consumer_records.fetch_add(1, std::memory_order_relaxed);
    }
    if (evidence.access_record != nullptr) access_records.fetch_add(1, std::memory_order_relaxed);
    std::move(done)(absl::OkStatus());
  }
  absl::Status Admit() const override { return absl::OkStatus(); }
  absl::StatusOr<bool> HasRecordedRequest(const std::string&) const override { return false; }

  std::atomic<uint64_t> provider_records{0};
  std::atomic<uint64_t> consumer_records{0};
  std::atomic<uint64_t> access_records{0};
};

// Both security servers of exchange_test, in one object, with the real clock: requests are
// prepared after the provider side started, and checked for freshness against the time now.
class Exchange {
 public:
  Exchange()
      : configuration_(Pki().Build()),
        consumer_settings_(TestConsumerSettings(Pki())),
        provider_settings_(TestProviderSettings(Pki())) {
    consumer_ = std::make_unique<ConsumerSide>(consumer_settings_, configuration_, clock_,
                                               consumer_log_);
    RenewProvider();
  }

  // A new provider side with an empty replay cache, as after a restart.
  void RenewProvider() {
    provider_.reset();
    replay_cache_ = std::make_unique<ReplayCache>(clock_, kReplayCacheCapacity);
    provider_ = std::make_unique<ProviderSide>(provider_settings_, configuration_, clock_,
                                               *replay_cache_, provider_log_);
  }

  size_t remembered_ids() const { return replay_cache_->size(); }

  LocalCall Call(std::string payload) const { return TestLocalCall(std::move(payload)); }

  // One exchange: the answer echoes the request's payload. The first failed step's status.
  absl::Status Run(LocalCall call) const {
    const std::string& provider_fingerprint = Pki().provider_server.certificate.fingerprint();
    const std::string& consumer_fingerprint = Pki().consumer_server.certificate.fingerprint();
    const size_t payload_size = call.payload.size();

    absl::StatusOr<PreparedExchange> prepared = consumer_->Prepare(std::move(call));
    if (!prepared.ok()) return Step("Prepare", prepared.status());

    absl::StatusOr<VerifiedRequest> verified =
        provider_->Verify(consumer_fingerprint, prepared->request);
    if (!verified.ok()) return Step("Verify", verified.status());

    absl::StatusOr<v1::ExchangeResponse> response =
        absl::InternalError("Answer did not complete inline");
    provider_->Answer(*verified, prepared->request, absl::OkStatus(),
                      prepared->request.payload(),
                      [&](absl::StatusOr<v1::ExchangeResponse> answer) {
                        response = std::move(answer);
                      });
    if (!response.ok()) return Step("Answer", response.status());

    absl::StatusOr<ProviderAnswer> answer = absl::InternalError("Complete did not complete inline");
    consumer_->Complete(*prepared, provider_fingerprint, *std::move(response),
                        [&](absl::StatusOr<ProviderAnswer> completed) {
                          answer = std::move(completed);
                        });
    if (!answer.ok()) return Step("Complete", answer.status());
    if (!answer->status.ok()) return Step("the provider's answer", answer->status);
    if (answer->payload.size() != payload_size) {
      return absl::InternalError(absl::StrCat("answer of ", answer->payload.size(),
                                              " bytes to a request of ", payload_size));
    }
    return absl::OkStatus();
  }

  CountingRecorder consumer_log_, provider_log_;

 private:
  static absl::Status Step(const char* step, const absl::Status& status) {
    return absl::Status(status.code(), absl::StrCat(step, ": ", status.message()));
  }

  // Members in construction order: the sides refer to everything above them.
  RealClock clock_;
  FixedConfiguration configuration_;
  Settings consumer_settings_, provider_settings_;
  std::unique_ptr<ReplayCache> replay_cache_;
  std::unique_ptr<ConsumerSide> consumer_;
  std::unique_ptr<ProviderSide> provider_;
};

void BM_Sha256OfPayload(benchmark::State& state) {
  const std::string payload(static_cast<size_t>(state.range(0)), 'p');
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(payload));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sha256OfPayload)->Arg(128)->Arg(64 << 10);

// The request payload is copied into each call, as the local endpoint gets it from gRPC; the
// answer is the same bytes back.
void BM_Exchange(benchmark::State& state) {
  Exchange exchange;
  const LocalCall call = exchange.Call(std::string(static_cast<size_t>(state.range(0)), 'p'));
  // The signer certificates verified once before timing, as in a server that has run a while
  // (issue 10's cache); BM_VerifySignedHeaderCold in hot_path_benchmark has the cold cost.
  absl::Status warm = exchange.Run(call);
  if (!warm.ok()) {
    state.SkipWithError(warm.ToString().c_str());
    return;
  }
  const uint64_t provider_before = exchange.provider_log_.provider_records.load();
  const uint64_t consumer_before = exchange.consumer_log_.consumer_records.load();
  int64_t exchanges = 0;
  for (auto _ : state) {
    if ((exchanges & 4095) == 0 && exchange.remembered_ids() >= kRenewAt) {
      state.PauseTiming();
      exchange.RenewProvider();
      state.ResumeTiming();
    }
    absl::Status done = exchange.Run(call);
    if (!done.ok()) {
      state.SkipWithError(done.ToString().c_str());
      break;
    }
    ++exchanges;
  }
  // Each exchange was recorded once by each side (and the provider's with its access record).
  const uint64_t provider_records = exchange.provider_log_.provider_records.load() - provider_before;
  const uint64_t consumer_records = exchange.consumer_log_.consumer_records.load() - consumer_before;
  if (!state.error_occurred() && (provider_records != static_cast<uint64_t>(exchanges) ||
                                  consumer_records != static_cast<uint64_t>(exchanges))) {
    state.SkipWithError(absl::StrCat(exchanges, " exchanges, but ", provider_records,
                                     " provider and ", consumer_records, " consumer records")
                            .c_str());
  }
  state.SetItemsProcessed(exchanges);
  state.SetBytesProcessed(exchanges * state.range(0));
}
BENCHMARK(BM_Exchange)->Arg(128)->Arg(64 << 10);

}  // namespace
}  // namespace renkei

BENCHMARK_MAIN();
