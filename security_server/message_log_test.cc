#include "security_server/message_log.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "absl/synchronization/notification.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "tests/small_filesystem.h"

namespace renkei {
namespace {

std::string FreshDirectory(const std::string& name) {
  std::string directory = absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
  rocksdb::DestroyDB(directory, rocksdb::Options());
  return directory;
}

absl::Status Append(MessageLog& log, const std::string& id) {
  v1::SignedHeader request, response;
  request.set_header("request " + id);
  response.set_header("response " + id);
  ExchangeEvidence evidence;
  evidence.role = v1::MessageLogEntry::PROVIDER;
  evidence.message_id = id;
  evidence.request = &request;
  evidence.response = &response;
  evidence.request_payload = "body";
  return RecordAndWait(log, evidence);
}

TEST(MessageLog, AppendsChainedEntriesAndResumesAfterReopen) {
  std::string directory = FreshDirectory("chain");
  {
    auto log = MessageLog::Open(directory, false);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE(Append(**log, "m0").ok());
    ASSERT_TRUE(Append(**log, "m1").ok());
  }
  auto log = MessageLog::Open(directory, false);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->size(), 2u);
  ASSERT_TRUE(Append(**log, "m2").ok());
  EXPECT_TRUE((*log)->VerifyChain().ok()) << (*log)->VerifyChain();
  auto entries = (*log)->Read(0, 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[2].message_id(), "m2");
  EXPECT_EQ((*entries)[2].sequence(), 2u);
  EXPECT_EQ((*entries)[0].request().header(), "request m0");
  EXPECT_TRUE((*entries)[0].request_payload().empty()) << "bodies are off by setting";
}

TEST(MessageLog, StoresBodiesWhenConfigured) {
  auto log = MessageLog::Open(FreshDirectory("bodies"), true);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(Append(**log, "m0").ok());
  auto entries = (*log)->Read(0, 1);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0].request_payload(), "body");
}

TEST(MessageLog, DetectsATamperedEntry) {
  std::string directory = FreshDirectory("tamper");
  {
    auto log = MessageLog::Open(directory, false);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(Append(**log, absl::StrCat("m", i)).ok());
  }
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), directory, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string key("e\0\0\0\0\0\0\0\1", 9);
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &value).ok());
    v1::MessageLogEntry entry;
    ASSERT_TRUE(entry.ParseFromString(value));
    entry.set_message_id("forged");
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, entry.SerializeAsString()).ok());
  }
  auto log = MessageLog::Open(directory, false);
  ASSERT_TRUE(log.ok());
  absl::Status status = (*log)->VerifyChain();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(status.message()).find("entry 2"), std::string::npos) << status;
}

TEST(MessageLog, OutboxHoldsAccessRecordsUntilDeleted) {
  std::string directory = FreshDirectory("outbox");
  {
    auto log = MessageLog::Open(directory, false);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 3; ++i) {
      v1::SignedHeader request, response;
      v1::AccessRecord record;
      record.set_message_id(absl::StrCat("m", i));
      ExchangeEvidence evidence;
      evidence.role = v1::MessageLogEntry::PROVIDER;
      evidence.message_id = record.message_id();
      evidence.request = &request;
      evidence.response = &response;
      evidence.access_record = &record;
      ASSERT_TRUE(RecordAndWait(**log, evidence).ok());
    }
    ASSERT_TRUE(Append(**log, "no-record").ok());  // consumer-side entries have none
  }
  auto log = MessageLog::Open(directory, false);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->OutboxSize(), 3u);
  auto items = (*log)->ReadOutbox(2);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  auto id_of = [](const MessageLog::OutboxItem& item) {
    v1::AccessRecord record;
    record.ParseFromString(item.bytes);
    return record.message_id();
  };
  EXPECT_EQ(id_of((*items)[0]), "m0");
  EXPECT_EQ(id_of((*items)[1]), "m1");
  // m0 gets its receipt (kept), m1 goes to the quarantine (kept): neither is in the outbox.
  MessageLog::Settlement receipt{(*items)[0].key, "m0", "signed receipt bytes", {}};
  MessageLog::Settlement quarantine{(*items)[1].key, "m1", "", {}};
  quarantine.quarantined.set_record((*items)[1].bytes);
  quarantine.quarantined.set_reason("refused");
  ASSERT_TRUE((*log)->Settle({receipt, quarantine}).ok());
  items = (*log)->ReadOutbox(10);
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ(id_of((*items)[0]), "m2");
  EXPECT_EQ((*log)->QuarantineSize(), 1u);
  auto quarantined = (*log)->ReadQuarantine(10);
  ASSERT_TRUE(quarantined.ok());
  ASSERT_EQ(quarantined->size(), 1u);
  EXPECT_EQ((*quarantined)[0].reason(), "refused");
  EXPECT_EQ((*log)->Receipt("m1").status().code(), absl::StatusCode::kNotFound);
  // A refusal that depended on the configuration gets another try; others stay.
  EXPECT_EQ(*(*log)->Requeue({absl::StatusCode::kPermissionDenied}), 0u);
  EXPECT_EQ(*(*log)->Requeue({absl::StatusCode::kOk}), 1u);  // the one quarantined above
  EXPECT_EQ((*log)->QuarantineSize(), 0u);
  items = (*log)->ReadOutbox(10);
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ(id_of((*items)[0]), "m1");
  EXPECT_TRUE((*log)->VerifyChain().ok());
  EXPECT_EQ((*log)->size(), 4u);
}

// Issue 8, item 2: a provider remembers every id it answered, not only within the replay
// window, across restarts.
TEST(MessageLog, RemembersAnsweredRequestIdsDurably) {
  std::string directory = FreshDirectory("answered");
  {
    auto log = MessageLog::Open(directory, false);
    ASSERT_TRUE(log.ok());
    v1::SignedHeader request, response;
    ExchangeEvidence evidence;
    evidence.role = v1::MessageLogEntry::PROVIDER;
    evidence.message_id = "answered-id";
    evidence.request = &request;
    evidence.response = &response;
    ASSERT_TRUE(RecordAndWait(**log, evidence).ok());
    evidence.role = v1::MessageLogEntry::CONSUMER;
    evidence.message_id = "sent-id";
    ASSERT_TRUE(RecordAndWait(**log, evidence).ok());
  }
  auto log = MessageLog::Open(directory, false);
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE(*(*log)->HasRecordedRequest("answered-id"));
  EXPECT_FALSE(*(*log)->HasRecordedRequest("sent-id"));
  EXPECT_FALSE(*(*log)->HasRecordedRequest("never-seen"));
}

TEST(MessageLog, ConcurrentAppendsAreAllDurableAndChained) {
  std::string directory = FreshDirectory("concurrent");
  constexpr int kThreads = 8, kPerThread = 50;
  {
    auto log = MessageLog::Open(directory, false);
    ASSERT_TRUE(log.ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          EXPECT_TRUE(Append(**log, absl::StrCat(t, "-", i)).ok());
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  auto log = MessageLog::Open(directory, false);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->size(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_TRUE((*log)->VerifyChain().ok()) << (*log)->VerifyChain();
}

// What `logged` has that `expected` lacks, and the reverse, for failure messages.
std::string Difference(const std::vector<std::string>& logged,
                       const std::vector<std::string>& expected) {
  std::string out;
  for (const auto& id : logged) {
    if (std::find(expected.begin(), expected.end(), id) == expected.end()) out += " +" + id;
  }
  for (const auto& id : expected) {
    if (std::find(logged.begin(), logged.end(), id) == logged.end()) out += " -" + id;
  }
  return out;
}

// The ids of every entry in the log, in order.
std::vector<std::string> LoggedIds(const MessageLog& log) {
  std::vector<std::string> ids;
  auto entries = log.Read(0, SIZE_MAX);
  EXPECT_TRUE(entries.ok()) << entries.status();
  if (entries.ok()) {
    for (const auto& entry : *entries) ids.push_back(entry.message_id());
  }
  return ids;
}

TEST(MessageLog, ADiskThatRunsFullFailsClosedAndTheLogRecoversWhenSpaceReturns) {
  RENKEI_MOUNT_SMALL_FILESYSTEM_OR_SKIP(disk, absl::StrCat(getenv("TEST_TMPDIR"), "/full"));
  const std::string directory = disk->path() + "/log";
  std::vector<std::string> durable;
  {
    auto log = MessageLog::Open(directory, false);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < 3; ++i) {
      durable.push_back(absl::StrCat("before-", i));
      ASSERT_TRUE(Append(**log, durable.back()).ok());
    }
    ASSERT_TRUE(disk->Fill().ok());
    // The last page of the write-ahead log may still take an entry or two.
    absl::Status failed;
    for (int i = 0; i < 1000 && failed.ok(); ++i) {
      std::string id = absl::StrCat("full-", i);
      failed = Append(**log, id);
      if (failed.ok()) durable.push_back(id);
    }
    ASSERT_FALSE(failed.ok()) << "the disk never ran full";
    EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
    EXPECT_NE(failed.message().find("No space"), std::string::npos) << failed;
    EXPECT_EQ((*log)->health(), failed);
    EXPECT_EQ(Append(**log, "refused").code(), failed.code()) << "fails closed until recovered";

    ASSERT_TRUE(disk->Free().ok());
    absl::Status recovered = (*log)->Recover();
    ASSERT_TRUE(recovered.ok()) << recovered;
    EXPECT_TRUE((*log)->health().ok());
    for (int i = 0; i < 5; ++i) {
      durable.push_back(absl::StrCat("after-", i));
      ASSERT_TRUE(Append(**log, durable.back()).ok());
    }
    EXPECT_EQ(LoggedIds(**log), durable)
        << "exactly what was acknowledged, nothing refused:" << Difference(LoggedIds(**log), durable);
    EXPECT_TRUE((*log)->VerifyChain().ok()) << (*log)->VerifyChain();
  }
  // After a restart too: no write that failed comes back from the write-ahead log.
  auto log = MessageLog::Open(directory, false);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(LoggedIds(**log), durable) << Difference(LoggedIds(**log), durable);
  EXPECT_TRUE((*log)->VerifyChain().ok()) << (*log)->VerifyChain();
}

TEST(MessageLog, ConcurrentAppendsWhenTheDiskRunsFullEachGetOneAnswerAndTheChainHolds) {
  RENKEI_MOUNT_SMALL_FILESYSTEM_OR_SKIP(disk, absl::StrCat(getenv("TEST_TMPDIR"), "/full_concurrent"));
  const std::string directory = disk->path() + "/log";
  auto log = MessageLog::Open(directory, false);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE(Append(**log, "first").ok());
  ASSERT_TRUE(disk->Fill().ok());
  constexpr int kThreads = 6, kPerThread = 40;
  absl::Mutex mu;
  std::set<std::string> acknowledged = {"first"};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = absl::StrCat(t, "-", i);
        if (i == kPerThread / 2 && t == 0) ASSERT_TRUE(disk->Free().ok());
        if (i > kPerThread / 2) (*log)->Recover().IgnoreError();
        rocksdb::WriteBatch operational;  // as the operational log writes, between appends
        operational.Put(absl::StrCat("q", id), "record");
        (*log)->WriteUnsynced(std::move(operational)).IgnoreError();
        if (Append(**log, id).ok()) {
          absl::MutexLock lock(&mu);
          acknowledged.insert(id);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE((*log)->Recover().ok());
  ASSERT_TRUE(Append(**log, "last").ok());
  acknowledged.insert("last");
  std::vector<std::string> logged = LoggedIds(**log);
  EXPECT_EQ(std::set<std::string>(logged.begin(), logged.end()), acknowledged);
  EXPECT_EQ(logged.size(), acknowledged.size());
  EXPECT_TRUE((*log)->VerifyChain().ok()) << (*log)->VerifyChain();
}

TEST(MessageLog, AReadOnlyDiskIsRefusedAtOpenWithItsReason) {
  RENKEI_MOUNT_SMALL_FILESYSTEM_OR_SKIP(disk, absl::StrCat(getenv("TEST_TMPDIR"), "/read_only"));
  const std::string directory = disk->path() + "/log";
  {
    auto log = MessageLog::Open(directory, false);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE(Append(**log, "m0").ok());
  }
  ASSERT_TRUE(disk->SetReadOnly(true).ok());
  auto refused = MessageLog::Open(directory, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("Read-only file system"), std::string::npos)
      << refused.status();
  ASSERT_TRUE(disk->SetReadOnly(false).ok());
  auto log = MessageLog::Open(directory, false);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(LoggedIds(**log), std::vector<std::string>{"m0"});
  ASSERT_TRUE(Append(**log, "m1").ok());
}

// A disk whose syncs wait until the test opens it: a slow disk, stopped at will.
class HeldDisk : public rocksdb::FileSystemWrapper {
 public:
  HeldDisk() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "HeldDisk"; }
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  // True once a sync waits on the held disk.
  bool WaitForHeldSync() {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&waiting_), absl::Seconds(30));
  }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override {
    std::unique_ptr<rocksdb::FSWritableFile> inner;
    rocksdb::IOStatus status = target()->NewWritableFile(name, options, &inner, debug);
    if (status.ok()) file->reset(new HeldFile(std::move(inner), *this));
    return status;
  }

 private:
  class HeldFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    HeldFile(std::unique_ptr<rocksdb::FSWritableFile> file, HeldDisk& disk)
        : FSWritableFileOwnerWrapper(std::move(file)), disk_(disk) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* debug) override {
      disk_.WaitWhileHeld();
      return FSWritableFileOwnerWrapper::Sync(options, debug);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* debug) override {
      disk_.WaitWhileHeld();
      return FSWritableFileOwnerWrapper::Fsync(options, debug);
    }

   private:
    HeldDisk& disk_;
  };
  void WaitWhileHeld() {
    absl::MutexLock lock(&mu_);
    waiting_ = held_;
    auto released = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !held_; };
    mu_.Await(absl::Condition(&released));
    waiting_ = false;
  }
  absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
};

// A message log on a HeldDisk, and the outcomes of the records it completed, in order.
class HeldDiskLog : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = MessageLog::Open(FreshDirectory(
        ::testing::UnitTest::GetInstance()->current_test_info()->name()), false, env_.get());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }
  // Whatever failed, the disk is released before the log's destructor waits on it, and the
  // log goes before the outcomes its completions write to.
  void TearDown() override {
    disk_->Release();
    log_.reset();
  }
  void Append(const std::string& id, v1::MessageLogEntry::Role role, size_t retained = 0) {
    v1::SignedHeader request, response;
    ExchangeEvidence evidence;
    evidence.role = role;
    evidence.message_id = id;
    evidence.request = &request;
    evidence.response = &response;
    evidence.retained_bytes = retained;
    log_->Record(evidence, [this](absl::Status status) {
      absl::MutexLock lock(&mu_);
      outcomes_.push_back(std::move(status));
    });
  }
  size_t Completed() {
    absl::MutexLock lock(&mu_);
    return outcomes_.size();
  }
  void AwaitCompleted(size_t count) {
    for (int i = 0; i < 3000 && Completed() < count; ++i) absl::SleepFor(absl::Milliseconds(10));
  }
  absl::Status Outcome(size_t i) {
    absl::MutexLock lock(&mu_);
    return outcomes_.at(i);
  }

  std::shared_ptr<HeldDisk> disk_ = std::make_shared<HeldDisk>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(disk_);
  std::unique_ptr<MessageLog> log_;
  absl::Mutex mu_;
  std::vector<absl::Status> outcomes_ ABSL_GUARDED_BY(mu_);
};

TEST_F(HeldDiskLog, AppendsNeverWaitForTheDiskAndAFullQueueIsRefusedAtOnce) {
  disk_->Hold();
  Append("first", v1::MessageLogEntry::PROVIDER);  // the committer takes it, and waits
  ASSERT_TRUE(disk_->WaitForHeldSync()) << "the committer never synced";
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_GE(log_->WriteStalledFor(), absl::Milliseconds(20)) << "health checks see the stall";
  // This thread is not the committer: every Record returns while the disk is held.
  for (size_t i = 0; i < MessageLog::kQueueLimit; ++i) {
    Append(absl::StrCat("queued-", i), v1::MessageLogEntry::PROVIDER);
  }
  EXPECT_EQ(Completed(), 0u) << "nothing is acknowledged before it is durable";
  EXPECT_EQ(log_->Admit().code(), absl::StatusCode::kUnavailable)
      << "no new exchange is admitted past the high-water mark";
  Append("one-too-many", v1::MessageLogEntry::PROVIDER);
  ASSERT_EQ(Completed(), 1u) << "a full queue refuses at once";
  EXPECT_EQ(Outcome(0).code(), absl::StatusCode::kUnavailable) << Outcome(0);
  EXPECT_NE(Outcome(0).message().find("wait for the disk"), std::string::npos) << Outcome(0);

  disk_->Release();
  AwaitCompleted(MessageLog::kQueueLimit + 2);
  ASSERT_EQ(Completed(), MessageLog::kQueueLimit + 2);
  for (size_t i = 1; i < Completed(); ++i) ASSERT_TRUE(Outcome(i).ok()) << Outcome(i);
  EXPECT_TRUE(log_->Admit().ok());
  EXPECT_EQ(log_->WriteStalledFor(), absl::ZeroDuration());
  EXPECT_EQ(log_->size(), MessageLog::kQueueLimit + 1);
  EXPECT_TRUE(log_->VerifyChain().ok()) << log_->VerifyChain();
}

TEST_F(HeldDiskLog, AnswersHeldUntilTheirRecordIsWrittenCountAgainstTheQueuesMemory) {
  // Bodies are not stored: only the callers hold the answers, while their records wait.
  disk_->Hold();
  Append("being-written", v1::MessageLogEntry::CONSUMER, MessageLog::kQueueByteLimit / 4);
  ASSERT_TRUE(disk_->WaitForHeldSync());
  Append("queued", v1::MessageLogEntry::CONSUMER, MessageLog::kQueueByteLimit / 2);
  EXPECT_EQ(log_->Admit().code(), absl::StatusCode::kUnavailable)
      << "the batch being written still counts: its answers wait in memory";
  Append("too-much", v1::MessageLogEntry::CONSUMER, MessageLog::kQueueByteLimit / 2);
  ASSERT_EQ(Completed(), 1u) << "refused at once";
  EXPECT_EQ(Outcome(0).code(), absl::StatusCode::kUnavailable) << Outcome(0);

  disk_->Release();
  AwaitCompleted(3);
  ASSERT_EQ(Completed(), 3u);
  EXPECT_TRUE(Outcome(1).ok() && Outcome(2).ok()) << Outcome(1) << Outcome(2);
  // Counted free right after the completions ran (the last one may still be running).
  for (int i = 0; i < 3000 && !log_->Admit().ok(); ++i) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_TRUE(log_->Admit().ok()) << "the memory is counted free once the answers left";
}

}  // namespace
}  // namespace renkei
