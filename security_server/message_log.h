// MessageLog: the security server's own evidence of every exchange it took part in: the
// signed request and response headers (bodies by setting), in RocksDB, hash-chained so that
// removing or altering an entry breaks the chain. The same database holds the outbox of
// access records waiting to be shipped to the ledger, written in the same batch as their
// entry, and deleted only once the ledger has acknowledged them.
//
// Appends are durable (fsync) when Record returns. Concurrent appends are group-committed:
// one caller writes everything pending in one synced batch while the others wait. After a
// failed write the log refuses further appends (the chain could have a gap); the server
// then fails closed. Thread-safe.
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
#include "rocksdb/db.h"
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

  // Up to `max` outbox records, oldest first, with their keys.
  struct OutboxItem {
    std::string key;
    v1::AccessRecord record;
  };
  absl::StatusOr<std::vector<OutboxItem>> ReadOutbox(size_t max) const;
  // Removes acknowledged records (synced).
  absl::Status DeleteFromOutbox(const std::vector<std::string>& keys);
  uint64_t OutboxSize() const;
  // Time of the oldest record waiting in the outbox; nullopt when it is empty.
  absl::StatusOr<std::optional<absl::Time>> OldestOutboxTime() const;
  // OK while appends work; the write error that stopped them otherwise.
  absl::Status health() const;

  // The database, for the operational log's own key prefix.
  rocksdb::DB* db() const { return db_.get(); }

 private:
  MessageLog(std::unique_ptr<rocksdb::DB> db, bool store_bodies, uint64_t next_sequence,
             std::string last_hash);

  const std::unique_ptr<rocksdb::DB> db_;
  const bool store_bodies_;

  mutable absl::Mutex mu_;
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_);
  std::string last_hash_ ABSL_GUARDED_BY(mu_);
  // Serialized entries waiting for the next group commit.
  struct PendingEntry {
    uint64_t sequence;
    std::string entry;
    std::string access_record;  // empty: none
  };
  std::vector<PendingEntry> pending_ ABSL_GUARDED_BY(mu_);
  bool writer_active_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t durable_through_ ABSL_GUARDED_BY(mu_) = 0;  // entries below this are on disk
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_MESSAGE_LOG_H_
