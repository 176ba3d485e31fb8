#include "security_server/message_log.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/rocksdb_options.h"
#include "common/status_macros.h"
#include "common/storage_helpers.h"
#include "rocksdb/write_batch.h"

namespace renkei {
namespace {

constexpr char kEntryPrefix = 'e';
constexpr char kOutboxPrefix = 'o';
constexpr char kQuarantinePrefix = 'x';      // outbox sequence → QuarantinedRecord
constexpr char kReceiptPrefix = 'r';         // message id → SignedLedgerReceipt
constexpr char kAnsweredPrefix = 'm';        // message id answered as provider → ""
constexpr char kProbeKey[] = "p";            // written by Recover to prove writes work

std::string IdKey(char prefix, absl::string_view message_id) {
  return absl::StrCat(std::string(1, prefix), message_id);
}

std::string SequenceKey(char prefix, uint64_t sequence) {
  return NumberedKey(std::string(1, prefix), sequence);
}

std::string EntryKey(uint64_t sequence) { return SequenceKey(kEntryPrefix, sequence); }

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  return FromRocksStatus(status, absl::StrCat("message log ", what));
}

}  // namespace

// A RocksDB instance that had a write fail must not write again: its write-ahead log may end
// in a torn record (and this build of RocksDB asserts on such a writer). So the database is
// not resumed in place, neither by RocksDB on its own nor by us; Recover reopens it.
class NoAutomaticRecovery : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

MessageLog::MessageLog(std::string directory, std::unique_ptr<rocksdb::DB> db, bool store_bodies)
    : directory_(std::move(directory)), store_bodies_(store_bodies), db_(std::move(db)) {}

absl::StatusOr<std::unique_ptr<rocksdb::DB>> MessageLog::OpenDatabase(
    const std::string& directory) {
  rocksdb::Options options = StoreOptions("message log");
  options.create_if_missing = true;
  options.max_bgerror_resume_count = 0;
  options.listeners.push_back(std::make_shared<NoAutomaticRecovery>());
  rocksdb::DB* raw = nullptr;
  absl::Status status = FromRocks(rocksdb::DB::Open(options, directory, &raw), "open");
  if (!status.ok()) return status;
  return std::unique_ptr<rocksdb::DB>(raw);
}

absl::StatusOr<std::unique_ptr<MessageLog>> MessageLog::Open(const std::string& directory,
                                                             bool store_bodies) {
  RENKEI_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db, OpenDatabase(directory));
  RENKEI_ASSIGN_OR_RETURN(ChainTail tail, ReadChainTail(*db));
  std::unique_ptr<MessageLog> log(new MessageLog(directory, std::move(db), store_bodies));
  absl::MutexLock lock(&log->mu_);
  log->next_sequence_ = tail.next_sequence;
  log->last_hash_ = std::move(tail.last_hash);
  return log;
}

std::shared_ptr<rocksdb::DB> MessageLog::database() const {
  absl::MutexLock lock(&db_mu_);
  return db_;
}

absl::StatusOr<std::shared_ptr<rocksdb::DB>> MessageLog::Database() const {
  std::shared_ptr<rocksdb::DB> db = database();
  if (db == nullptr) {
    return absl::UnavailableError("message log is being reopened after a write error");
  }
  return db;
}

absl::Status MessageLog::Write(rocksdb::WriteBatch& batch, bool sync,
                               std::optional<uint64_t> generation) {
  absl::MutexLock write_lock(&write_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    if (generation.has_value() && *generation != generation_) {
      return absl::UnavailableError("message log: these entries were queued before a write failed");
    }
  }
  RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::DB> db, Database());
  rocksdb::WriteOptions options;
  options.sync = sync;
  absl::Status written = FromRocks(db->Write(options, &batch), "write");
  if (!written.ok()) {
    absl::MutexLock lock(&mu_);
    failure_ = written;
    // Entries queued now link to ones that may not be on disk: they fail too, and so does any
    // batch taken before this failure and not yet written (its generation is past).
    ++generation_;
    for (PendingEntry& pending : pending_) *pending.outcome = {true, written};
    pending_.clear();
  }
  return written;
}

absl::Status MessageLog::WriteUnsynced(rocksdb::WriteBatch& batch) {
  return Write(batch, false, std::nullopt);
}

absl::StatusOr<MessageLog::ChainTail> MessageLog::ReadChainTail(rocksdb::DB& db) {
  ChainTail tail;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(EntryKey(UINT64_MAX));
  if (it->Valid() && !it->key().empty() && it->key()[0] == kEntryPrefix) {
    v1::MessageLogEntry last;
    if (!last.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("message log: last entry is unreadable");
    }
    tail.next_sequence = last.sequence() + 1;
    tail.last_hash = Sha256(absl::string_view(it->value().data(), it->value().size()));
  }
  RENKEI_RETURN_IF_ERROR(FromRocks(it->status(), "read"));
  return tail;
}

absl::Status MessageLog::Record(const ExchangeEvidence& evidence) {
  v1::MessageLogEntry entry;
  entry.set_role(evidence.role);
  entry.set_message_id(evidence.message_id);
  *entry.mutable_request() = *evidence.request;
  *entry.mutable_response() = *evidence.response;
  if (store_bodies_) {
    entry.set_request_payload(std::string(evidence.request_payload));
    entry.set_response_payload(std::string(evidence.response_payload));
  }

  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  uint64_t sequence = next_sequence_++;
  entry.set_sequence(sequence);
  entry.set_previous_entry_sha256(last_hash_);
  std::string bytes = entry.SerializeAsString();
  last_hash_ = Sha256(bytes);
  std::string outbox_record;
  if (evidence.access_record != nullptr) {
    v1::OutboxRecord waiting;
    waiting.set_record(evidence.access_record->SerializeAsString());
    *waiting.mutable_request() = *evidence.request;
    outbox_record = waiting.SerializeAsString();
  }
  Outcome outcome;
  pending_.push_back({sequence, std::move(bytes), std::move(outbox_record),
                      evidence.role == v1::MessageLogEntry::PROVIDER ? evidence.message_id : "",
                      &outcome});

  // Group commit: whoever finds no writer active becomes the writer for everything pending.
  auto done_or_no_writer = [&outcome, this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return outcome.done || !writer_active_;
  };
  while (!outcome.done) {
    if (writer_active_) {
      mu_.Await(absl::Condition(&done_or_no_writer));
      continue;
    }
    writer_active_ = true;
    const uint64_t generation = generation_;
    std::vector<PendingEntry> batch_entries;
    batch_entries.swap(pending_);
    mu_.Unlock();
    rocksdb::WriteBatch batch;
    for (const PendingEntry& pending : batch_entries) {
      batch.Put(EntryKey(pending.sequence), pending.entry);
      if (!pending.access_record.empty()) {
        batch.Put(SequenceKey(kOutboxPrefix, pending.sequence), pending.access_record);
      }
      if (!pending.provider_message_id.empty()) {
        batch.Put(IdKey(kAnsweredPrefix, pending.provider_message_id), "");
      }
    }
    absl::Status written = Write(batch, /*sync=*/true, generation);
    mu_.Lock();
    writer_active_ = false;
    for (PendingEntry& pending : batch_entries) *pending.outcome = {true, written};
  }
  return outcome.status;
}

absl::Status MessageLog::Recover() {
  {
    absl::MutexLock lock(&mu_);
    if (failure_.ok() || recovering_) return failure_;
    recovering_ = true;
  }
  // Reopening replays the write-ahead log up to its last whole record, and starts a new one.
  // A batch whose write failed but reached the log whole (an fsync error) becomes part of the
  // chain, as after a crash at that moment: its answers were withheld, and its records say
  // they were given, never the reverse.
  std::shared_ptr<rocksdb::DB> old;
  {
    absl::MutexLock lock(&db_mu_);
    old.swap(db_);
  }
  while (old != nullptr && old.use_count() > 1) {  // readers finishing a scan
    absl::SleepFor(absl::Milliseconds(1));
  }
  old.reset();
  absl::StatusOr<std::unique_ptr<rocksdb::DB>> reopened = OpenDatabase(directory_);
  absl::StatusOr<ChainTail> tail = absl::UnavailableError("not reopened");
  if (reopened.ok()) {
    // A synced write proves the disk takes writes again (it fails on a disk still full).
    rocksdb::WriteOptions synced;
    synced.sync = true;
    absl::Status probe = FromRocks((*reopened)->Put(synced, kProbeKey, ""), "write");
    tail = probe.ok() ? ReadChainTail(**reopened) : probe;
    absl::MutexLock lock(&db_mu_);
    db_ = std::move(*reopened);
  }
  absl::MutexLock lock(&mu_);
  recovering_ = false;
  if (!reopened.ok()) return reopened.status();
  if (!tail.ok()) return tail.status();
  next_sequence_ = tail->next_sequence;
  last_hash_ = std::move(tail->last_hash);
  failure_ = absl::OkStatus();
  return failure_;
}

uint64_t MessageLog::size() const {
  absl::MutexLock lock(&mu_);
  return next_sequence_;
}

absl::StatusOr<std::vector<v1::MessageLogEntry>> MessageLog::Read(uint64_t first,
                                                                  size_t count) const {
  std::vector<v1::MessageLogEntry> entries;
  RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::DB> db, Database());
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(EntryKey(first)); it->Valid() && entries.size() < count; it->Next()) {
    if (it->key().empty() || it->key()[0] != kEntryPrefix) break;
    v1::MessageLogEntry entry;
    if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("message log: unreadable entry");
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

absl::StatusOr<std::vector<MessageLog::OutboxItem>> MessageLog::ReadOutbox(size_t max) const {
  std::vector<OutboxItem> items;
  RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::DB> db, Database());
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(SequenceKey(kOutboxPrefix, 0)); it->Valid() && items.size() < max; it->Next()) {
    if (it->key().empty() || it->key()[0] != kOutboxPrefix) break;
    OutboxItem item;
    item.key = it->key().ToString();
    v1::OutboxRecord waiting;
    if (waiting.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      item.bytes = std::move(*waiting.mutable_record());
      item.request = std::move(*waiting.mutable_request());
    } else {
      item.unreadable = it->value().ToString();
    }
    items.push_back(std::move(item));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "outbox read");
  return items;
}

absl::StatusOr<bool> MessageLog::HasRecordedRequest(const std::string& message_id) const {
  RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::DB> db, Database());
  std::string ignored;
  rocksdb::Status got =
      db->Get(rocksdb::ReadOptions(), IdKey(kAnsweredPrefix, message_id), &ignored);
  if (got.IsNotFound()) return false;
  absl::Status status = FromRocks(got, "read");
  if (!status.ok()) return status;
  return true;
}

absl::Status MessageLog::Settle(const std::vector<Settlement>& settled) {
  rocksdb::WriteBatch batch;
  for (const Settlement& item : settled) {
    batch.Delete(item.key);
    if (!item.receipt.empty()) {
      batch.Put(IdKey(kReceiptPrefix, item.message_id), item.receipt);
    } else {
      // The quarantine keeps the outbox key's sequence: oldest first, never overwritten.
      std::string key = item.key;
      key[0] = kQuarantinePrefix;
      batch.Put(key, item.quarantined.SerializeAsString());
    }
  }
  return Write(batch, /*sync=*/true, std::nullopt);
}

absl::StatusOr<size_t> MessageLog::Requeue(const std::vector<absl::StatusCode>& codes) {
  RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::DB> db, Database());
  rocksdb::WriteBatch batch;
  size_t moved = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(SequenceKey(kQuarantinePrefix, 0)); it->Valid(); it->Next()) {
    if (it->key().empty() || it->key()[0] != kQuarantinePrefix) break;
    v1::QuarantinedRecord quarantined;
    if (!quarantined.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      continue;  // stays for an operator
    }
    if (std::find(codes.begin(), codes.end(), static_cast<absl::StatusCode>(quarantined.code())) ==
        codes.end()) {
      continue;
    }
    v1::OutboxRecord waiting;
    waiting.set_record(quarantined.record());
    *waiting.mutable_request() = quarantined.request();
    std::string key = it->key().ToString();
    batch.Delete(key);
    key[0] = kOutboxPrefix;
    batch.Put(key, waiting.SerializeAsString());
    ++moved;
  }
  RENKEI_RETURN_IF_ERROR(FromRocks(it->status(), "quarantine read"));
  if (moved == 0) return moved;
  RENKEI_RETURN_IF_ERROR(Write(batch, /*sync=*/true, std::nullopt));
  return moved;
}

absl::StatusOr<v1::SignedLedgerReceipt> MessageLog::Receipt(const std::string& message_id) const {
  RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::DB> db, Database());
  return ReadReceiptFrom(*db, message_id);
}

absl::StatusOr<v1::SignedLedgerReceipt> MessageLog::ReadReceiptFrom(rocksdb::DB& db,
                                                                    const std::string& message_id) {
  std::string bytes;
  rocksdb::Status got = db.Get(rocksdb::ReadOptions(), IdKey(kReceiptPrefix, message_id), &bytes);
  if (got.IsNotFound()) return absl::NotFoundError("no ledger receipt for this message id");
  absl::Status status = FromRocks(got, "read");
  if (!status.ok()) return status;
  v1::SignedLedgerReceipt receipt;
  if (!receipt.ParseFromString(bytes)) return absl::DataLossError("stored receipt is unreadable");
  return receipt;
}

absl::StatusOr<std::unique_ptr<rocksdb::DB>> MessageLog::OpenReadOnly(
    const std::string& directory) {
  rocksdb::DB* raw = nullptr;
  absl::Status opened =
      FromRocks(rocksdb::DB::OpenForReadOnly(StoreOptions("message log"), directory, &raw), "open");
  if (!opened.ok()) return opened;
  return std::unique_ptr<rocksdb::DB>(raw);
}

absl::StatusOr<std::vector<v1::QuarantinedRecord>> MessageLog::ReadQuarantineOf(
    const std::string& directory) {
  RENKEI_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db, OpenReadOnly(directory));
  return ReadQuarantineFrom(*db, SIZE_MAX);
}

absl::StatusOr<v1::SignedLedgerReceipt> MessageLog::ReadReceiptOf(const std::string& directory,
                                                                  const std::string& message_id) {
  RENKEI_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db, OpenReadOnly(directory));
  return ReadReceiptFrom(*db, message_id);
}

absl::StatusOr<std::vector<v1::QuarantinedRecord>> MessageLog::ReadQuarantine(size_t max) const {
  RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::DB> db, Database());
  return ReadQuarantineFrom(*db, max);
}

absl::StatusOr<std::vector<v1::QuarantinedRecord>> MessageLog::ReadQuarantineFrom(rocksdb::DB& db,
                                                                                  size_t max) {
  std::vector<v1::QuarantinedRecord> records;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(SequenceKey(kQuarantinePrefix, 0)); it->Valid() && records.size() < max;
       it->Next()) {
    if (it->key().empty() || it->key()[0] != kQuarantinePrefix) break;
    v1::QuarantinedRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("quarantined record is unreadable");
    }
    records.push_back(std::move(record));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "quarantine read");
  return records;
}

uint64_t MessageLog::CountKeys(char prefix) const {
  uint64_t count = 0;
  std::shared_ptr<rocksdb::DB> db = database();
  if (db == nullptr) return 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(SequenceKey(prefix, 0)); it->Valid(); it->Next()) {
    if (it->key().empty() || it->key()[0] != prefix) break;
    ++count;
  }
  return count;
}

uint64_t MessageLog::QuarantineSize() const { return CountKeys(kQuarantinePrefix); }

uint64_t MessageLog::OutboxSize() const { return CountKeys(kOutboxPrefix); }

absl::StatusOr<std::optional<absl::Time>> MessageLog::OldestOutboxTime() const {
  auto items = ReadOutbox(1);
  if (!items.ok()) return items.status();
  if (items->empty()) return std::optional<absl::Time>();
  v1::AccessRecord record;
  record.ParseFromString((*items)[0].bytes);  // unreadable: counts as waiting since 1970
  const auto& time = record.time();
  return std::optional<absl::Time>(absl::FromUnixSeconds(time.seconds()) +
                                   absl::Nanoseconds(time.nanos()));
}

absl::Status MessageLog::health() const {
  absl::MutexLock lock(&mu_);
  return failure_;
}

absl::Status MessageLog::VerifyChain() const {
  std::string previous(32, '\0');
  uint64_t expected = 0;
  RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::DB> db, Database());
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(EntryKey(0)); it->Valid(); it->Next()) {
    if (it->key().empty() || it->key()[0] != kEntryPrefix) break;
    absl::string_view bytes(it->value().data(), it->value().size());
    v1::MessageLogEntry entry;
    if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::DataLossError(absl::StrCat("message log entry ", expected, " is unreadable"));
    }
    if (entry.sequence() != expected) {
      return absl::DataLossError(absl::StrCat("message log entry ", expected,
                                              " is missing (found ", entry.sequence(), ")"));
    }
    if (!ConstantTimeEquals(entry.previous_entry_sha256(), previous)) {
      return absl::DataLossError(
          absl::StrCat("message log entry ", expected, " does not link to its predecessor"));
    }
    previous = Sha256(bytes);
    ++expected;
  }
  return FromRocks(it->status(), "read");
}

}  // namespace renkei
