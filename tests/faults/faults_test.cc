// Faults (issue 9): processes killed at random moments under load, the broker away for a
// long while under load, the provider's disk full and read-only, a clock beyond the allowed
// skew. After each, the invariants the
// ledger exists for: every answer a consumer received has exactly one record in the ledger,
// and no record exists without the provider's message-log entry.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/files.h"
#include "gtest/gtest.h"
#include "security_server/message_log.h"
#include "tests/live_federation.h"
#include "tests/small_filesystem.h"

namespace renkei::testing {
namespace {

LiveFederationOptions BrokerOptions() {
  LiveFederationOptions options;
  options.use_broker = true;
  options.configuration_refresh_seconds = 1;
  return options;
}

std::string Exchange(LiveFederation& federation, municipal::v1::ResidentRegistry::Stub& stub) {
  grpc::ClientContext context;
  LiveFederation::AddRenkeiMetadata(context, kAllowance, kRegistry, "131016-0001");
  municipal::v1::GetResidentRequest request;
  request.set_resident_code("131016-0001");
  municipal::v1::GetResidentResponse response;
  if (!stub.GetResident(&context, request, &response).ok()) return "";
  auto trailer = context.GetServerTrailingMetadata().find("renkei-message-id");
  return std::string(trailer->second.data(), trailer->second.size());
}

// Callers that keep exchanging until stopped, collecting the ids of the answers they got.
class Load {
 public:
  // `pause`: each caller's rest between exchanges (for long runs, a steady rate).
  Load(LiveFederation& federation, int callers, absl::Duration pause = absl::ZeroDuration()) {
    for (int i = 0; i < callers; ++i) {
      threads_.emplace_back([this, &federation, pause] {
        auto stub = federation.LocalRegistry(federation.allowance_client);
        while (!stop_) {
          std::string id = Exchange(federation, *stub);
          if (id.empty()) {
            absl::SleepFor(absl::Milliseconds(20));
            continue;
          }
          {
            absl::MutexLock lock(&mu_);
            received_.insert(id);
          }
          absl::SleepFor(pause);
        }
      });
    }
  }
  size_t Received() {
    absl::MutexLock lock(&mu_);
    return received_.size();
  }
  std::multiset<std::string> Stop() {
    stop_ = true;
    for (auto& thread : threads_) thread.join();
    absl::MutexLock lock(&mu_);
    return received_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  std::multiset<std::string> received_ ABSL_GUARDED_BY(mu_);
};

// Every record of the resident, once all are in a tree head and every id of `answered` is
// among them. (A count alone can be reached early: records of exchanges whose answer a
// crash kept from the consumer count too, while answered ones still wait in an outbox.)
absl::StatusOr<std::multiset<std::string>> LedgerIds(LiveFederation& federation,
                                                    const PrivateKey& key,
                                                    const std::set<std::string>& answered) {
  auto token = federation.SignIn("131016-0001", key);
  if (!token.ok()) return token.status();
  std::multiset<std::string> ids;
  bool complete = LiveFederation::Eventually([&] {
    ids.clear();
    auto residents = federation.Residents();
    v1::ListRecordsRequest request;
    request.set_session_token(*token);
    request.set_page_size(100);
    int pending = 0;
    do {
      grpc::ClientContext context;
      v1::ListRecordsResponse page;
      if (!residents->ListRecords(&context, request, &page).ok()) return false;
      for (const auto& proven : page.records()) ids.insert(proven.record().message_id());
      pending += page.pending();
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty());
    if (pending != 0) return false;
    for (const std::string& id : answered) {
      if (ids.count(id) == 0) return false;
    }
    return true;
  }, absl::Seconds(180));
  if (!complete) return absl::DeadlineExceededError("the ledger did not catch up");
  return ids;
}

// The ids the provider answered, from its message log (after it stopped).
std::set<std::string> ProviderLogIds(const std::string& directory) {
  std::set<std::string> ids;
  auto log = MessageLog::Open(directory, false);
  if (!log.ok()) return ids;
  auto entries = (*log)->Read(0, (*log)->size());
  if (!entries.ok()) return ids;
  for (const auto& entry : *entries) {
    if (entry.role() == v1::MessageLogEntry::PROVIDER) ids.insert(entry.message_id());
  }
  return ids;
}

void CheckInvariants(LiveFederation& federation, const PrivateKey& key,
                     const std::multiset<std::string>& received) {
  auto recorded =
      LedgerIds(federation, key, std::set<std::string>(received.begin(), received.end()));
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  for (const std::string& id : received) {
    EXPECT_EQ(received.count(id), 1u) << "answered twice: " << id;
    EXPECT_EQ(recorded->count(id), 1u) << "answer without exactly one record: " << id;
  }
  federation.provider_ss->Signal(SIGTERM);
  federation.provider_ss->Wait(20);
  const std::set<std::string> logged = ProviderLogIds(federation.provider_log_dir);
  for (const std::string& id : *recorded) {
    EXPECT_EQ(recorded->count(id), 1u) << "recorded twice: " << id;
    EXPECT_EQ(logged.count(id), 1u) << "a record without its message-log entry: " << id;
  }
  std::cout << received.size() << " answers, " << recorded->size() << " records\n";
}

TEST(Faults, KillNineOfEveryProcessAtRandomMomentsLosesAndDuplicatesNothing) {
  LiveFederation federation("faults_kill", BrokerOptions());
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());
  std::mt19937 random(9);
  Load load(federation, 3);
  for (int round = 0; round < 9; ++round) {
    absl::SleepFor(absl::Milliseconds(200 + random() % 500));
    switch (round % 3) {
      case 0:
        ASSERT_TRUE(federation.StartProvider());
        break;
      case 1:
        ASSERT_TRUE(federation.RestartConsumer());
        break;
      case 2:
        federation.broker->Signal(SIGKILL);
        federation.broker->Wait(10);
        ASSERT_TRUE(federation.StartBroker());
        break;
    }
  }
  absl::SleepFor(absl::Milliseconds(500));
  std::multiset<std::string> received = load.Stop();
  ASSERT_GT(received.size(), 10u) << "too little load to mean anything";
  CheckInvariants(federation, saito, received);
}

TEST(Faults, TheBrokerAwayUnderLoadLosesNothingAndEverythingArrivesAfter) {
  LiveFederation federation("faults_broker_away", BrokerOptions());
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());
  // About 100 exchanges a second: the records of two minutes then take the shipper about
  // 20 s to deliver (its own speed is issue 10's).
  Load load(federation, 2, absl::Milliseconds(15));
  absl::SleepFor(absl::Seconds(1));
  federation.broker->Signal(SIGKILL);
  federation.broker->Wait(10);
  // Exchanges go on for minutes, records wait in the outbox.
  const size_t before = load.Received();
  absl::SleepFor(absl::Minutes(2));
  EXPECT_GT(load.Received(), before + 100) << "exchanges stopped while the broker was away";
  ASSERT_TRUE(federation.StartBroker());
  absl::SleepFor(absl::Seconds(1));
  std::multiset<std::string> received = load.Stop();
  ASSERT_GT(received.size(), 20u);
  CheckInvariants(federation, saito, received);
}

// The end of a process's log, for failure messages.
std::string LogTail(Process& process) {
  auto log = ReadFile(process.log_file());
  if (!log.ok()) return log.status().ToString();
  return log->substr(log->size() > 4000 ? log->size() - 4000 : 0);
}

// One exchange as the child-allowance client, with its status.
grpc::Status ExchangeStatus(LiveFederation& federation) {
  auto stub = federation.LocalRegistry(federation.allowance_client);
  grpc::ClientContext context;
  LiveFederation::AddRenkeiMetadata(context, kAllowance, kRegistry, "131016-0001");
  municipal::v1::GetResidentRequest request;
  request.set_resident_code("131016-0001");
  municipal::v1::GetResidentResponse response;
  return stub->GetResident(&context, request, &response);
}

TEST(Faults, TheProvidersDiskFullOrReadOnlyFailsClosedLosesNothingAndRecovers) {
  RENKEI_MOUNT_SMALL_FILESYSTEM_OR_SKIP(disk, ScratchDirectory("small_disk") + "/mount");
  LiveFederationOptions options = BrokerOptions();
  options.provider_message_log_directory = disk->path() + "/chiyoda-message-log";
  LiveFederation federation("faults_disk", options);
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());
  Load load(federation, 2);
  absl::SleepFor(absl::Seconds(1));

  // Full: answers that cannot be recorded are withheld, with the reason. (Some still get
  // through while the disk is full: each reopen of the log frees what it no longer needs.
  // The invariants below show that each of them was recorded.)
  ASSERT_TRUE(disk->Fill().ok());
  grpc::Status refused;
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    refused = ExchangeStatus(federation);
    return !refused.ok();
  })) << "the provider went on answering on a full disk";
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_NE(refused.error_message().find("No space left on device"), std::string::npos)
      << refused.error_message() << "\n" << LogTail(*federation.provider_ss);

  // Space returns: the provider recovers on its own.
  ASSERT_TRUE(disk->Free().ok());
  EXPECT_TRUE(LiveFederation::Eventually([&] { return ExchangeStatus(federation).ok(); }))
      << "no recovery after the space came back";

  // Read-only (as the kernel leaves a disk after errors): the provider does not start, and
  // says why; once writable again, it does.
  federation.provider_ss->Signal(SIGKILL);
  federation.provider_ss->Wait(10);
  ASSERT_TRUE(disk->SetReadOnly(true).ok());
  EXPECT_FALSE(federation.StartProvider()) << "started on a read-only disk";
  EXPECT_TRUE(WIFEXITED(federation.provider_ss->Wait(10)));
  EXPECT_NE(LogTail(*federation.provider_ss).find("Read-only file system"), std::string::npos)
      << LogTail(*federation.provider_ss);
  ASSERT_TRUE(disk->SetReadOnly(false).ok());
  ASSERT_TRUE(federation.StartProvider());
  EXPECT_TRUE(LiveFederation::Eventually([&] { return ExchangeStatus(federation).ok(); }));

  std::multiset<std::string> received = load.Stop();
  ASSERT_GT(received.size(), 10u);
  CheckInvariants(federation, saito, received);
}

TEST(Faults, AClockBeyondTheSkewWindowIsRefusedAndNothingIsForwarded) {
  LiveFederationOptions options;
  options.consumer_clock_offset = "+5 minutes";
  LiveFederation federation("faults_skew", options);
  ASSERT_TRUE(federation.Start());
  grpc::ClientContext context;
  LiveFederation::AddRenkeiMetadata(context, kAllowance, kTestBackend, "131016-0001");
  municipal::v1::GetResidentRequest request;
  request.set_resident_code("131016-0001");
  municipal::v1::GetResidentResponse response;
  grpc::Status status = federation.LocalRegistry(federation.allowance_client)
                            ->GetResident(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_NE(status.error_message().find("from this server's clock"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(federation.BackendCalls(), 0);
}

}  // namespace
}  // namespace renkei::testing
