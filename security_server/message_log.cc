#include "security_server/message_log.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/digest.h"
#include "common/rocksdb_options.h"
#include "common/status_macros.h"
#include "common/storage_helpers.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
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

// Adds the writes of one batch to another (the committer writes all it takes as one).
class CopyInto : public rocksdb::WriteBatch::Handler {
 public:
  explicit CopyInto(rocksdb::WriteBatch& target) : target_(target) {}
  rocksdb::Status PutCF(uint32_t family, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    return family == 0 ? target_.Put(key, value) : Unsupported();
  }
  rocksdb::Status DeleteCF(uint32_t family, const rocksdb::Slice& key) override {
    return family == 0 ? target_.Delete(key) : Unsupported();
  }
  rocksdb::Status DeleteRangeCF(uint32_t family, const rocksdb::Slice& begin,
                                const rocksdb::Slice& end) override {
    return family == 0 ? target_.DeleteRange(begin, end) : Unsupported();
  }

 private:
  static rocksdb::Status Unsupported() {
    return rocksdb::Status::InvalidArgument("the message log has one column family");
  }
  rocksdb::WriteBatch& target_;
};

absl::Time TimeOf(const v1::AccessRecord& record) {
  return absl::FromUnixSeconds(record.time().seconds()) + absl::Nanoseconds(record.time().nanos());
}

// The time of a serialized access record; an unreadable one counts as waiting since 1970.
absl::Time RecordTime(const std::string& bytes) {
  v1::AccessRecord record;
  record.ParseFromString(bytes);
  return TimeOf(record);
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

MessageLog::MessageLog(std::string directory, std::unique_ptr<rocksdb::DB> db, bool store_bodies,
                       rocksdb::Env* env)
    : directory_(std::move(directory)), store_bodies_(store_bodies), env_(env), db_(std::move(db)) {}

absl::StatusOr<std::unique_ptr<rocksdb::DB>> MessageLog::OpenDatabase(
    const std::string& directory, rocksdb::Env* env) {
  rocksdb::Options options = StoreOptions("message log");
  if (env != nullptr) options.env = env;
  // HasRecordedRequest asks for every request id, on a reactor thread, and almost always
  // finds nothing: bloom filters (held in memory with each table) answer that without a
  // disk read.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Filters and indexes live in a bounded cache (the log grows for ever); those of the
  // newest tables, where recent ids are, stay pinned.
  table.block_cache = rocksdb::NewLRUCache(64 << 20);
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.create_if_missing = true;
  options.max_bgerror_resume_count = 0;
  options.listeners.push_back(std::make_shared<NoAutomaticRecovery>());
  rocksdb::DB* raw = nullptr;
  absl::Status status = FromRocks(rocksdb::DB::Open(options, directory, &raw), "open");
  if (!status.ok()) return status;
  return std::unique_ptr<rocksdb::DB>(raw);
}

absl::StatusOr<std::unique_ptr<MessageLog>> MessageLog::Open(const std::string& directory,
                                                             bool store_bodies,
                                                             rocksdb::Env* env) {
  RENKEI_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db, OpenDatabase(directory, env));
  RENKEI_ASSIGN_OR_RETURN(ChainTail tail, ReadChainTail(*db));
  RENKEI_ASSIGN_OR_RETURN(Waiting waiting, ReadWaiting(*db));
  std::unique_ptr<MessageLog> log(new MessageLog(directory, std::move(db), store_bodies, env));
  {
    absl::MutexLock lock(&log->mu_);
    log->next_sequence_ = tail.next_sequence;
    log->last_hash_ = std::move(tail.last_hash);
    log->waiting_ = std::move(waiting);
  }
  log->committer_ = std::thread([raw = log.get()] { raw->CommitLoop(); });
  return log;
}

MessageLog::~MessageLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  committer_.join();
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

size_t MessageLog::Job::bytes() const {
  return (entry.has_value() ? entry->ByteSizeLong() : 0) + outbox_record.size() +
         batch.GetDataSize() + retained_bytes;
}

absl::Status MessageLog::Enqueue(Job job) {
  RecordDone refused;
  absl::Status status;
  const size_t bytes = job.bytes();
  // What is not evidence (operational records) gets only the room below the high-water
  // mark: the rest is kept for the exchanges already admitted.
  const bool evidence = job.sync;
  const size_t limit = evidence ? kQueueLimit : kQueueHighWater;
  const size_t byte_limit = evidence ? kQueueByteLimit : kQueueByteLimit / 2;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      status = absl::UnavailableError("message log: the server is stopping");
    } else if (!failure_.ok()) {
      status = failure_;
    } else if (queue_.size() >= limit || queued_bytes_ + bytes > byte_limit) {
      status = absl::UnavailableError(absl::StrCat("message log: ", queue_.size(), " writes of ",
                                                   queued_bytes_, " bytes already wait for the disk"));
    } else {
      queued_bytes_ += bytes;
      job.charged = bytes;
      queue_.push_back(std::move(job));
      return absl::OkStatus();
    }
    refused = std::move(job.done);
  }
  if (refused) std::move(refused)(status);
  return status;
}

absl::Status MessageLog::EnqueueAndWait(Job job) {
  absl::Notification written;
  absl::Status outcome;
  job.done = [&](absl::Status status) {
    outcome = std::move(status);
    written.Notify();
  };
  Enqueue(std::move(job)).IgnoreError();  // a refusal also runs `done`
  written.WaitForNotification();
  return outcome;
}

absl::Status MessageLog::WriteUnsynced(rocksdb::WriteBatch batch) {
  Job job;
  job.batch = std::move(batch);
  job.sync = false;
  return Enqueue(std::move(job));
}

absl::Status MessageLog::WriteAndWait(rocksdb::WriteBatch batch) {
  Job job;
  job.batch = std::move(batch);
  return EnqueueAndWait(std::move(job));
}

absl::Status MessageLog::Admit() const {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  if (stopping_) return absl::UnavailableError("message log: the server is stopping");
  if (queue_.size() >= kQueueHighWater || queued_bytes_ > kQueueByteLimit / 2) {
    return absl::UnavailableError(absl::StrCat(
        "message log: ", queue_.size(), " writes wait for the disk; try again shortly"));
  }
  return absl::OkStatus();
}

void MessageLog::CommitLoop() {
  for (;;) {
    std::vector<Job> jobs;
    bool recover = false;
    {
      absl::MutexLock lock(&mu_);
      auto work = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_ || recover_requested_;
      };
      mu_.Await(absl::Condition(&work));
      if (queue_.empty() && !recover_requested_) return;  // stopping, all written
      jobs.swap(queue_);
      recover = recover_requested_;
    }
    if (!jobs.empty()) Commit(std::move(jobs));
    if (recover) {
      absl::Status reopened = Reopen();
      absl::MutexLock lock(&mu_);
      if (reopened.ok()) failure_ = absl::OkStatus();
      recover_requested_ = false;
      ++recover_attempts_;
    }
  }
}

void MessageLog::Commit(std::vector<Job> jobs) {
  absl::Status status;
  uint64_t sequence;
  std::string last_hash;
  {
    absl::MutexLock lock(&mu_);
    status = failure_;
    sequence = next_sequence_;
    last_hash = last_hash_;
  }
  if (status.ok()) {
    rocksdb::WriteBatch batch;
    bool sync = false;
    for (Job& job : jobs) {
      sync = sync || job.sync;
      if (job.entry.has_value()) {
        job.entry->set_sequence(sequence);
        job.entry->set_previous_entry_sha256(last_hash);
        std::string bytes = job.entry->SerializeAsString();
        last_hash = Sha256(bytes);
        batch.Put(EntryKey(sequence), bytes);
        if (!job.outbox_record.empty()) {
          std::string key = SequenceKey(kOutboxPrefix, sequence);
          batch.Put(key, job.outbox_record);
          job.outbox_added.emplace_back(std::move(key), job.record_time);
        }
        if (!job.answered_id.empty()) batch.Put(IdKey(kAnsweredPrefix, job.answered_id), "");
        ++sequence;
      }
      if (job.batch.Count() > 0) {
        CopyInto copy(batch);
        if (status.ok()) status = FromRocks(job.batch.Iterate(&copy), "batch");
      }
    }
    absl::StatusOr<std::shared_ptr<rocksdb::DB>> db = Database();
    if (!db.ok()) status = db.status();
    if (status.ok()) {
      rocksdb::WriteOptions options;
      options.sync = sync;
      {
        absl::MutexLock lock(&mu_);
        writing_since_ = absl::Now();
      }
      status = FromRocks((*db)->Write(options, &batch), "write");
    }
  }
  {
    absl::MutexLock lock(&mu_);
    writing_since_.reset();
    if (status.ok()) {
      next_sequence_ = sequence;
      last_hash_ = std::move(last_hash);
      for (Job& job : jobs) {
        // Counted only for records that were waiting: a settlement repeated across a
        // reopen (its first write reached the disk after all) changes nothing twice.
        for (const auto& [key, quarantined] : job.outbox_removed) {
          if (waiting_.outbox.erase(key) > 0 && quarantined) ++waiting_.quarantined;
        }
        for (auto& [key, time] : job.outbox_added) {
          if (waiting_.outbox.emplace(key, time).second && job.requeued &&
              waiting_.quarantined > 0) {
            --waiting_.quarantined;
          }
        }
      }
    } else if (failure_.ok()) {
      // Entries queued now would link to ones that are not on disk: they fail too, and the
      // log refuses until Reopen resumes the chain from what is on disk.
      failure_ = status;
    }
  }
  size_t written_bytes = 0;
  for (Job& job : jobs) {
    written_bytes += job.charged;
    if (job.done) std::move(job.done)(status);
  }
  // Their memory is released only now: the completions held the answers until they ran.
  absl::MutexLock lock(&mu_);
  queued_bytes_ -= written_bytes;
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

void MessageLog::Record(const ExchangeEvidence& evidence, RecordDone done) {
  Job job;
  v1::MessageLogEntry& entry = job.entry.emplace();
  entry.set_role(evidence.role);
  entry.set_message_id(evidence.message_id);
  *entry.mutable_request() = *evidence.request;
  *entry.mutable_response() = *evidence.response;
  if (store_bodies_) {
    entry.set_request_payload(std::string(evidence.request_payload));
    entry.set_response_payload(std::string(evidence.response_payload));
  }
  if (evidence.access_record != nullptr) {
    v1::OutboxRecord waiting;
    waiting.set_record(evidence.access_record->SerializeAsString());
    *waiting.mutable_request() = *evidence.request;
    job.outbox_record = waiting.SerializeAsString();
    job.record_time = TimeOf(*evidence.access_record);
  }
  if (evidence.role == v1::MessageLogEntry::PROVIDER) job.answered_id = evidence.message_id;
  job.retained_bytes = evidence.retained_bytes;
  job.done = std::move(done);
  Enqueue(std::move(job)).IgnoreError();  // a refusal runs `done` with it
}

absl::Status MessageLog::Recover() {
  absl::MutexLock lock(&mu_);
  if (failure_.ok() || stopping_) return failure_;
  const uint64_t attempt = recover_attempts_ + 1;
  recover_requested_ = true;
  auto attempted = [this, attempt]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return recover_attempts_ >= attempt || stopping_;
  };
  mu_.Await(absl::Condition(&attempted));
  return failure_;
}

absl::Status MessageLog::Reopen() {
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
  RENKEI_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> reopened, OpenDatabase(directory_, env_));
  // A synced write proves the disk takes writes again (it fails on a disk still full).
  rocksdb::WriteOptions synced;
  synced.sync = true;
  absl::Status probe = FromRocks(reopened->Put(synced, kProbeKey, ""), "write");
  absl::StatusOr<ChainTail> tail = probe.ok() ? ReadChainTail(*reopened) : probe;
  absl::StatusOr<Waiting> waiting = tail.ok() ? ReadWaiting(*reopened) : tail.status();
  {
    absl::MutexLock lock(&db_mu_);
    db_ = std::move(reopened);
  }
  if (!waiting.ok()) return waiting.status();
  absl::MutexLock lock(&mu_);
  next_sequence_ = tail->next_sequence;
  last_hash_ = std::move(tail->last_hash);
  waiting_ = *std::move(waiting);
  return absl::OkStatus();
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
  std::string first;
  {
    absl::MutexLock lock(&mu_);
    if (waiting_.outbox.empty()) return items;
    first = waiting_.outbox.begin()->first;
  }
  RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::DB> db, Database());
  // From the oldest record known to wait: the deleted ones before it are never walked.
  const std::string end(1, kOutboxPrefix + 1);
  const rocksdb::Slice upper_bound(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
  for (it->Seek(first); it->Valid() && items.size() < max; it->Next()) {
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
  Job job;
  for (const Settlement& item : settled) {
    job.batch.Delete(item.key);
    job.outbox_removed.emplace_back(item.key, item.receipt.empty());
    if (!item.receipt.empty()) {
      job.batch.Put(IdKey(kReceiptPrefix, item.message_id), item.receipt);
    } else {
      // The quarantine keeps the outbox key's sequence: oldest first, never overwritten.
      std::string key = item.key;
      key[0] = kQuarantinePrefix;
      job.batch.Put(key, item.quarantined.SerializeAsString());
    }
  }
  return EnqueueAndWait(std::move(job));
}

absl::StatusOr<size_t> MessageLog::Requeue(const std::vector<absl::StatusCode>& codes) {
  Job job;
  size_t moved = 0;
  {  // the iterator and the database are released before the committer may reopen it
    RENKEI_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::DB> db, Database());
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(SequenceKey(kQuarantinePrefix, 0)); it->Valid(); it->Next()) {
      if (it->key().empty() || it->key()[0] != kQuarantinePrefix) break;
      v1::QuarantinedRecord quarantined;
      if (!quarantined.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        continue;  // stays for an operator
      }
      if (std::find(codes.begin(), codes.end(),
                    static_cast<absl::StatusCode>(quarantined.code())) == codes.end()) {
        continue;
      }
      v1::OutboxRecord waiting;
      waiting.set_record(quarantined.record());
      *waiting.mutable_request() = quarantined.request();
      std::string key = it->key().ToString();
      job.batch.Delete(key);
      key[0] = kOutboxPrefix;
      job.batch.Put(key, waiting.SerializeAsString());
      job.outbox_added.emplace_back(key, RecordTime(quarantined.record()));
      ++moved;
    }
    RENKEI_RETURN_IF_ERROR(FromRocks(it->status(), "quarantine read"));
  }
  if (moved == 0) return moved;
  job.requeued = true;
  RENKEI_RETURN_IF_ERROR(EnqueueAndWait(std::move(job)));
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

absl::StatusOr<MessageLog::Waiting> MessageLog::ReadWaiting(rocksdb::DB& db) {
  Waiting waiting;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(SequenceKey(kOutboxPrefix, 0)); it->Valid(); it->Next()) {
    if (it->key().empty() || it->key()[0] != kOutboxPrefix) break;
    v1::OutboxRecord record;
    record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()));
    waiting.outbox[it->key().ToString()] = RecordTime(record.record());
  }
  for (it->Seek(SequenceKey(kQuarantinePrefix, 0)); it->Valid(); it->Next()) {
    if (it->key().empty() || it->key()[0] != kQuarantinePrefix) break;
    ++waiting.quarantined;
  }
  RENKEI_RETURN_IF_ERROR(FromRocks(it->status(), "read"));
  return waiting;
}

uint64_t MessageLog::QuarantineSize() const {
  absl::MutexLock lock(&mu_);
  return waiting_.quarantined;
}

uint64_t MessageLog::OutboxSize() const {
  absl::MutexLock lock(&mu_);
  return waiting_.outbox.size();
}

std::optional<absl::Time> MessageLog::OldestOutboxTime() const {
  absl::MutexLock lock(&mu_);
  // Keys are in sequence order, which is the order records were made in.
  if (waiting_.outbox.empty()) return std::nullopt;
  return waiting_.outbox.begin()->second;
}

absl::Duration MessageLog::WriteStalledFor() const {
  absl::MutexLock lock(&mu_);
  return writing_since_.has_value() ? absl::Now() - *writing_since_ : absl::ZeroDuration();
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
