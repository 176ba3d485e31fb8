// Ledger storage benchmarks (not tests): append throughput with synced writes, and proof
// latency in a log of 10^6 entries. Each measurement has a baseline measured in the same run
// on the same disk, so the ratio is what to read:
//   BM_SyncedPut          one synced RocksDB write of the same bytes, no Merkle work (baseline)
//   BM_Append             MerkleLog::Append, synced, batches of 1 / 64 / 512 records
//   BM_Get                one RocksDB point read in the 10^6-entry log (baseline)
//   BM_InclusionProof     inclusion proof for a random leaf of the 10^6-entry log
//   BM_ConsistencyProof   consistency proof between two random sizes
// Run: bazel run -c opt //audit:merkle_log_benchmark (see BENCHMARKS.md).
#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"
#include "audit/merkle_log.h"
#include "benchmark/benchmark.h"

namespace renkei::audit {
namespace {

constexpr uint64_t kLargeLog = 1'000'000;

std::string Directory(const std::string& name) {
  const char* base = getenv("RENKEI_BENCH_DIR");
  return absl::StrCat(base ? base : "/tmp", "/renkei-bench-", name);
}

// An access record's typical size: ~300 bytes.
std::string Record(uint64_t i) { return absl::StrCat(std::string(280, 'r'), i); }

void BM_SyncedPut(benchmark::State& state) {
  const int batch_size = static_cast<int>(state.range(0));
  std::string directory = Directory("put");
  rocksdb::DestroyDB(directory, rocksdb::Options());
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::DB::Open(options, directory, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  uint64_t i = 0;
  for (auto _ : state) {
    rocksdb::WriteBatch batch;
    for (int k = 0; k < batch_size; ++k, ++i) batch.Put(absl::StrCat("E", i), Record(i));
    db->Write(sync, &batch);
  }
  state.SetItemsProcessed(state.iterations() * batch_size);
}
BENCHMARK(BM_SyncedPut)->Arg(1)->Arg(64)->Arg(512)->UseRealTime();

void BM_Append(benchmark::State& state) {
  const int batch_size = static_cast<int>(state.range(0));
  std::string directory = Directory("append");
  rocksdb::DestroyDB(directory, rocksdb::Options());
  auto log = *MerkleLog::Open(directory);
  uint64_t i = 0;
  for (auto _ : state) {
    std::vector<std::string> entries;
    for (int k = 0; k < batch_size; ++k, ++i) entries.push_back(Record(i));
    log->Append(entries).IgnoreError();
  }
  state.SetItemsProcessed(state.iterations() * batch_size);
}
BENCHMARK(BM_Append)->Arg(1)->Arg(64)->Arg(512)->UseRealTime();

// The 10^6-entry log, built once (batches of 10,000) and reused.
MerkleLog& LargeLog() {
  static MerkleLog* log = [] {
    std::string directory = Directory("large");
    auto opened = MerkleLog::Open(directory);
    MerkleLog* l = opened->release();
    std::vector<std::string> entries;
    while (l->size() < kLargeLog) {
      entries.clear();
      for (uint64_t i = l->size(); i < std::min(l->size() + 10'000, kLargeLog); ++i) {
        entries.push_back(Record(i));
      }
      l->Append(entries).IgnoreError();
    }
    return l;
  }();
  return *log;
}

void BM_Get(benchmark::State& state) {
  MerkleLog& log = LargeLog();
  std::mt19937_64 random(1);
  for (auto _ : state) benchmark::DoNotOptimize(log.Entry(random() % kLargeLog));
}
BENCHMARK(BM_Get);

void BM_InclusionProof(benchmark::State& state) {
  MerkleLog& log = LargeLog();
  std::mt19937_64 random(2);
  uint64_t reads_before = log.node_reads();
  for (auto _ : state) benchmark::DoNotOptimize(log.InclusionProof(random() % kLargeLog, kLargeLog));
  state.counters["node_reads_per_proof"] =
      static_cast<double>(log.node_reads() - reads_before) / state.iterations();
}
BENCHMARK(BM_InclusionProof);

void BM_ConsistencyProof(benchmark::State& state) {
  MerkleLog& log = LargeLog();
  std::mt19937_64 random(3);
  uint64_t reads_before = log.node_reads();
  for (auto _ : state) {
    uint64_t a = 1 + random() % kLargeLog, b = 1 + random() % kLargeLog;
    benchmark::DoNotOptimize(log.ConsistencyProof(std::min(a, b), std::max(a, b)));
  }
  state.counters["node_reads_per_proof"] =
      static_cast<double>(log.node_reads() - reads_before) / state.iterations();
}
BENCHMARK(BM_ConsistencyProof);

}  // namespace
}  // namespace renkei::audit

BENCHMARK_MAIN();
