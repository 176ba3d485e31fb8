#include "security_server/outbox_shipper.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "common/envelope.h"

namespace renkei {
namespace {

constexpr absl::Duration kMaxBackoff = absl::Seconds(30);
constexpr absl::Duration kCallTimeout = absl::Seconds(10);

}  // namespace

OutboxShipper::OutboxShipper(MessageLog& outbox, const ConfigurationSource& configuration,
                             const Settings& settings, absl::Duration idle_interval,
                             size_t batch_size)
    : outbox_(outbox),
      configuration_(configuration),
      settings_(settings),
      idle_interval_(idle_interval),
      batch_size_(batch_size) {}

OutboxShipper::~OutboxShipper() { Stop(); }

void OutboxShipper::Start() {
  thread_ = std::thread([this] { Run(); });
}

void OutboxShipper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

v1::Ledger::Stub& OutboxShipper::LedgerStub(const std::string& address) {
  std::unique_ptr<v1::Ledger::Stub>& stub = stubs_[address];
  if (stub == nullptr) {
    // The batches are signed by the provider member; the ledger checks that signature.
    stub = v1::Ledger::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  }
  return *stub;
}

absl::Status OutboxShipper::ShipOnce(bool* shipped_something) {
  *shipped_something = false;
  std::shared_ptr<const Federation> federation = configuration_.Current();
  const auto& addresses = federation->configuration().ledger_addresses();
  if (addresses.empty()) return absl::OkStatus();  // no ledger in this federation
  auto items = outbox_.ReadOutbox(batch_size_);
  if (!items.ok()) return items.status();
  if (items->empty()) return absl::OkStatus();

  // One signed batch per provider member.
  std::map<std::string, std::vector<const MessageLog::OutboxItem*>> by_member;
  for (const MessageLog::OutboxItem& item : *items) {
    auto service = ParseSubsystemId(item.record.service());
    by_member[service.ok() ? ToString(service->member()) : ""].push_back(&item);
  }
  absl::Status last = absl::OkStatus();
  for (const auto& [member, group] : by_member) {
    auto signer = settings_.signing_identities.find(member);
    if (signer == settings_.signing_identities.end()) {
      last = absl::FailedPreconditionError(
          absl::StrCat("outbox holds records of ", member, " but no signing key for it"));
      continue;
    }
    v1::RecordBatch batch;
    for (const auto* item : group) *batch.add_records() = item->record;
    auto signed_batch = SignHeader(batch.SerializeAsString(), signer->second);
    if (!signed_batch.ok()) return signed_batch.status();

    grpc::Status status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "no ledger address");
    v1::AppendRecordsResponse response;
    for (const std::string& address : addresses) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
      response.Clear();
      status = LedgerStub(address).AppendRecords(&context, *signed_batch, &response);
      if (status.ok() || status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    }
    if (!status.ok()) {
      last = FromGrpcStatus(status);
      continue;
    }
    std::set<std::string> acknowledged(response.acknowledged_message_ids().begin(),
                                       response.acknowledged_message_ids().end());
    std::vector<std::string> keys;
    for (const auto* item : group) {
      if (acknowledged.count(item->record.message_id())) keys.push_back(item->key);
    }
    absl::Status deleted = outbox_.DeleteFromOutbox(keys);
    if (!deleted.ok()) return deleted;
    *shipped_something = *shipped_something || !keys.empty();
  }
  return last;
}

void OutboxShipper::Run() {
  absl::Duration wait = idle_interval_;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait)) return;
    }
    bool shipped = false;
    absl::Status status = ShipOnce(&shipped);
    if (!status.ok()) {
      wait = std::min(std::max(wait * 2, absl::Milliseconds(500)), kMaxBackoff);
      Log(LogLevel::kWarning, "outbox",
          absl::StrCat("shipping to the ledger failed, retrying in ", absl::FormatDuration(wait),
                       ": ", status.ToString()));
    } else {
      // More may be waiting right behind a full batch.
      wait = shipped ? absl::ZeroDuration() : idle_interval_;
    }
  }
}

}  // namespace renkei
