// OutboxShipper: sends the access records waiting in the outbox to the broker's ledger
// (DESIGN.md "Outbox → ledger").
//
// A background thread takes the oldest records, cuts a batch under the ledger's size limit,
// signs it as a record batch with the server's member's key and calls Ledger.AppendRecords
// over mutual TLS (its authentication certificate; the broker's certificate pinned by the
// anchor). The ledger answers per record:
//   - a broker-signed receipt: verified against the anchor (type, signature, this server,
//     the record's exact digest) before the record leaves the outbox; the receipt is kept;
//   - a refusal: the record moves to the quarantine, for an operator, and never blocks the
//     records behind it.
// When the configuration version changes, records quarantined for reasons that depend on it
// (PERMISSION_DENIED, FAILED_PRECONDITION, UNAUTHENTICATED) get another try.
// A receipt that does not verify settles nothing: the record stays and the problem is
// reported (health, metrics). Records that cannot be shipped at all (unreadable, too large,
// no key for their member) are quarantined here. On transport errors it retries with
// exponential backoff (up to 30 s). Thread-safe; Stop() (or the destructor) joins the thread.
#ifndef RENKEI_SECURITY_SERVER_OUTBOX_SHIPPER_H_
#define RENKEI_SECURITY_SERVER_OUTBOX_SHIPPER_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "renkei/v1/ledger.grpc.pb.h"
#include "security_server/configuration_source.h"
#include "security_server/message_log.h"
#include "security_server/settings.h"

namespace renkei {

struct ShipperLimits {
  absl::Duration idle_interval = absl::Milliseconds(200);
  size_t max_batch_records = 500;
  // Well under the broker's 4 MiB receive limit, signature and framing included.
  size_t max_batch_bytes = 1 << 20;
};

class OutboxShipper {
 public:
  // `metrics` may be null (tests).
  OutboxShipper(MessageLog& outbox, const ConfigurationSource& configuration,
                const Settings& settings, const Clock& clock, MetricsRegistry* metrics,
                ShipperLimits limits = {});
  ~OutboxShipper();

  void Start();
  void Stop();

  // One round: ships what fits in one batch. OK with nothing to do; otherwise the
  // first problem met (records already settled stay settled). `more_waiting`: the round
  // took a full batch, so more may wait right behind it.
  absl::Status ShipOnce(bool* more_waiting);

  // Why the last round could not ship everything it tried (OK when it could).
  absl::Status last_problem() const;

 private:
  struct Batch;
  void Run();
  absl::StatusOr<v1::Ledger::Stub*> LedgerStub(const std::string& address);
  // Sends `batch` to the first ledger address that answers; settles what the answer proves.
  absl::Status Send(const Federation& federation, Batch& batch,
                    std::vector<MessageLog::Settlement>& settled);
  MessageLog::Settlement Quarantine(const MessageLog::OutboxItem& item, absl::StatusCode code,
                                    const std::string& reason) const;

  MessageLog& outbox_;
  const ConfigurationSource& configuration_;
  const Settings& settings_;
  const Clock& clock_;
  const ShipperLimits limits_;
  const std::string own_member_;
  // The anchor's certificate, which signs receipts; null when the server follows no broker
  // (then nothing can be shipped: receipts could not be verified).
  std::unique_ptr<const Certificate> broker_certificate_;
  Family<Counter>* receipts_rejected_ = nullptr;
  Family<Counter>* quarantined_ = nullptr;
  std::map<std::string, std::unique_ptr<v1::Ledger::Stub>> stubs_;  // used by the thread only
  int64_t requeued_at_version_ = -1;                                // used by the thread only
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status last_problem_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_OUTBOX_SHIPPER_H_
