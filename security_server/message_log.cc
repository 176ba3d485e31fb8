#include "security_server/message_log.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
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

MessageLog::MessageLog(std::unique_ptr<rocksdb::DB> db, bool store_bodies,
                       uint64_t next_sequence, std::string last_hash)
    : db_(std::move(db)),
      store_bodies_(store_bodies),
      next_sequence_(next_sequence),
      last_hash_(std::move(last_hash)),
      durable_through_(next_sequence) {}

absl::StatusOr<std::unique_ptr<MessageLog>> MessageLog::Open(const std::string& directory,
                                                             bool store_bodies) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  absl::Status status = FromRocks(rocksdb::DB::Open(options, directory, &raw), "open");
  if (!status.ok()) return status;
  std::unique_ptr<rocksdb::DB> db(raw);

  // The chain resumes from the last entry on disk: its sequence and the hash of its bytes.
  uint64_t next_sequence = 0;
  std::string last_hash(32, '\0');
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(EntryKey(UINT64_MAX));
  if (it->Valid() && !it->key().empty() && it->key()[0] == kEntryPrefix) {
    v1::MessageLogEntry last;
    if (!last.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("message log: last entry is unreadable");
    }
    next_sequence = last.sequence() + 1;
    last_hash = Sha256(absl::string_view(it->value().data(), it->value().size()));
  }
  return std::unique_ptr<MessageLog>(
      new MessageLog(std::move(db), store_bodies, next_sequence, std::move(last_hash)));
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
  pending_.push_back({sequence, std::move(bytes), std::move(outbox_record),
                      evidence.role == v1::MessageLogEntry::PROVIDER ? evidence.message_id : ""});

  // Group commit: whoever finds no writer active becomes the writer for everything pending.
  while (durable_through_ <= sequence && failure_.ok()) {
    if (writer_active_) {
      mu_.Await(absl::Condition(
          +[](MessageLog* log) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !log->writer_active_ || !log->failure_.ok();
          },
          this));
      continue;
    }
    writer_active_ = true;
    std::vector<PendingEntry> batch_entries;
    batch_entries.swap(pending_);
    uint64_t through = batch_entries.back().sequence + 1;
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
    rocksdb::WriteOptions options;
    options.sync = true;
    absl::Status written = FromRocks(db_->Write(options, &batch), "write");
    mu_.Lock();
    writer_active_ = false;
    if (written.ok()) {
      durable_through_ = through;
    } else {
      failure_ = written;
    }
  }
  return durable_through_ > sequence ? absl::OkStatus() : failure_;
}

uint64_t MessageLog::size() const {
  absl::MutexLock lock(&mu_);
  return next_sequence_;
}

absl::StatusOr<std::vector<v1::MessageLogEntry>> MessageLog::Read(uint64_t first,
                                                                  size_t count) const {
  std::vector<v1::MessageLogEntry> entries;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
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
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
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
  std::string ignored;
  rocksdb::Status got =
      db_->Get(rocksdb::ReadOptions(), IdKey(kAnsweredPrefix, message_id), &ignored);
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
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocks(db_->Write(options, &batch), "outbox settle");
}

absl::StatusOr<size_t> MessageLog::Requeue(const std::vector<absl::StatusCode>& codes) {
  rocksdb::WriteBatch batch;
  size_t moved = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
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
  rocksdb::WriteOptions options;
  options.sync = true;
  RENKEI_RETURN_IF_ERROR(FromRocks(db_->Write(options, &batch), "requeue"));
  return moved;
}

absl::StatusOr<v1::SignedLedgerReceipt> MessageLog::Receipt(const std::string& message_id) const {
  return ReadReceiptFrom(*db_, message_id);
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
      FromRocks(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), directory, &raw), "open");
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
  return ReadQuarantineFrom(*db_, max);
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
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
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
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
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
