// Message log benchmarks (not tests): what the single committer's group commit gives, against
// a bare synced RocksDB write measured in the same run on the same disk.
//   BM_BareSyncedPut/threads:N        each thread: one synced rocksdb::DB::Put of a record's
//                                     bytes at a time (the baseline)
//   BM_MessageLogRecord/threads:N     each producer: RecordAndWait of one provider-side
//                                     exchange's evidence (entry + outbox record + answered id)
//   BM_MessageLogPipelined/K          one producer keeping K records in flight with the
//                                     asynchronous Record: the committer when nobody waits
// Read items_per_second (records made durable per second, all threads together) and
// commit_latency_us (mean time from Record to its completion). The per-iteration "Time" of a
// threaded run is wall time over the iterations of all threads: an inverse throughput, not a
// latency.
// Run: bazel build -c opt //security_server:message_log_benchmark, then
//   RENKEI_BENCH_DIR=/tmp/rb ./bazel-bin/security_server/message_log_benchmark (see BENCHMARKS.md).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "common/rocksdb_options.h"
#include "renkei/v1/envelope.pb.h"
#include "renkei/v1/ledger.pb.h"
#include "renkei/v1/message_log.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"
#include "security_server/exchange_recorder.h"
#include "security_server/message_log.h"

namespace renkei {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A fresh directory for one run of one benchmark: $RENKEI_BENCH_DIR (default /tmp), with the
// process id and a run number so that concurrent or repeated runs never share a database.
std::string Directory(absl::string_view name) {
  static std::atomic<int> runs{0};
  const char* base = std::getenv("RENKEI_BENCH_DIR");
  return absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp", "/renkei-bench-", name,
                      "-", getpid(), "-", runs.fetch_add(1));
}

// 32 hex digits, like a real message id; unique per (producer, count) within one database.
std::string MessageId(int producer, uint64_t count) {
  return absl::StrFormat("%08x%024x", producer, count);
}

// One provider-side exchange's evidence: signed request and response headers of ~500 bytes
// each (~1 KiB of evidence; real ones also carry the signer certificate's DER) and the access
// record that goes to the outbox in the same batch.
struct Evidence {
  v1::SignedHeader request;
  v1::SignedHeader response;
  v1::AccessRecord record;

  Evidence() {
    request = Signed(500, 'q', "GOV", "MHLW");
    response = Signed(500, 'a', "MUNI", "131016");
    record.set_message_id(MessageId(0, 0));
    record.mutable_time()->set_seconds(1'795'000'000);
    record.set_client("JP/GOV/MHLW/child-allowance");
    record.set_service("JP/MUNI/131016/resident-registry");
    record.set_method("/renkei.municipal.v1.ResidentRegistry/GetResident");
    record.set_purpose("child-allowance");
    record.set_user("official-7");
    record.add_subject_pseudonyms(std::string(32, 'p'));
    record.set_outcome(0);
    record.set_request_header_sha256(std::string(32, 'r'));
    record.set_response_header_sha256(std::string(32, 's'));
    record.set_recorded_by("JP/MUNI/131016/ss1");
  }

  static v1::SignedHeader Signed(size_t header_bytes, char fill, const char* member_class,
                                 const char* member_code) {
    v1::SignedHeader header;
    header.set_header(std::string(header_bytes, fill));
    header.set_signature(std::string(72, 'S'));  // a DER ECDSA P-256 signature's size
    header.set_algorithm(v1::ECDSA_P256_SHA256);
    header.mutable_signer()->set_instance("JP");
    header.mutable_signer()->set_member_class(member_class);
    header.mutable_signer()->set_member_code(member_code);
    return header;
  }

  ExchangeEvidence For(const std::string& message_id) const {
    ExchangeEvidence evidence;
    evidence.role = v1::MessageLogEntry::PROVIDER;
    evidence.message_id = message_id;
    evidence.request = &request;
    evidence.response = &response;
    evidence.access_record = &record;
    return evidence;
  }

  // What MessageLog writes for one record (chain entry, outbox record, answered id, keys):
  // the bare baseline writes as many bytes per put.
  size_t WrittenBytes() const {
    v1::MessageLogEntry entry;
    entry.set_sequence(1'000'000);
    entry.set_previous_entry_sha256(std::string(32, '\0'));
    entry.set_role(v1::MessageLogEntry::PROVIDER);
    entry.set_message_id(MessageId(0, 0));
    *entry.mutable_request() = request;
    *entry.mutable_response() = response;
    v1::OutboxRecord waiting;
    waiting.set_record(record.SerializeAsString());
    *waiting.mutable_request() = request;
    constexpr size_t kKeys = 3 * 21;  // a prefix and a number or an id, per key
    return entry.ByteSizeLong() + waiting.ByteSizeLong() + kKeys;
  }
};

const Evidence& TheEvidence() {
  static const Evidence* evidence = new Evidence();
  return *evidence;
}

// One fixture shared by the threads of one run of a threaded benchmark. Thread 0 makes it
// before the loop (untimed); the other threads pick it up in their first iteration, which
// comes after the barrier that starts the loop in every thread, so after it was made. Each
// thread holds a reference until it returns: the last one destroys the fixture, after every
// loop has ended (untimed), even when a thread stopped early on an error.
template <typename T>
class SharedFixture {
 public:
  void Publish(std::shared_ptr<T> fixture) { std::atomic_store(&current_, std::move(fixture)); }
  std::shared_ptr<T> Get() const { return std::atomic_load(&current_); }

 private:
  std::shared_ptr<T> current_;
};

// --- The baseline: bare synced puts ------------------------------------------------------

struct BareDatabase {
  std::string directory;
  std::unique_ptr<rocksdb::DB> db;
  ~BareDatabase() {
    db.reset();
    rocksdb::DestroyDB(directory, rocksdb::Options());
  }
};

SharedFixture<BareDatabase>& BareFixture() {
  static auto* fixture = new SharedFixture<BareDatabase>();
  return *fixture;
}

std::shared_ptr<BareDatabase> OpenBare(std::string* error) {
  auto bare = std::make_shared<BareDatabase>();
  bare->directory = Directory("bare-put");
  rocksdb::DestroyDB(bare->directory, rocksdb::Options());
  // Made first: RocksDB logs a harmless error when it opens a database in a missing directory.
  rocksdb::Env::Default()->CreateDirIfMissing(bare->directory).PermitUncheckedError();
  rocksdb::Options options = StoreOptions("bench");  // as the message log's, less its filter
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened = rocksdb::DB::Open(options, bare->directory, &raw);
  if (!opened.ok()) {
    *error = absl::StrCat("open ", bare->directory, ": ", opened.ToString());
    return nullptr;
  }
  bare->db.reset(raw);
  return bare;
}

// Each thread writes one synced put per iteration. Concurrent writers still meet in RocksDB's
// own write group (one WAL append and one fsync for the writers that arrive together), so
// with N threads this is "RocksDB's group commit", not N independent fsyncs: the baseline is
// what the disk and RocksDB give without our committer, not a strict one-fsync-per-put floor.
void BM_BareSyncedPut(benchmark::State& state) {
  const int thread = state.thread_index();
  if (thread == 0) {
    std::string error;
    BareFixture().Publish(OpenBare(&error));
    if (!error.empty()) state.SkipWithError(error.c_str());
  }
  const std::string value(TheEvidence().WrittenBytes(), 'v');
  rocksdb::WriteOptions sync;
  sync.sync = true;
  std::shared_ptr<BareDatabase> bare;
  uint64_t count = 0;
  double latency_us = 0;
  for (auto _ : state) {
    if (bare == nullptr) {
      bare = BareFixture().Get();
      if (bare == nullptr) {
        state.SkipWithError("no database to write to");
        break;
      }
    }
    const std::string key = absl::StrCat("b", MessageId(thread, count++));
    const SteadyClock::time_point started = SteadyClock::now();
    rocksdb::Status put = bare->db->Put(sync, key, value);
    latency_us += std::chrono::duration<double, std::micro>(SteadyClock::now() - started).count();
    if (!put.ok()) {
      state.SkipWithError(absl::StrCat("put: ", put.ToString()).c_str());
      break;
    }
  }
  if (thread == 0) BareFixture().Publish(nullptr);  // the threads' references keep it open
  state.SetItemsProcessed(static_cast<int64_t>(count));
  state.counters["commit_latency_us"] =
      benchmark::Counter(count > 0 ? latency_us / count : 0, benchmark::Counter::kAvgThreads);
  state.counters["bytes_per_write"] =
      benchmark::Counter(static_cast<double>(value.size()), benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_BareSyncedPut)->ThreadRange(1, 64)->UseRealTime();

// --- The message log ---------------------------------------------------------------------

struct LogFixture {
  std::string directory;
  std::unique_ptr<MessageLog> log;
  ~LogFixture() {
    log.reset();  // writes what is queued, stops the committer
    rocksdb::DestroyDB(directory, rocksdb::Options());
  }
};

SharedFixture<LogFixture>& LogFixtures() {
  static auto* fixture = new SharedFixture<LogFixture>();
  return *fixture;
}

std::shared_ptr<LogFixture> OpenLog(absl::string_view name, std::string* error) {
  auto fixture = std::make_shared<LogFixture>();
  fixture->directory = Directory(name);
  rocksdb::DestroyDB(fixture->directory, rocksdb::Options());
  rocksdb::Env::Default()->CreateDirIfMissing(fixture->directory).PermitUncheckedError();
  absl::StatusOr<std::unique_ptr<MessageLog>> log =
      MessageLog::Open(fixture->directory, /*store_bodies=*/false);
  if (!log.ok()) {
    *error = absl::StrCat("open ", fixture->directory, ": ", log.status().ToString());
    return nullptr;
  }
  fixture->log = *std::move(log);
  return fixture;
}

// Each producer records one exchange's evidence and waits until it is durable, as a reactor
// would wait for its completion before releasing the answer.
void BM_MessageLogRecord(benchmark::State& state) {
  const int thread = state.thread_index();
  if (thread == 0) {
    std::string error;
    LogFixtures().Publish(OpenLog("record", &error));
    if (!error.empty()) state.SkipWithError(error.c_str());
  }
  const Evidence& evidence = TheEvidence();
  std::shared_ptr<LogFixture> fixture;
  uint64_t count = 0;
  double latency_us = 0;
  for (auto _ : state) {
    if (fixture == nullptr) {
      fixture = LogFixtures().Get();
      if (fixture == nullptr) {
        state.SkipWithError("no message log to record in");
        break;
      }
    }
    const std::string id = MessageId(thread, count++);
    const SteadyClock::time_point started = SteadyClock::now();
    absl::Status recorded = RecordAndWait(*fixture->log, evidence.For(id));
    latency_us += std::chrono::duration<double, std::micro>(SteadyClock::now() - started).count();
    if (!recorded.ok()) {
      state.SkipWithError(absl::StrCat("record: ", recorded.ToString()).c_str());
      break;
    }
  }
  if (thread == 0) LogFixtures().Publish(nullptr);
  state.SetItemsProcessed(static_cast<int64_t>(count));
  state.counters["commit_latency_us"] =
      benchmark::Counter(count > 0 ? latency_us / count : 0, benchmark::Counter::kAvgThreads);
  state.counters["bytes_per_write"] = benchmark::Counter(
      static_cast<double>(evidence.WrittenBytes()), benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_MessageLogRecord)->ThreadRange(1, 64)->UseRealTime();

// Records in flight, counted down by their completions (on the committer's thread).
struct InFlight {
  absl::Mutex mu;
  int64_t waiting = 0;        // guarded by mu
  double latency_us = 0;      // guarded by mu: sum over completed records
  uint64_t completed = 0;     // guarded by mu
  absl::Status first_error;   // guarded by mu

  // Blocks until fewer than `limit` records are in flight.
  void WaitBelow(int64_t limit) {
    absl::MutexLock lock(&mu);
    auto below = [this, limit]() { return waiting < limit; };
    mu.Await(absl::Condition(&below));
  }
};

// One producer that never waits for its own records: it keeps K of them in flight and only
// waits when K are. The committer then always finds a batch waiting; with K = 1 it is the
// same as one RecordAndWait producer.
void BM_MessageLogPipelined(benchmark::State& state) {
  const int64_t k = state.range(0);
  std::string error;
  std::shared_ptr<LogFixture> fixture = OpenLog(absl::StrCat("pipelined-", k), &error);
  if (fixture == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  const Evidence& evidence = TheEvidence();
  InFlight flight;
  uint64_t count = 0;
  for (auto _ : state) {
    flight.WaitBelow(k);
    {
      absl::MutexLock lock(&flight.mu);
      if (!flight.first_error.ok()) {
        state.SkipWithError(absl::StrCat("record: ", flight.first_error.ToString()).c_str());
        break;
      }
      ++flight.waiting;
    }
    const std::string id = MessageId(0, count++);
    fixture->log->Record(evidence.For(id),
                         [&flight, started = SteadyClock::now()](absl::Status status) {
                           const double us = std::chrono::duration<double, std::micro>(
                                                 SteadyClock::now() - started)
                                                 .count();
                           absl::MutexLock lock(&flight.mu);
                           --flight.waiting;
                           ++flight.completed;
                           flight.latency_us += us;
                           if (!status.ok() && flight.first_error.ok()) {
                             flight.first_error = std::move(status);
                           }
                         });
    // The last iteration waits for every record, so the timing covers their durability.
    if (static_cast<benchmark::IterationCount>(count) == state.max_iterations) {
      flight.WaitBelow(1);
    }
  }
  flight.WaitBelow(1);  // after an error too: the completions refer to `flight`
  {
    absl::MutexLock lock(&flight.mu);
    if (!flight.first_error.ok() && !state.error_occurred()) {
      state.SkipWithError(absl::StrCat("record: ", flight.first_error.ToString()).c_str());
    }
    state.counters["commit_latency_us"] =
        flight.completed > 0 ? flight.latency_us / flight.completed : 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(count));
  state.counters["bytes_per_write"] = static_cast<double>(evidence.WrittenBytes());
}
BENCHMARK(BM_MessageLogPipelined)->Arg(1)->Arg(16)->Arg(64)->Arg(256)->UseRealTime();

}  // namespace
}  // namespace renkei

BENCHMARK_MAIN();
