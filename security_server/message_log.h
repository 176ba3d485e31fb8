// MessageLog: the security server's own evidence of every exchange it took part in: the
// signed request and response headers (bodies by setting), in RocksDB, hash-chained so that
// removing or altering an entry breaks the chain. The same database holds
//   - the outbox of access records waiting to be shipped to the ledger, written in the same
//     batch as their entry, and removed only on a verified broker receipt (kept, for
//     auditors) or into the quarantine (kept, for operators);
//   - the ids of requests answered as provider, so that none is answered twice, whenever
//     it comes back.
//
// Appends are durable (fsync) when Record returns. Concurrent appends are group-committed:
// one caller writes everything pending in one synced batch while the others wait. A failed
// write (a full or failing disk) fails every append pending with it, and the log refuses
// appends, fast, until Recover brings it back: the chain then resumes from what is on disk,
// so an entry whose append failed is never part of it. Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_MESSAGE_LOG_H_
#define RENKEI_SECURITY_SERVER_MESSAGE_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <optional>
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
  static absl::StatusOr<std::unique_ptr<MessageLog>> Open(const std::string& directory,
                                                          bool store_bodies);

  absl::Status Record(const ExchangeEvidence& evidence) override;

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
  // synced write.
  absl::Status Settle(const std::vector<Settlement>& settled);
  // Moves the quarantined records refused with one of `codes` back to the outbox (in one
  // synced write), for another try: a refusal that depended on the configuration (not a
  // provider of the service then, a certificate not registered then) may not hold after it
  // changed. Returns how many moved.
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
  uint64_t QuarantineSize() const;
  uint64_t OutboxSize() const;
  // Time of the oldest record waiting in the outbox; nullopt when it is empty.
  absl::StatusOr<std::optional<absl::Time>> OldestOutboxTime() const;
  // OK while appends work; the write error that stopped them otherwise.
  absl::Status health() const;
  // After a write error: tries to bring the log back (the disk has space again, say). OK
  // when appends work again. Does disk I/O: call it from a background thread.
  absl::Status Recover();

  // For the operational log's own key prefix: reads from the database (null while Recover
  // reopens it; hold the pointer for one operation only), and unsynced writes, which go
  // through the same gate as every other write.
  std::shared_ptr<rocksdb::DB> database() const;
  absl::Status WriteUnsynced(rocksdb::WriteBatch& batch);

 private:
  MessageLog(std::string directory, std::unique_ptr<rocksdb::DB> db, bool store_bodies);
  static absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenDatabase(const std::string& directory);
  // database(), or UNAVAILABLE while it is being reopened.
  absl::StatusOr<std::shared_ptr<rocksdb::DB>> Database() const;
  // Every write to the database, one at a time. After one fails, none reaches the database
  // again: the failure stops the log until Recover reopens it. A batch of chain entries
  // names the `generation` it was taken in, and is refused if a write failed since.
  absl::Status Write(rocksdb::WriteBatch& batch, bool sync, std::optional<uint64_t> generation)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Where the chain goes on: after the last entry on disk.
  struct ChainTail {
    uint64_t next_sequence = 0;
    std::string last_hash = std::string(32, '\0');
  };
  static absl::StatusOr<ChainTail> ReadChainTail(rocksdb::DB& db);
  static absl::StatusOr<std::vector<v1::QuarantinedRecord>> ReadQuarantineFrom(rocksdb::DB& db,
                                                                               size_t max);
  static absl::StatusOr<v1::SignedLedgerReceipt> ReadReceiptFrom(rocksdb::DB& db,
                                                                 const std::string& message_id);
  static absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenReadOnly(const std::string& directory);
  // Keys under `prefix` (a scan: for metrics and health, not hot paths).
  uint64_t CountKeys(char prefix) const;

  const std::string directory_;
  const bool store_bodies_;
  mutable absl::Mutex db_mu_;
  std::shared_ptr<rocksdb::DB> db_ ABSL_GUARDED_BY(db_mu_);
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // held across each write

  mutable absl::Mutex mu_;
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_);
  std::string last_hash_ ABSL_GUARDED_BY(mu_);
  // What became of one append, filled in by the writer of its batch.
  struct Outcome {
    bool done = false;
    absl::Status status;
  };
  // Serialized entries waiting for the next group commit.
  struct PendingEntry {
    uint64_t sequence;
    std::string entry;
    std::string access_record;        // serialized OutboxRecord; empty: none
    std::string provider_message_id;  // empty: not answered as provider
    Outcome* outcome;                 // the caller's, which waits for it
  };
  std::vector<PendingEntry> pending_ ABSL_GUARDED_BY(mu_);
  bool writer_active_ ABSL_GUARDED_BY(mu_) = false;
  // Not OK after a failed write: appends are refused until Recover.
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  // Counts write failures: chain entries taken before one are never written after it.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool recovering_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_MESSAGE_LOG_H_
