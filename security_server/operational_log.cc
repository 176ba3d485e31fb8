#include "security_server/operational_log.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/storage_helpers.h"

namespace renkei {
namespace {

constexpr char kPrefix[] = "q";

uint64_t TimeKey(absl::Time time) {
  return static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixNanos(time)));
}

absl::Time ReceivedAt(const v1::OperationalRecord& record) {
  return absl::FromUnixSeconds(record.received_at().seconds()) +
         absl::Nanoseconds(record.received_at().nanos());
}

}  // namespace

OperationalLog::OperationalLog(MessageLog& message_log, absl::Duration retention)
    : message_log_(message_log), retention_(retention) {}

void OperationalLog::Record(const v1::OperationalRecord& record) {
  std::string key = NumberedKey(kPrefix, TimeKey(ReceivedAt(record)));
  AppendBigEndian64(key, sequence_.fetch_add(1));
  rocksdb::WriteBatch batch;
  batch.Put(key, record.SerializeAsString());
  absl::Status status = message_log_.WriteUnsynced(std::move(batch));
  if (status.ok()) return;
  // Dropped under overload or a failed disk: counted, and said at most once a minute, so
  // that the overload does not also become a log flood.
  dropped_.fetch_add(1, std::memory_order_relaxed);
  drop_warnings_.Log(LogLevel::kWarning, "operational", [&] {
    return absl::StrCat("operational records dropped (", dropped(), " so far): ",
                        status.ToString());
  });
}

absl::StatusOr<v1::OperationalDataResponse> OperationalLog::Query(absl::Time from, absl::Time to,
                                                                  int limit) const {
  limit = limit <= 0 ? 1000 : std::min(limit, 10000);
  v1::OperationalDataResponse response;
  const std::string end = NumberedKey(kPrefix, TimeKey(to));
  std::shared_ptr<rocksdb::DB> db = message_log_.database();
  if (db == nullptr) return absl::UnavailableError("message log is being reopened");
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(NumberedKey(kPrefix, TimeKey(from))); it->Valid(); it->Next()) {
    absl::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, 1) != kPrefix || key.substr(0, 9) > end) break;
    if (response.records_size() == limit) {
      response.set_truncated(true);
      break;
    }
    if (!response.add_records()->ParseFromArray(it->value().data(),
                                                static_cast<int>(it->value().size()))) {
      return absl::DataLossError("operational record is unreadable");
    }
  }
  return response;
}

absl::Status OperationalLog::DeleteExpired(absl::Time now) {
  rocksdb::WriteBatch batch;
  batch.DeleteRange(NumberedKey(kPrefix, 0), NumberedKey(kPrefix, TimeKey(now - retention_)));
  return message_log_.WriteUnsynced(std::move(batch));
}

}  // namespace renkei
