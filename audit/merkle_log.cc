#include "audit/merkle_log.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "audit/merkle.h"
#include "common/rocksdb_options.h"
#include "common/storage_helpers.h"

namespace renkei::audit {
namespace {

constexpr char kSizeKey[] = "S";

std::string EntryKey(uint64_t index) { return NumberedKey("E", index); }

std::string NodeKey(int level, uint64_t index) {
  return NumberedKey(std::string("N") + static_cast<char>(level), index);
}

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  return FromRocksStatus(status, absl::StrCat("Merkle log ", what));
}

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

int Log2(uint64_t power_of_two) {
  int level = 0;
  while ((uint64_t{1} << level) < power_of_two) ++level;
  return level;
}

}  // namespace

MerkleLog::MerkleLog(std::unique_ptr<rocksdb::DB> db, uint64_t size)
    : db_(std::move(db)), size_(size) {}

absl::StatusOr<std::unique_ptr<MerkleLog>> MerkleLog::Open(const std::string& directory) {
  rocksdb::Options options = StoreOptions("ledger store");
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  absl::Status opened = FromRocks(rocksdb::DB::Open(options, directory, &raw), "open");
  if (!opened.ok()) return opened;
  std::unique_ptr<rocksdb::DB> db(raw);
  uint64_t size = 0;
  std::string value;
  rocksdb::Status got = db->Get(rocksdb::ReadOptions(), kSizeKey, &value);
  if (got.ok()) {
    if (value.size() != 8) return absl::DataLossError("Merkle log size record is malformed");
    size = ReadBigEndian64(value);
  } else if (!got.IsNotFound()) {
    return FromRocks(got, "read");
  }
  return std::unique_ptr<MerkleLog>(new MerkleLog(std::move(db), size));
}

uint64_t MerkleLog::size() const {
  absl::MutexLock lock(&size_mu_);
  return size_;
}

absl::StatusOr<uint64_t> MerkleLog::Append(
    const std::vector<std::string>& entries,
    const std::function<void(uint64_t, rocksdb::WriteBatch&)>& annotate) {
  absl::MutexLock append_lock(&append_mu_);
  const uint64_t first = size();
  rocksdb::WriteBatch batch;
  // Nodes completed by this batch, which later leaves of the batch may need before the
  // batch is written.
  std::map<std::pair<int, uint64_t>, std::string> fresh;
  auto node = [&](int level, uint64_t index) -> absl::StatusOr<std::string> {
    auto it = fresh.find({level, index});
    if (it != fresh.end()) return it->second;
    return StoredNode(level, index);
  };
  for (size_t i = 0; i < entries.size(); ++i) {
    const uint64_t leaf = first + i;
    batch.Put(EntryKey(leaf), entries[i]);
    std::string hash = LeafHash(entries[i]);
    fresh[{0, leaf}] = hash;
    batch.Put(NodeKey(0, leaf), hash);
    // Each time `leaf` completes a perfect subtree one level up, store that subtree's hash.
    uint64_t index = leaf;
    for (int level = 0; index & 1; ++level, index >>= 1) {
      auto left = node(level, index - 1);
      if (!left.ok()) return left.status();
      hash = NodeHash(*left, hash);
      fresh[{level + 1, index >> 1}] = hash;
      batch.Put(NodeKey(level + 1, index >> 1), hash);
    }
  }
  const uint64_t new_size = first + entries.size();
  batch.Put(kSizeKey, NumberedKey("", new_size));
  if (annotate) annotate(first, batch);
  rocksdb::WriteOptions options;
  options.sync = true;
  absl::Status written = FromRocks(db_->Write(options, &batch), "write");
  if (!written.ok()) return written;
  absl::MutexLock lock(&size_mu_);
  size_ = new_size;
  return first;
}

absl::StatusOr<std::string> MerkleLog::Entry(uint64_t index) const {
  if (index >= size()) return absl::OutOfRangeError(absl::StrCat("no entry ", index));
  std::string value;
  absl::Status status = FromRocks(db_->Get(rocksdb::ReadOptions(), EntryKey(index), &value), "read");
  if (!status.ok()) return status;
  return value;
}

absl::StatusOr<std::string> MerkleLog::StoredNode(int level, uint64_t index) const {
  ++node_reads_;
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), NodeKey(level, index), &value);
  if (status.IsNotFound() || (status.ok() && value.size() != kHashSize)) {
    return absl::DataLossError(absl::StrCat("Merkle log node ", level, "/", index, " is missing"));
  }
  absl::Status converted = FromRocks(status, "read");
  if (!converted.ok()) return converted;
  return value;
}

absl::StatusOr<std::string> MerkleLog::SubtreeHash(uint64_t start, uint64_t count) const {
  if (IsPowerOfTwo(count) && start % count == 0) return StoredNode(Log2(count), start / count);
  uint64_t k = SplitPoint(count);
  auto left = SubtreeHash(start, k);
  if (!left.ok()) return left.status();
  auto right = SubtreeHash(start + k, count - k);
  if (!right.ok()) return right.status();
  return NodeHash(*left, *right);
}

absl::StatusOr<std::string> MerkleLog::Root(uint64_t tree_size) const {
  if (tree_size > size()) {
    return absl::OutOfRangeError(absl::StrCat("the log has only ", size(), " entries"));
  }
  if (tree_size == 0) return EmptyTreeRoot();
  return SubtreeHash(0, tree_size);
}

absl::Status MerkleLog::InclusionPath(uint64_t index, uint64_t start, uint64_t count,
                                      std::vector<std::string>& path) const {
  if (count == 1) return absl::OkStatus();
  uint64_t k = SplitPoint(count);
  absl::StatusOr<std::string> sibling;
  if (index < k) {
    absl::Status status = InclusionPath(index, start, k, path);
    if (!status.ok()) return status;
    sibling = SubtreeHash(start + k, count - k);
  } else {
    absl::Status status = InclusionPath(index - k, start + k, count - k, path);
    if (!status.ok()) return status;
    sibling = SubtreeHash(start, k);
  }
  if (!sibling.ok()) return sibling.status();
  path.push_back(*std::move(sibling));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MerkleLog::InclusionProof(uint64_t index,
                                                                   uint64_t tree_size) const {
  if (tree_size > size() || index >= tree_size) {
    return absl::OutOfRangeError(absl::StrCat("no entry ", index, " in a tree of ", tree_size,
                                              " (the log has ", size(), ")"));
  }
  std::vector<std::string> path;
  absl::Status status = InclusionPath(index, 0, tree_size, path);
  if (!status.ok()) return status;
  return path;
}

absl::Status MerkleLog::ConsistencyPath(uint64_t m, uint64_t start, uint64_t count, bool whole,
                                        std::vector<std::string>& path) const {
  if (m == count) {
    if (whole) return absl::OkStatus();
    auto hash = SubtreeHash(start, count);
    if (!hash.ok()) return hash.status();
    path.push_back(*std::move(hash));
    return absl::OkStatus();
  }
  uint64_t k = SplitPoint(count);
  absl::StatusOr<std::string> sibling;
  if (m <= k) {
    absl::Status status = ConsistencyPath(m, start, k, whole, path);
    if (!status.ok()) return status;
    sibling = SubtreeHash(start + k, count - k);
  } else {
    absl::Status status = ConsistencyPath(m - k, start + k, count - k, false, path);
    if (!status.ok()) return status;
    sibling = SubtreeHash(start, k);
  }
  if (!sibling.ok()) return sibling.status();
  path.push_back(*std::move(sibling));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MerkleLog::ConsistencyProof(uint64_t size1,
                                                                     uint64_t size2) const {
  if (size1 > size2 || size2 > size()) {
    return absl::OutOfRangeError(absl::StrCat("no consistency proof from ", size1, " to ", size2,
                                              " (the log has ", size(), ")"));
  }
  std::vector<std::string> path;
  if (size1 == 0 || size1 == size2) return path;
  absl::Status status = ConsistencyPath(size1, 0, size2, true, path);
  if (!status.ok()) return status;
  return path;
}

}  // namespace renkei::audit
