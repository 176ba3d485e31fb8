// MessageLog: the security server's own evidence of every exchange it took part in: the
// signed request and response headers (bodies by setting), in RocksDB, hash-chained so that
// removing or altering an entry breaks the chain. The same database holds
//   - the outbox of access records waiting to be shipped to the ledger, written in the same
//     batch as their entry, and removed only on a verified broker receipt (kept, for
//     auditors) or into the quarantine (kept, for operators);
//   - the ids of requests answered as provider, so that none is answered twice, whenever
//     it comes back.
//
// One committer thread owns every write to the database (DESIGN.md "Threads and durability"):
// Record and the other writers only queue, and never wait on a disk. The committer takes
// everything queued, links the chain entries, writes them in one synced batch, then runs the
// callers' completions: nothing is acknowledged before it is durable (group commit). A full
// queue is refused at once with UNAVAILABLE. A failed write (a full or failing disk) fails
// everything in its batch and everything queued after it, and the log refuses, fast, until
// Recover brings it back: the chain then resumes from what is on disk, so an entry whose
// append failed is never part of it. Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_MESSAGE_LOG_H_
#define RENKEI_SECURITY_SERVER_MESSAGE_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "absl/time/time.h"

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "renkei/v1/ledger.pb.h"
#include "renkei/v1/message_log.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "security_server/exchange_recorder.h"

namespace renkei {

class MessageLog final : public ExchangeRecorder {
 public:
  // Opens (creating if needed) the log in `directory`; resumes the chain after its last entry.
  // `env`: RocksDB's default, or one that must outlive the log (tests slow its disk down).
  static absl::StatusOr<std::unique_ptr<MessageLog>> Open(const std::string& directory,
                                                          bool store_bodies,
                                                          rocksdb::Env* env = nullptr);
  // Writes what is queued, then stops the committer.
  ~MessageLog() override;

  void Record(const ExchangeEvidence& evidence, RecordDone done) override;

  // OK while the log takes new exchanges: not failed, and its queue below the high-water
  // mark. A provider asks before calling its backend, so that an answer is not produced
  // only to be withheld.
  absl::Status Admit() const override;

  // Number of entries ever appended.
  uint64_t size() const;

  // Reads every entry and checks sequence numbers and hash links. DATA_LOSS naming the first
  // broken entry. For audits and tests; reads the whole log.
  absl::Status VerifyChain() const;

  // Entries with sequence in [first, first + count), for audits and tests.
  absl::StatusOr<std::vector<v1::MessageLogEntry>> Read(uint64_t first, size_t count) const;

  // True when a request with this id was answered as provider (durably recorded).
  absl::StatusOr<bool> HasRecordedRequest(const std::string& message_id) const override;

  // Up to `max` outbox records, oldest first, with their keys and exact bytes.
  struct OutboxItem {
    std::string key;
    std::string bytes;            // the serialized AccessRecord as recorded
    v1::SignedHeader request;     // the client's signed request it records
    std::string unreadable;       // the stored value, when it does not parse
  };
  absl::StatusOr<std::vector<OutboxItem>> ReadOutbox(size_t max) const;
  // What became of an outbox record: the ledger's verified receipt, or a quarantine.
  struct Settlement {
    std::string key;                       // the outbox key
    std::string message_id;
    std::string receipt;                   // serialized SignedLedgerReceipt, or empty
    v1::QuarantinedRecord quarantined;     // when there is no receipt
  };
  // Removes the records from the outbox and keeps their receipts or quarantines them, in one
  // synced write. Waits for it: for the shipper's thread.
  absl::Status Settle(const std::vector<Settlement>& settled);
  // Moves the quarantined records refused with one of `codes` back to the outbox (in one
  // synced write), for another try: a refusal that depended on the configuration (not a
  // provider of the service then, a certificate not registered then) may not hold after it
  // changed. Returns how many moved. Waits for the write.
  absl::StatusOr<size_t> Requeue(const std::vector<absl::StatusCode>& codes);
  // The receipt kept for a record this server recorded (NOT_FOUND before it is settled).
  absl::StatusOr<v1::SignedLedgerReceipt> Receipt(const std::string& message_id) const;
  // The quarantine of the message log in `directory`, read while its server runs (a
  // read-only snapshot), for operators' tools.
  static absl::StatusOr<std::vector<v1::QuarantinedRecord>> ReadQuarantineOf(
      const std::string& directory);
  // The receipt kept for `message_id` in the message log in `directory`, read the same way.
  static absl::StatusOr<v1::SignedLedgerReceipt> ReadReceiptOf(const std::string& directory,
                                                               const std::string& message_id);
  // Up to `max` quarantined records, oldest first.
  absl::StatusOr<std::vector<v1::QuarantinedRecord>> ReadQuarantine(size_t max) const;
  // Outbox and quarantine sizes and the oldest waiting record's time, kept in memory (for
  // metrics and health checks, which must not scan).
  uint64_t QuarantineSize() const;
  uint64_t OutboxSize() const;
  // Time of the oldest record waiting in the outbox; nullopt when it is empty.
  std::optional<absl::Time> OldestOutboxTime() const;
  // OK while appends work; the write error that stopped them otherwise.
  absl::Status health() const;
  // How long the write in progress has been waiting on the disk (zero when none is): a disk
  // that hangs fails nothing, so health checks look at this too.
  absl::Duration WriteStalledFor() const;
  // After a write error: has the committer try to bring the log back (the disk has space
  // again, say), and waits for the attempt. OK when appends work again.
  absl::Status Recover();

  // For the operational log's own key prefix: reads from the database (null while Recover
  // reopens it; hold the pointer for one operation only), and unsynced writes, queued like
  // every other write (not waited for: the status says only whether it was queued).
  std::shared_ptr<rocksdb::DB> database() const;
  absl::Status WriteUnsynced(rocksdb::WriteBatch batch);
  // Queues `batch` and waits until it is written, with everything queued before it: for
  // background threads and tests, never for a reactor thread. An empty batch flushes.
  absl::Status WriteAndWait(rocksdb::WriteBatch batch);

  // Queue bounds, in writes and in bytes: refused beyond the limit; new exchanges (and
  // operational records) not admitted beyond high water, half the limit.
  static constexpr size_t kQueueLimit = 8192;
  static constexpr size_t kQueueHighWater = kQueueLimit / 2;
  static constexpr size_t kQueueByteLimit = 256 << 20;

 private:
  // One queued write: a chain entry (linked by the committer), other writes, or both.
  struct Job {
    std::optional<v1::MessageLogEntry> entry;
    std::string outbox_record;  // serialized OutboxRecord, stored with the entry; empty: none
    absl::Time record_time;     // the access record's time, for the outbox's age
    std::string answered_id;    // a request id answered as provider; empty: none
    rocksdb::WriteBatch batch;  // any other writes
    bool sync = true;
    // Outbox bookkeeping once written: keys leaving it (true: into the quarantine), records
    // joining it (from the quarantine: requeued).
    std::vector<std::pair<std::string, bool>> outbox_removed;
    std::vector<std::pair<std::string, absl::Time>> outbox_added;
    bool requeued = false;
    RecordDone done;  // may be empty
    size_t retained_bytes = 0;  // held by the caller until `done` runs
    size_t bytes() const;  // what it holds, against the queue's byte budget
    size_t charged = 0;    // bytes() when it was queued
  };

  MessageLog(std::string directory, std::unique_ptr<rocksdb::DB> db, bool store_bodies,
             rocksdb::Env* env);
  static absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenDatabase(const std::string& directory,
                                                                   rocksdb::Env* env);
  // database(), or UNAVAILABLE while it is being reopened.
  absl::StatusOr<std::shared_ptr<rocksdb::DB>> Database() const;
  // Queues `job`, or refuses it at once (failed log, full queue, stopping).
  absl::Status Enqueue(Job job) ABSL_LOCKS_EXCLUDED(mu_);
  // Queues `job` and waits until it is written.
  absl::Status EnqueueAndWait(Job job) ABSL_LOCKS_EXCLUDED(mu_);
  // The committer: its loop, one group commit, and the reopen after a failure.
  void CommitLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void Commit(std::vector<Job> jobs) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Reopen() ABSL_LOCKS_EXCLUDED(mu_);
  // Where the chain goes on: after the last entry on disk.
  struct ChainTail {
    uint64_t next_sequence = 0;
    std::string last_hash = std::string(32, '\0');
  };
  static absl::StatusOr<ChainTail> ReadChainTail(rocksdb::DB& db);
  // What the outbox and quarantine hold, read from disk at open and reopen.
  struct Waiting {
    std::map<std::string, absl::Time> outbox;  // key → record time
    uint64_t quarantined = 0;
  };
  static absl::StatusOr<Waiting> ReadWaiting(rocksdb::DB& db);
  static absl::StatusOr<std::vector<v1::QuarantinedRecord>> ReadQuarantineFrom(rocksdb::DB& db,
                                                                               size_t max);
  static absl::StatusOr<v1::SignedLedgerReceipt> ReadReceiptFrom(rocksdb::DB& db,
                                                                 const std::string& message_id);
  static absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenReadOnly(const std::string& directory);

  const std::string directory_;
  const bool store_bodies_;
  rocksdb::Env* const env_;  // null: RocksDB's default
  mutable absl::Mutex db_mu_;
  std::shared_ptr<rocksdb::DB> db_ ABSL_GUARDED_BY(db_mu_);

  mutable absl::Mutex mu_;
  std::vector<Job> queue_ ABSL_GUARDED_BY(mu_);
  // Bytes of the jobs queued or being written, until their completions ran.
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Not OK after a failed write: everything is refused until a reopen succeeds.
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  bool recover_requested_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t recover_attempts_ ABSL_GUARDED_BY(mu_) = 0;
  // The chain's tail and the outbox, as written (the committer changes them after a write).
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_hash_ ABSL_GUARDED_BY(mu_);
  Waiting waiting_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> writing_since_ ABSL_GUARDED_BY(mu_);
  std::thread committer_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_MESSAGE_LOG_H_
