#include "security_server/outbox_shipper.h"

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/envelope.h"
#include "common/grpc_status.h"
#include "common/identifiers.h"
#include "common/ledger_receipt.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/transport_security.h"
#include "grpcpp/create_channel.h"

namespace renkei {
namespace {

constexpr absl::Duration kMaxBackoff = absl::Seconds(30);
constexpr absl::Duration kCallTimeout = absl::Seconds(10);
// Room for the signed envelope around the records of a batch.
constexpr size_t kEnvelopeBytes = 8 * 1024;

}  // namespace

// Records of one member on their way, by the SHA-256 of their exact bytes.
struct OutboxShipper::Batch {
  const SigningIdentity* signer = nullptr;
  std::vector<const MessageLog::OutboxItem*> items;
  size_t bytes = 0;
};

OutboxShipper::OutboxShipper(MessageLog& outbox, const ConfigurationSource& configuration,
                             const Settings& settings, const Clock& clock,
                             MetricsRegistry* metrics, ShipperLimits limits)
    : outbox_(outbox),
      configuration_(configuration),
      settings_(settings),
      clock_(clock),
      limits_(limits),
      own_member_(ToString(settings.server_id.member())) {
  if (settings_.follows_broker) {
    auto certificate =
        Certificate::FromPem(settings_.anchor.configuration_signing_certificate_pem());
    if (certificate.ok()) {
      broker_certificate_ = std::make_unique<Certificate>(*std::move(certificate));
    }
  }
  if (metrics != nullptr) {
    receipts_rejected_ = &metrics->AddCounter(
        "renkei_security_server_ledger_receipts_rejected_total",
        "Ledger answers whose receipt did not verify against the anchor (nothing was deleted).");
    quarantined_ = &metrics->AddCounter(
        "renkei_security_server_outbox_quarantined_total",
        "Access records moved to the outbox quarantine, by gRPC status code name of the reason.",
        {"code"});
  }
}

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

absl::Status OutboxShipper::last_problem() const {
  absl::MutexLock lock(&mu_);
  return last_problem_;
}

absl::StatusOr<v1::Ledger::Stub*> OutboxShipper::LedgerStub(const std::string& address) {
  std::unique_ptr<v1::Ledger::Stub>& stub = stubs_[address];
  if (stub == nullptr) {
    // Mutual TLS: the broker matches our authentication certificate to the recording server.
    auto credentials = BrokerChannelCredentials(settings_.anchor, address, &settings_.peer_tls);
    if (!credentials.ok()) return credentials.status();
    stub = v1::Ledger::NewStub(grpc::CreateChannel(address, *std::move(credentials)));
  }
  return stub.get();
}

MessageLog::Settlement OutboxShipper::Quarantine(const MessageLog::OutboxItem& item,
                                                 absl::StatusCode code,
                                                 const std::string& reason) const {
  MessageLog::Settlement settlement;
  settlement.key = item.key;
  settlement.quarantined.set_record(item.unreadable.empty() ? item.bytes : item.unreadable);
  *settlement.quarantined.mutable_request() = item.request;
  settlement.quarantined.set_code(static_cast<int>(code));
  settlement.quarantined.set_reason(reason);
  settlement.quarantined.set_quarantined_at_unix_ms(absl::ToUnixMillis(clock_.Now()));
  return settlement;
}

absl::Status OutboxShipper::Send(const Federation& federation, Batch& batch,
                                 std::vector<MessageLog::Settlement>& settled) {
  v1::RecordBatch records;
  std::map<std::string, const MessageLog::OutboxItem*> by_digest;
  for (const MessageLog::OutboxItem* item : batch.items) {
    v1::ShippedRecord* shipped = records.add_records();
    shipped->set_record(item->bytes);
    *shipped->mutable_request() = item->request;
    by_digest[Sha256(item->bytes)] = item;
  }
  RENKEI_ASSIGN_OR_RETURN(
      v1::SignedHeader signed_batch,
      SignHeader(SignedType::kRecordBatch, records.SerializeAsString(), *batch.signer));

  grpc::Status status(grpc::StatusCode::UNAVAILABLE, "no ledger address");
  v1::AppendRecordsResponse response;
  for (const std::string& address : federation.configuration().ledger_addresses()) {
    auto stub = LedgerStub(address);
    if (!stub.ok()) return stub.status();
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    response.Clear();
    status = (*stub)->AppendRecords(&context, signed_batch, &response);
    if (status.ok() || status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
  }
  if (!status.ok()) return FromGrpcStatus(status);

  absl::Status problem;
  for (const v1::SignedLedgerReceipt& signed_receipt : response.receipts()) {
    auto receipt = VerifyLedgerReceipt(signed_receipt, *broker_certificate_);
    const MessageLog::OutboxItem* item = nullptr;
    if (receipt.ok()) {
      auto found = by_digest.find(receipt->record_sha256());
      if (found != by_digest.end() && receipt->recorded_by() == settings_.server_id_text) {
        item = found->second;
      } else {
        receipt = absl::UnauthenticatedError(
            "ledger receipt names a record this server did not send");
      }
    }
    if (!receipt.ok()) {
      if (receipts_rejected_) receipts_rejected_->With({}).Increment();
      problem = absl::UnauthenticatedError(
          absl::StrCat("the ledger's answer was not accepted: ", receipt.status().message()));
      continue;
    }
    by_digest.erase(receipt->record_sha256());
    MessageLog::Settlement settlement;
    settlement.key = item->key;
    settlement.message_id = receipt->message_id();
    settlement.receipt = signed_receipt.SerializeAsString();
    settled.push_back(std::move(settlement));
  }
  for (const v1::RecordRefusal& refusal : response.refusals()) {
    auto found = by_digest.find(refusal.record_sha256());
    if (found == by_digest.end()) continue;
    const int code = refusal.code();
    settled.push_back(Quarantine(*found->second,
                                 code > 0 && code <= 16 ? static_cast<absl::StatusCode>(code)
                                                        : absl::StatusCode::kUnknown,
                                 absl::StrCat("refused by the ledger: ", refusal.message())));
    Log(LogLevel::kError, "outbox",
        absl::StrCat("the ledger refused a record; moved to the quarantine: ", refusal.message()),
        refusal.message_id());
    by_digest.erase(found);
  }
  if (!by_digest.empty() && problem.ok()) {
    problem = absl::InternalError(
        absl::StrCat("the ledger answered neither a receipt nor a refusal for ", by_digest.size(),
                     " records; they stay in the outbox"));
  }
  return problem;
}

absl::Status OutboxShipper::ShipOnce(bool* more_waiting) {
  *more_waiting = false;
  std::shared_ptr<const Federation> federation = configuration_.Current();
  if (federation->configuration().ledger_addresses().empty()) return absl::OkStatus();
  if (broker_certificate_ == nullptr) {
    return absl::FailedPreconditionError(
        "records cannot be shipped: ledger receipts are verified against the configuration "
        "anchor, and this server follows no broker");
  }
  // A new configuration may make good what an older one made the ledger refuse.
  if (federation->configuration().version() != requeued_at_version_) {
    auto moved = outbox_.Requeue({absl::StatusCode::kPermissionDenied,
                                  absl::StatusCode::kFailedPrecondition,
                                  absl::StatusCode::kUnauthenticated});
    if (!moved.ok()) return moved.status();
    if (*moved > 0) {
      Log(LogLevel::kInfo, "outbox",
          absl::StrCat(*moved, " quarantined records get another try under configuration version ",
                       federation->configuration().version()));
    }
    requeued_at_version_ = federation->configuration().version();
  }
  auto items = outbox_.ReadOutbox(limits_.max_batch_records);
  if (!items.ok()) return items.status();
  if (items->empty()) return absl::OkStatus();
  *more_waiting = items->size() == limits_.max_batch_records;

  // What cannot be shipped at all is quarantined here; the rest fills one batch.
  std::vector<MessageLog::Settlement> settled;
  Batch batch;
  for (const MessageLog::OutboxItem& item : *items) {
    v1::AccessRecord record;
    if (!item.unreadable.empty() || !record.ParseFromString(item.bytes)) {
      settled.push_back(
          Quarantine(item, absl::StatusCode::kDataLoss, "outbox record is unreadable"));
      continue;
    }
    const size_t size = item.bytes.size() + item.request.ByteSizeLong() + 16;  // with framing
    if (size + kEnvelopeBytes > limits_.max_batch_bytes) {
      settled.push_back(Quarantine(
          item, absl::StatusCode::kResourceExhausted,
          absl::StrCat("record of ", size, " bytes exceeds the ledger batch limit")));
      continue;
    }
    // The ledger takes from this server only records of its own member's services, signed by
    // that member: anything else could only ever be refused.
    auto service = ParseSubsystemId(record.service());
    const std::string member = service.ok() ? ToString(service->member()) : "";
    auto signer = settings_.signing_identities.find(member);
    if (member != own_member_ || signer == settings_.signing_identities.end()) {
      settled.push_back(Quarantine(
          item, absl::StatusCode::kFailedPrecondition,
          absl::StrCat("record of service \"", record.service(), "\" cannot be shipped by ",
                       settings_.server_id_text, ": not its member's, or no signing key")));
      continue;
    }
    if (batch.signer == nullptr) batch.signer = &signer->second;
    if (batch.bytes + size + kEnvelopeBytes > limits_.max_batch_bytes) {
      *more_waiting = true;  // left for the next batch, which need not wait
      continue;
    }
    batch.bytes += size;
    batch.items.push_back(&item);
  }
  absl::Status problem;
  if (!batch.items.empty()) problem = Send(*federation, batch, settled);
  if (!settled.empty()) {
    RENKEI_RETURN_IF_ERROR(outbox_.Settle(settled));
    for (const MessageLog::Settlement& settlement : settled) {
      if (settlement.receipt.empty() && quarantined_) {
        quarantined_->With({absl::StatusCodeToString(
                               static_cast<absl::StatusCode>(settlement.quarantined.code()))})
            .Increment();
      }
    }
  }
  return problem;
}

void OutboxShipper::Run() {
  absl::Duration wait = limits_.idle_interval;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait)) return;
    }
    bool more_waiting = false;
    absl::Status status = ShipOnce(&more_waiting);
    {
      absl::MutexLock lock(&mu_);
      last_problem_ = status;
    }
    if (!status.ok()) {
      wait = std::min(std::max(wait * 2, absl::Milliseconds(500)), kMaxBackoff);
      Log(LogLevel::kWarning, "outbox",
          absl::StrCat("shipping to the ledger failed, retrying in ", absl::FormatDuration(wait),
                       ": ", status.ToString()));
    } else {
      // Right away behind a full batch; otherwise records gather into the next one (one
      // ledger round trip per batch, not per record).
      wait = more_waiting ? absl::ZeroDuration() : limits_.idle_interval;
    }
  }
}

}  // namespace renkei
