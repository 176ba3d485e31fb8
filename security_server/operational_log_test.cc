#include "security_server/operational_log.h"

#include <cstdlib>

#include "gtest/gtest.h"
#include "common/envelope.h"

namespace renkei {
namespace {

v1::OperationalRecord At(absl::Time time, const std::string& id) {
  v1::OperationalRecord record;
  record.set_message_id(id);
  *record.mutable_received_at() = ToTimestamp(time);
  return record;
}

TEST(OperationalLog, QueriesByTimeRangeAndForgetsAfterRetention) {
  std::string directory = std::string(getenv("TEST_TMPDIR")) + "/operational";
  rocksdb::DestroyDB(directory, rocksdb::Options());
  auto message_log = MessageLog::Open(directory, false);
  ASSERT_TRUE(message_log.ok()) << message_log.status();
  OperationalLog log(**message_log, absl::Hours(24));
  const absl::Time t0 = absl::FromUnixSeconds(1795000000);
  for (int i = 0; i < 10; ++i) log.Record(At(t0 + absl::Hours(i), std::to_string(i)));
  log.Record(At(t0 + absl::Hours(3), "3b"));  // same instant as "3"
  ASSERT_TRUE((*message_log)->WriteAndWait(rocksdb::WriteBatch()).ok());  // records are queued, not waited for

  auto window = log.Query(t0 + absl::Hours(3), t0 + absl::Hours(5), 100);
  ASSERT_TRUE(window.ok());
  ASSERT_EQ(window->records_size(), 4);
  EXPECT_EQ(window->records(0).message_id(), "3");
  EXPECT_EQ(window->records(1).message_id(), "3b");
  EXPECT_EQ(window->records(3).message_id(), "5");
  EXPECT_FALSE(window->truncated());

  auto limited = log.Query(t0, t0 + absl::Hours(100), 2);
  ASSERT_EQ(limited->records_size(), 2);
  EXPECT_TRUE(limited->truncated());

  ASSERT_TRUE(log.DeleteExpired(t0 + absl::Hours(24 + 5)).ok());
  ASSERT_TRUE((*message_log)->WriteAndWait(rocksdb::WriteBatch()).ok());
  auto remaining = log.Query(t0, t0 + absl::Hours(100), 100);
  // Kept: everything received at or after now - retention (hours 5..9).
  ASSERT_EQ(remaining->records_size(), 5);
  EXPECT_EQ(remaining->records(0).message_id(), "5");
}

}  // namespace
}  // namespace renkei
