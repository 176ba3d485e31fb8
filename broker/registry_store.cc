#include "broker/registry_store.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "broker/registry.h"
#include "common/rocksdb_options.h"
#include "common/storage_helpers.h"
#include "rocksdb/write_batch.h"

namespace renkei {
namespace {

constexpr char kRegistryKey[] = "registry";
constexpr char kAdminLogPrefix = 'a';

std::string AdminLogKey(uint64_t sequence) {
  return NumberedKey(std::string(1, kAdminLogPrefix), sequence);
}

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  return FromRocksStatus(status, absl::StrCat("broker store ", what));
}

}  // namespace

RegistryStore::RegistryStore(std::unique_ptr<rocksdb::DB> db, v1::GlobalConfiguration current,
                             uint64_t next_log_sequence)
    : db_(std::move(db)), current_(std::move(current)), next_log_sequence_(next_log_sequence) {}

absl::StatusOr<std::unique_ptr<RegistryStore>> RegistryStore::Open(const std::string& directory,
                                                                   const std::string& instance,
                                                                   const v1::Limits& limits) {
  rocksdb::Options options = StoreOptions("registry store");
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  absl::Status opened = FromRocks(rocksdb::DB::Open(options, directory, &raw), "open");
  if (!opened.ok()) return opened;
  std::unique_ptr<rocksdb::DB> db(raw);

  v1::GlobalConfiguration current;
  std::string bytes;
  rocksdb::Status got = db->Get(rocksdb::ReadOptions(), kRegistryKey, &bytes);
  if (got.ok()) {
    if (!current.ParseFromString(bytes)) return absl::DataLossError("broker registry is unreadable");
    if (current.instance() != instance) {
      return absl::FailedPreconditionError(absl::StrCat(
          "broker store in ", directory, " belongs to instance ", current.instance()));
    }
  } else if (got.IsNotFound()) {
    current.set_instance(instance);
  } else {
    return FromRocks(got, "read");
  }
  // Limits come from the broker's configuration file, so an operator changes them there.
  *current.mutable_limits() = limits;

  uint64_t next_log_sequence = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(AdminLogKey(UINT64_MAX));
  if (it->Valid() && !it->key().empty() && it->key()[0] == kAdminLogPrefix) {
    v1::AdminLogEntry last;
    if (last.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      next_log_sequence = last.sequence() + 1;
    }
  }
  return std::unique_ptr<RegistryStore>(
      new RegistryStore(std::move(db), std::move(current), next_log_sequence));
}

v1::GlobalConfiguration RegistryStore::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

absl::StatusOr<int64_t> RegistryStore::Apply(const v1::RegistryChange& change,
                                             const OperatorIdentity& who, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto next = ApplyRegistryChange(current_, change);
  if (!next.ok()) return next.status();
  next->set_version(current_.version() + 1);

  v1::AdminLogEntry entry = NewLogEntry(who, now);
  *entry.mutable_change() = change;
  entry.set_resulting_version(next->version());

  rocksdb::WriteBatch batch;
  batch.Put(kRegistryKey, next->SerializeAsString());
  batch.Put(AdminLogKey(next_log_sequence_), entry.SerializeAsString());
  rocksdb::WriteOptions options;
  options.sync = true;
  absl::Status written = FromRocks(db_->Write(options, &batch), "write");
  if (!written.ok()) return written;
  ++next_log_sequence_;
  current_ = *std::move(next);
  return current_.version();
}

v1::AdminLogEntry RegistryStore::NewLogEntry(const OperatorIdentity& who, absl::Time now) const {
  v1::AdminLogEntry entry;
  entry.set_sequence(next_log_sequence_);
  entry.mutable_time()->set_seconds(absl::ToUnixSeconds(now));
  entry.set_operator_name(who.name);
  entry.set_operator_certificate_sha256(who.certificate_sha256);
  return entry;
}

absl::Status RegistryStore::LogResidentEnrollment(
    const v1::AdminLogEntry::ResidentEnrollment& enrollment, const OperatorIdentity& who,
    absl::Time now) {
  absl::MutexLock lock(&mu_);
  v1::AdminLogEntry entry = NewLogEntry(who, now);
  *entry.mutable_resident_enrollment() = enrollment;
  entry.set_resulting_version(current_.version());
  rocksdb::WriteOptions options;
  options.sync = true;
  absl::Status written = FromRocks(
      db_->Put(options, AdminLogKey(next_log_sequence_), entry.SerializeAsString()), "write");
  if (!written.ok()) return written;
  ++next_log_sequence_;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::AdminLogEntry>> RegistryStore::ListAdminLog(int limit) const {
  std::vector<v1::AdminLogEntry> entries;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekForPrev(AdminLogKey(UINT64_MAX));
       it->Valid() && static_cast<int>(entries.size()) < limit; it->Prev()) {
    if (it->key().empty() || it->key()[0] != kAdminLogPrefix) break;
    v1::AdminLogEntry entry;
    if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("admin log entry is unreadable");
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace renkei
