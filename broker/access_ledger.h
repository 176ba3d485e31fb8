// AccessLedger: the broker's access-history ledger. Access records are entries of an
// RFC 6962 Merkle log (audit/merkle_log.h); beside them, in the same atomic write, an index by
// (recording server, message id) and an index by subject pseudonym and time (what a resident
// lists). Appends are idempotent: the same bytes under an existing key are the record already
// there; different bytes under an existing key are refused (ALREADY_EXISTS), never stored and
// never acknowledged. The ledger validates what it indexes (ValidateAccessRecord). Tree heads are
// signed on demand, at most once per `tree_head_interval`, and kept. Enrolled residents'
// public keys live here too, keyed by pseudonym.
//
// Thread-safe.
#ifndef RENKEI_BROKER_ACCESS_LEDGER_H_
#define RENKEI_BROKER_ACCESS_LEDGER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "audit/merkle_log.h"
#include "common/certificates.h"
#include "common/clock.h"
#include "renkei/v1/ledger.pb.h"

namespace renkei {

// OK when `entry` is a record the ledger may index: the canonical serialization of an
// AccessRecord with a 32-lowercase-hex message id, a recording server, 1 to 100 subject
// pseudonyms of exactly 32 bytes and a time between 2020 and `latest`. INVALID_ARGUMENT
// naming the problem otherwise. `record` receives the parsed record.
absl::Status ValidateAccessRecord(const std::string& entry, absl::Time latest,
                                  v1::AccessRecord* record);

struct RecordQuery {
  std::string subject_pseudonym;
  std::string client_member;  // empty: every agency
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  int page_size = 20;
  std::string page_token;
};

class AccessLedger {
 public:
  static absl::StatusOr<std::unique_ptr<AccessLedger>> Open(const std::string& directory,
                                                            PrivateKey tree_head_key,
                                                            absl::Duration tree_head_interval,
                                                            const Clock& clock);

  // The outcome of one record of an append.
  struct Outcome {
    // OK: the record's exact bytes are entry `leaf_index`, durably (appended now or before).
    // INVALID_ARGUMENT: not a valid access record. ALREADY_EXISTS: another record is stored
    // under its (recording server, message id).
    absl::Status status;
    uint64_t leaf_index = 0;
  };
  // Appends the serialized AccessRecords `entries` that are valid and not already present, in
  // one atomic durable write. One outcome per entry, in order. An error only when the store
  // fails (then nothing was appended).
  absl::StatusOr<std::vector<Outcome>> Append(const std::vector<std::string>& entries);

  // The leaf index of `entry` when exactly these bytes are stored under its key; nullopt when
  // nothing, or something else, is.
  absl::StatusOr<std::optional<uint64_t>> Find(const v1::AccessRecord& record,
                                              const std::string& entry) const;

  uint64_t size() const { return log_->size(); }

  // The newest signed tree head, signing a new one first when the log has grown and the
  // newest is older than the interval (or none exists).
  absl::StatusOr<v1::SignedTreeHead> CurrentTreeHead();

  // A page of the subject's records, newest first, each with its inclusion proof against the
  // returned tree head. Records after that head are counted as pending.
  absl::StatusOr<v1::ListRecordsResponse> List(const RecordQuery& query);

  absl::StatusOr<std::vector<std::string>> ConsistencyProof(uint64_t from, uint64_t to) const;

  // How long records have been waiting for a tree head: 0 when the newest head covers the
  // whole log, else the newest head's age.
  absl::Duration TreeHeadLag();
  // A synced write of a health key: OK when the ledger store can be written.
  absl::Status CheckWritable();

  absl::Status Enroll(const std::string& subject_pseudonym, const PublicKey& key);
  // NOT_FOUND when not enrolled.
  absl::StatusOr<PublicKey> EnrolledKey(const std::string& subject_pseudonym) const;

 private:
  AccessLedger(std::unique_ptr<audit::MerkleLog> log, PrivateKey key, absl::Duration interval,
               const Clock& clock);

  const std::unique_ptr<audit::MerkleLog> log_;
  const PrivateKey tree_head_key_;
  const absl::Duration tree_head_interval_;
  const Clock& clock_;
  absl::Mutex append_mu_;  // the id check and the append form one step
  absl::Mutex head_mu_;
  v1::SignedTreeHead head_ ABSL_GUARDED_BY(head_mu_);
  bool has_head_ ABSL_GUARDED_BY(head_mu_) = false;
};

}  // namespace renkei

#endif  // RENKEI_BROKER_ACCESS_LEDGER_H_
