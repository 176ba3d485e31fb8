// MerkleLog: an append-only RFC 6962 Merkle log stored in RocksDB.
//
// Stored per entry: the entry bytes, and the hash of every complete (perfect) subtree as it
// completes. Any root, inclusion proof or consistency proof then needs O(log n) reads:
// every subtree RFC 6962's recursion asks for is either one stored perfect subtree or, on the
// right edge of the tree, built from O(log n) of them. Nothing ever reads the whole log.
//
// Appends are atomic and durable: entries, node hashes, the new size and whatever the caller
// adds (its own indexes, under key prefixes of its own) go in one synced RocksDB write batch.
// One writer at a time (appends are serialized by a mutex); reads may run concurrently.
//
// Key prefixes used here: 'E' entries, 'N' node hashes, 'S' size. Callers use others.
#ifndef RENKEI_AUDIT_MERKLE_LOG_H_
#define RENKEI_AUDIT_MERKLE_LOG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace renkei::audit {

class MerkleLog {
 public:
  static absl::StatusOr<std::unique_ptr<MerkleLog>> Open(const std::string& directory);

  // Appends `entries` at indexes size()..size()+n-1. `annotate(first_index, batch)`, if given,
  // adds the caller's own writes to the same atomic batch. Returns the first index.
  absl::StatusOr<uint64_t> Append(
      const std::vector<std::string>& entries,
      const std::function<void(uint64_t, rocksdb::WriteBatch&)>& annotate = nullptr);

  uint64_t size() const;
  absl::StatusOr<std::string> Entry(uint64_t index) const;
  absl::StatusOr<std::string> Root(uint64_t tree_size) const;
  // Audit path for the entry at `index` in the tree of `tree_size`, leaf to root.
  absl::StatusOr<std::vector<std::string>> InclusionProof(uint64_t index, uint64_t tree_size) const;
  absl::StatusOr<std::vector<std::string>> ConsistencyProof(uint64_t size1, uint64_t size2) const;

  // The database, for callers' own keys (read them; write them only through `annotate`).
  rocksdb::DB* db() const { return db_.get(); }
  // Node hashes read since the log was opened: lets tests and benchmarks check O(log n).
  uint64_t node_reads() const { return node_reads_.load(); }

 private:
  MerkleLog(std::unique_ptr<rocksdb::DB> db, uint64_t size);

  // Hash of leaves [start, start + count), from stored perfect subtrees.
  absl::StatusOr<std::string> SubtreeHash(uint64_t start, uint64_t count) const;
  absl::StatusOr<std::string> StoredNode(int level, uint64_t index) const;
  absl::Status InclusionPath(uint64_t index, uint64_t start, uint64_t count,
                             std::vector<std::string>& path) const;
  absl::Status ConsistencyPath(uint64_t m, uint64_t start, uint64_t count, bool whole,
                               std::vector<std::string>& path) const;

  const std::unique_ptr<rocksdb::DB> db_;
  mutable std::atomic<uint64_t> node_reads_{0};
  mutable absl::Mutex append_mu_;  // one appender at a time
  mutable absl::Mutex size_mu_;
  uint64_t size_ ABSL_GUARDED_BY(size_mu_);
};

}  // namespace renkei::audit

#endif  // RENKEI_AUDIT_MERKLE_LOG_H_
