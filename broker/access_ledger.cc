#include "broker/access_ledger.h"

#include <map>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "audit/tree_head.h"
#include "common/envelope.h"
#include "common/identifiers.h"
#include "common/storage_helpers.h"
#include "rocksdb/write_batch.h"

namespace renkei {
namespace {

// Key prefixes beside the Merkle log's own ('E', 'N', 'S').
constexpr char kRecordKeyPrefix = 'K';  // recorded_by 0x00 message id → leaf index
constexpr char kSubjectPrefix = 'P';  // pseudonym(32) time_ms(8) index(8) → ""
constexpr char kHeadKey[] = "Hlatest";
constexpr char kResidentPrefix = 'R'; // pseudonym → public key PEM

std::string SubjectKey(const std::string& pseudonym, int64_t time_ms, uint64_t index) {
  std::string key = NumberedKey(std::string(1, kSubjectPrefix) + pseudonym,
                                static_cast<uint64_t>(time_ms));
  AppendBigEndian64(key, index);
  return key;
}

constexpr size_t kPseudonymBytes = 32;
constexpr size_t kSubjectKeySize = 1 + kPseudonymBytes + 8 + 8;
const absl::Time kEarliestRecordTime = absl::FromUnixSeconds(1577836800);  // 2020-01-01

std::string RecordKey(const v1::AccessRecord& record) {
  return absl::StrCat(std::string(1, kRecordKeyPrefix), record.recorded_by(),
                      std::string(1, '\0'), record.message_id());
}

int64_t TimeMs(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000 + t.nanos() / 1000000;
}

absl::Status FromRocks(const rocksdb::Status& status) {
  return FromRocksStatus(status, "ledger store");
}

}  // namespace

AccessLedger::AccessLedger(std::unique_ptr<audit::MerkleLog> log, PrivateKey key,
                           absl::Duration interval, const Clock& clock)
    : log_(std::move(log)), tree_head_key_(std::move(key)), tree_head_interval_(interval),
      clock_(clock) {}

absl::StatusOr<std::unique_ptr<AccessLedger>> AccessLedger::Open(const std::string& directory,
                                                                 PrivateKey tree_head_key,
                                                                 absl::Duration interval,
                                                                 const Clock& clock) {
  auto log = audit::MerkleLog::Open(directory);
  if (!log.ok()) return log.status();
  std::unique_ptr<AccessLedger> ledger(
      new AccessLedger(*std::move(log), std::move(tree_head_key), interval, clock));
  std::string head;
  rocksdb::Status got = ledger->log_->db()->Get(rocksdb::ReadOptions(), kHeadKey, &head);
  if (got.ok()) {
    absl::MutexLock lock(&ledger->head_mu_);
    ledger->has_head_ = ledger->head_.ParseFromString(head);
  }
  return ledger;
}

absl::Status ValidateAccessRecord(const std::string& entry, absl::Time latest,
                                  v1::AccessRecord* record) {
  if (!record->ParseFromString(entry) || record->SerializeAsString() != entry) {
    return absl::InvalidArgumentError(
        "record is not the canonical serialization of an AccessRecord");
  }
  if (!IsMessageId(record->message_id())) {
    return absl::InvalidArgumentError("record's message id is not 32 lowercase hex digits");
  }
  if (record->recorded_by().empty()) {
    return absl::InvalidArgumentError("record names no recording security server");
  }
  if (record->subject_pseudonyms_size() < 1 || record->subject_pseudonyms_size() > kMaxSubjects) {
    return absl::InvalidArgumentError(absl::StrCat("record has ", record->subject_pseudonyms_size(),
                                                   " subjects; 1 to ", kMaxSubjects, " allowed"));
  }
  for (const std::string& pseudonym : record->subject_pseudonyms()) {
    if (pseudonym.size() != kPseudonymBytes) {
      return absl::InvalidArgumentError(absl::StrCat("record has a subject pseudonym of ",
                                                     pseudonym.size(), " bytes, not 32"));
    }
  }
  const absl::Time time = absl::FromUnixSeconds(record->time().seconds());
  if (record->time().nanos() < 0 || record->time().nanos() > 999999999 ||
      time < kEarliestRecordTime || time > latest) {
    return absl::InvalidArgumentError("record time is out of range");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<uint64_t>> AccessLedger::Find(const v1::AccessRecord& record,
                                                           const std::string& entry) const {
  std::string index_bytes;
  rocksdb::Status got = log_->db()->Get(rocksdb::ReadOptions(), RecordKey(record), &index_bytes);
  if (got.IsNotFound()) return std::optional<uint64_t>();
  if (!got.ok()) return FromRocks(got);
  if (index_bytes.size() != 8) return absl::DataLossError("unreadable ledger record index");
  const uint64_t index = ReadBigEndian64(index_bytes);
  auto stored = log_->Entry(index);
  if (!stored.ok()) return stored.status();
  if (*stored != entry) return std::optional<uint64_t>();
  return std::optional<uint64_t>(index);
}

absl::StatusOr<std::vector<AccessLedger::Outcome>> AccessLedger::Append(
    const std::vector<std::string>& entries) {
  absl::MutexLock lock(&append_mu_);
  // A record may be stamped up to the federation's clock skew (at most an hour) ahead.
  const absl::Time latest = clock_.Now() + absl::Hours(1);
  std::vector<Outcome> outcomes(entries.size());
  std::vector<v1::AccessRecord> records(entries.size());
  std::vector<size_t> fresh;                      // positions to append, in order
  std::map<std::string, size_t> fresh_by_key;     // record key → position in `fresh`
  std::vector<std::pair<size_t, size_t>> repeats;  // (position, fresh position) in this batch
  const absl::Status conflict = absl::AlreadyExistsError(
      "a different record is already stored under this recording server and message id");
  for (size_t i = 0; i < entries.size(); ++i) {
    outcomes[i].status = ValidateAccessRecord(entries[i], latest, &records[i]);
    if (!outcomes[i].status.ok()) continue;
    const std::string key = RecordKey(records[i]);
    auto earlier = fresh_by_key.find(key);
    if (earlier != fresh_by_key.end()) {
      if (entries[fresh[earlier->second]] == entries[i]) {
        repeats.emplace_back(i, earlier->second);
      } else {
        outcomes[i].status = conflict;
      }
      continue;
    }
    std::string index_bytes;
    rocksdb::Status got = log_->db()->Get(rocksdb::ReadOptions(), key, &index_bytes);
    if (got.IsNotFound()) {
      fresh_by_key[key] = fresh.size();
      fresh.push_back(i);
      continue;
    }
    if (!got.ok()) return FromRocks(got);
    if (index_bytes.size() != 8) return absl::DataLossError("unreadable ledger record index");
    const uint64_t index = ReadBigEndian64(index_bytes);
    auto stored = log_->Entry(index);
    if (!stored.ok()) return stored.status();
    if (*stored == entries[i]) {
      outcomes[i].leaf_index = index;  // a retry after a lost receipt
    } else {
      outcomes[i].status = conflict;
    }
  }
  if (fresh.empty()) return outcomes;
  std::vector<std::string> appended;
  for (size_t position : fresh) appended.push_back(entries[position]);
  auto first = log_->Append(appended, [&](uint64_t first_index, rocksdb::WriteBatch& batch) {
    for (size_t k = 0; k < fresh.size(); ++k) {
      const v1::AccessRecord& record = records[fresh[k]];
      const uint64_t index = first_index + k;
      batch.Put(RecordKey(record), NumberedKey("", index));
      for (const std::string& pseudonym : record.subject_pseudonyms()) {
        batch.Put(SubjectKey(pseudonym, TimeMs(record.time()), index), "");
      }
    }
  });
  if (!first.ok()) return first.status();
  for (size_t k = 0; k < fresh.size(); ++k) outcomes[fresh[k]].leaf_index = *first + k;
  for (const auto& [position, fresh_position] : repeats) {
    outcomes[position].leaf_index = *first + fresh_position;
  }
  return outcomes;
}

absl::StatusOr<v1::SignedTreeHead> AccessLedger::CurrentTreeHead() {
  absl::MutexLock lock(&head_mu_);
  const uint64_t size = log_->size();
  const absl::Time now = clock_.Now();
  bool stale = !has_head_ ||
               (head_.tree_size() != size &&
                now - absl::FromUnixMillis(head_.timestamp_ms()) >= tree_head_interval_);
  if (stale) {
    auto root = log_->Root(size);
    if (!root.ok()) return root.status();
    auto head = audit::SignTreeHead(size, absl::ToUnixMillis(now), *root, tree_head_key_);
    if (!head.ok()) return head.status();
    rocksdb::WriteOptions options;
    options.sync = true;
    absl::Status stored =
        FromRocks(log_->db()->Put(options, kHeadKey, head->SerializeAsString()));
    if (!stored.ok()) return stored;
    head_ = *std::move(head);
    has_head_ = true;
  }
  return head_;
}

absl::StatusOr<v1::ListRecordsResponse> AccessLedger::List(const RecordQuery& query) {
  auto head = CurrentTreeHead();
  if (!head.ok()) return head.status();
  v1::ListRecordsResponse response;
  *response.mutable_tree_head() = *head;
  const int page_size = query.page_size <= 0 ? 20 : std::min(query.page_size, 100);
  const std::string prefix = std::string(1, kSubjectPrefix) + query.subject_pseudonym;

  std::string last_suffix;
  std::unique_ptr<rocksdb::Iterator> it(log_->db()->NewIterator(rocksdb::ReadOptions()));
  if (query.page_token.empty()) {
    std::string upper = prefix;
    upper.append(16, '\xff');
    it->SeekForPrev(upper);
  } else {
    // A page token is the 16-byte key suffix of the last record shown, in hex.
    if (query.page_token.size() != 32 || !absl::c_all_of(query.page_token, [](char c) {
          return absl::ascii_isxdigit(static_cast<unsigned char>(c));
        })) {
      return absl::InvalidArgumentError("page token is malformed");
    }
    std::string after = prefix + absl::HexStringToBytes(query.page_token);
    it->SeekForPrev(after);
    if (it->Valid() && it->key() == after) it->Prev();
  }
  for (; it->Valid() && it->key().starts_with(rocksdb::Slice(prefix)); it->Prev()) {
    absl::string_view key(it->key().data(), it->key().size());
    // Only keys of exactly this layout belong to the resident (pseudonyms are 32 bytes).
    if (key.size() != kSubjectKeySize || prefix.size() != 1 + kPseudonymBytes) continue;
    absl::string_view suffix = key.substr(prefix.size());
    const absl::Time time = absl::FromUnixMillis(static_cast<int64_t>(ReadBigEndian64(suffix)));
    const uint64_t index = ReadBigEndian64(suffix.substr(8));
    if (time > query.to) continue;
    if (time < query.from) break;  // newest first: everything further is older
    if (index >= head->tree_size()) {
      response.set_pending(response.pending() + 1);
      continue;
    }
    auto entry = log_->Entry(index);
    if (!entry.ok()) return entry.status();
    v1::AccessRecord record;
    if (!record.ParseFromString(*entry)) return absl::DataLossError("unreadable ledger entry");
    if (!query.client_member.empty()) {
      auto client = ParseSubsystemId(record.client());
      if (!client.ok() || ToString(client->member()) != query.client_member) continue;
    }
    if (response.records_size() == page_size) {
      // There is more: the next page starts after the last record returned.
      response.set_next_page_token(absl::BytesToHexString(last_suffix));
      break;
    }
    auto proof = log_->InclusionProof(index, head->tree_size());
    if (!proof.ok()) return proof.status();
    v1::ProvenRecord* proven = response.add_records();
    *proven->mutable_record() = std::move(record);
    proven->set_entry(*std::move(entry));
    proven->set_leaf_index(index);
    for (std::string& hash : *proof) proven->add_inclusion_proof(std::move(hash));
    last_suffix = std::string(suffix);
  }
  return response;
}

absl::Duration AccessLedger::TreeHeadLag() {
  absl::MutexLock lock(&head_mu_);
  if (has_head_ && head_.tree_size() == log_->size()) return absl::ZeroDuration();
  if (!has_head_) return log_->size() == 0 ? absl::ZeroDuration() : absl::InfiniteDuration();
  return clock_.Now() - absl::FromUnixMillis(head_.timestamp_ms());
}

absl::Status AccessLedger::CheckWritable() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocks(log_->db()->Put(options, "Zhealth", absl::FormatTime(clock_.Now())));
}

absl::StatusOr<std::vector<std::string>> AccessLedger::ConsistencyProof(uint64_t from,
                                                                        uint64_t to) const {
  return log_->ConsistencyProof(from, to);
}

absl::Status AccessLedger::Enroll(const std::string& subject_pseudonym, const PublicKey& key) {
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocks(log_->db()->Put(options, std::string(1, kResidentPrefix) + subject_pseudonym,
                                   key.Pem()));
}

absl::StatusOr<PublicKey> AccessLedger::EnrolledKey(const std::string& subject_pseudonym) const {
  std::string pem;
  rocksdb::Status got = log_->db()->Get(rocksdb::ReadOptions(),
                                        std::string(1, kResidentPrefix) + subject_pseudonym, &pem);
  if (got.IsNotFound()) return absl::NotFoundError("resident is not enrolled");
  absl::Status status = FromRocks(got);
  if (!status.ok()) return status;
  return PublicKey::FromPem(pem);
}

}  // namespace renkei
