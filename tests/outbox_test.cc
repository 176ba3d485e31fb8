// The outbox against a hostile or broken path to the ledger (issue 8, items 3 and 4): records
// leave a provider's outbox only on a receipt the broker signed, and one bad record never
// blocks the rest.
#include <signal.h>

#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <iterator>

#include "common/envelope.h"
#include "common/ledger_receipt.h"
#include "common/digest.h"
#include "gmock/gmock.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "security_server/message_log.h"
#include "tests/live_federation.h"

namespace renkei::testing {
namespace {

using ::testing::HasSubstr;

std::string Exchange(LiveFederation& federation, const std::string& resident) {
  grpc::ClientContext context;
  LiveFederation::AddRenkeiMetadata(context, kAllowance, kRegistry, resident);
  municipal::v1::GetResidentRequest request;
  request.set_resident_code(resident);
  municipal::v1::GetResidentResponse response;
  grpc::Status status = federation.LocalRegistry(federation.allowance_client)
                            ->GetResident(&context, request, &response);
  if (!status.ok()) return "";
  auto trailer = context.GetServerTrailingMetadata().find("renkei-message-id");
  return std::string(trailer->second.data(), trailer->second.size());
}

std::string HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  auto response = client.Get(path.c_str());
  return response ? response->body : "";
}

// Stops the provider's server (SIGTERM, so its message log is closed), lets `edit` change the
// log, and starts it again.
void WithProviderStopped(LiveFederation& federation,
                         const std::function<void(MessageLog&)>& edit) {
  federation.provider_ss->Signal(SIGTERM);
  federation.provider_ss->Wait(20);
  {
    auto log = MessageLog::Open(federation.provider_log_dir, false);
    ASSERT_TRUE(log.ok()) << log.status();
    edit(**log);
  }
  ASSERT_TRUE(federation.StartProvider());
}

uint64_t OutboxSize(LiveFederation& federation) {
  uint64_t size = 0;
  WithProviderStopped(federation, [&](MessageLog& log) { size = log.OutboxSize(); });
  return size;
}

TEST(Outbox, APoisonRecordIsQuarantinedAndTheRecordsBehindItReachTheLedger) {
  LiveFederationOptions options;
  options.use_broker = true;
  options.monitoring = true;
  LiveFederation federation("outbox_poison", options);
  ASSERT_TRUE(federation.Start());
  PrivateKey saito = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0001", saito).ok());

  // A record the ledger can never accept, first in the outbox: a 23-byte pseudonym.
  WithProviderStopped(federation, [](MessageLog& log) {
    v1::AccessRecord poison;
    poison.set_message_id(NewMessageId());
    *poison.mutable_time() = ToTimestamp(absl::Now());
    poison.set_client(kAllowance);
    poison.set_service(kRegistry);
    poison.set_recorded_by(TestFederation::kProviderServer);
    poison.add_subject_pseudonyms(std::string(23, 'p'));
    v1::SignedHeader request, response;
    ExchangeEvidence evidence;
    evidence.role = v1::MessageLogEntry::PROVIDER;
    evidence.message_id = poison.message_id();
    evidence.request = &request;
    evidence.response = &response;
    evidence.access_record = &poison;
    ASSERT_TRUE(RecordAndWait(log, evidence).ok());
  });
  std::set<std::string> answered;
  for (int i = 0; i < 3; ++i) answered.insert(Exchange(federation, "131016-0001"));
  ASSERT_FALSE(answered.count(""));

  auto token = federation.SignIn("131016-0001", saito);
  ASSERT_TRUE(token.ok()) << token.status();
  auto residents = federation.Residents();
  std::set<std::string> recorded;
  ASSERT_TRUE(LiveFederation::Eventually([&] {
    grpc::ClientContext context;
    v1::ListRecordsRequest request;
    request.set_session_token(*token);
    v1::ListRecordsResponse page;
    if (!residents->ListRecords(&context, request, &page).ok()) return false;
    recorded.clear();
    for (const auto& proven : page.records()) recorded.insert(proven.record().message_id());
    return recorded.size() + page.pending() >= answered.size();
  }, absl::Seconds(20))) << "records behind the poison one did not reach the ledger";

  // Quarantined, counted, alerted on; the outbox itself is empty. (The ledger shows the
  // records as soon as it holds them; the provider settles its outbox right after.)
  std::string metrics;
  EXPECT_TRUE(LiveFederation::Eventually([&] {
    metrics = HttpGet(federation.provider_monitoring_port, "/metrics");
    return absl::StrContains(metrics, "renkei_security_server_outbox_quarantine_records 1") &&
           absl::StrContains(metrics, "renkei_security_server_outbox_records 0");
  }, absl::Seconds(20))) << metrics;
  federation.provider_ss->Signal(SIGTERM);
  federation.provider_ss->Wait(20);
  auto quarantined = MessageLog::ReadQuarantineOf(federation.provider_log_dir);
  ASSERT_TRUE(quarantined.ok()) << quarantined.status();
  ASSERT_EQ(quarantined->size(), 1u);
  EXPECT_THAT((*quarantined)[0].reason(), HasSubstr("refused by the ledger"));
  EXPECT_THAT((*quarantined)[0].reason(), HasSubstr("23 bytes"));
  EXPECT_EQ((*quarantined)[0].code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  {
    auto log = MessageLog::Open(federation.provider_log_dir, false);
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->OutboxSize(), 0u);
    for (const std::string& id : answered) EXPECT_TRUE((*log)->Receipt(id).ok()) << id;
  }

  // What operators and auditors run.
  auto renkeictl = [&](const std::vector<std::string>& args, std::string* output) {
    const std::string log = federation.directory + "/renkeictl.out";
    Process tool(Runfile("tools/renkeictl/renkeictl"), args, log);
    const int status = tool.Wait(30);
    std::ifstream in(log);
    output->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  std::string output;
  EXPECT_EQ(renkeictl({"quarantine", "list", "--message-log", federation.provider_log_dir},
                      &output),
            0);
  EXPECT_THAT(output, HasSubstr("23 bytes"));
  EXPECT_THAT(output, HasSubstr("1 quarantined records"));
  EXPECT_EQ(renkeictl({"receipt", "show", "--message-log", federation.provider_log_dir,
                       "--message-id", *answered.begin(), "--anchor",
                       federation.directory + "/broker-anchor.textproto"},
                      &output),
            0)
      << output;
  EXPECT_THAT(output, HasSubstr("receipt verifies"));
}

// Sits where the broker's address is advertised, with the broker's own TLS key (the worst
// case: TLS broken or a development setting): passes configuration through, and answers
// every record batch with "receipts" it signs itself.
class ForgingBroker final : public v1::ConfigurationDistribution::Service,
                            public v1::Ledger::Service {
 public:
  explicit ForgingBroker(LiveFederation& federation) : federation_(federation) {}

  grpc::Status GetConfiguration(grpc::ServerContext*, const v1::GetConfigurationRequest* request,
                                v1::GetConfigurationResponse* response) override {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return v1::ConfigurationDistribution::NewStub(federation_.BrokerChannel(nullptr))
        ->GetConfiguration(&context, *request, response);
  }

  grpc::Status AppendRecords(grpc::ServerContext*, const v1::SignedHeader* batch,
                             v1::AppendRecordsResponse* response) override {
    ++batches;
    v1::RecordBatch records;
    records.ParseFromString(batch->header());
    for (const v1::ShippedRecord& shipped : records.records()) {
      const std::string& entry = shipped.record();
      v1::AccessRecord record;
      record.ParseFromString(entry);
      v1::LedgerReceipt receipt;
      receipt.set_recorded_by(record.recorded_by());
      receipt.set_message_id(record.message_id());
      receipt.set_record_sha256(Sha256(entry));
      *response->add_receipts() = *SignLedgerReceipt(receipt, forger_);
    }
    return grpc::Status::OK;
  }

  bool Start(int port) {
    grpc::SslServerCredentialsOptions tls;
    tls.pem_key_cert_pairs.push_back(
        {federation_.broker_tls.key.Pem(), federation_.broker_tls.certificate.Pem()});
    grpc::ServerBuilder builder;
    int selected = 0;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::SslServerCredentials(tls),
                             &selected);
    builder.RegisterService(static_cast<v1::ConfigurationDistribution::Service*>(this));
    builder.RegisterService(static_cast<v1::Ledger::Service*>(this));
    server_ = builder.BuildAndStart();
    return server_ != nullptr && selected == port;
  }
  ~ForgingBroker() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  std::atomic<int> batches{0};

 private:
  LiveFederation& federation_;
  const PrivateKey forger_ = PrivateKey::GenerateP256();
  std::unique_ptr<grpc::Server> server_;
};

TEST(Outbox, ForgedAcknowledgementsDeleteNothingAndHealthSaysWhy) {
  LiveFederationOptions options;
  options.use_broker = true;
  options.monitoring = true;
  options.advertised_broker_port = FreePort();
  LiveFederation federation("outbox_forged", options);
  ForgingBroker forger(federation);
  ASSERT_TRUE(forger.Start(options.advertised_broker_port));
  ASSERT_TRUE(federation.Start());
  std::set<std::string> answered;
  for (int i = 0; i < 3; ++i) answered.insert(Exchange(federation, "131016-0001"));
  ASSERT_FALSE(answered.count(""));

  ASSERT_TRUE(LiveFederation::Eventually([&] {
    return forger.batches > 0 &&
           HttpGet(federation.provider_monitoring_port, "/healthz").find("ledger receipt") !=
               std::string::npos;
  }, absl::Seconds(20))) << HttpGet(federation.provider_monitoring_port, "/healthz");
  EXPECT_THAT(HttpGet(federation.provider_monitoring_port, "/metrics"),
              HasSubstr("renkei_security_server_ledger_receipts_rejected_total"));
  EXPECT_EQ(OutboxSize(federation), answered.size()) << "every record stays in the outbox";
}

}  // namespace
}  // namespace renkei::testing
