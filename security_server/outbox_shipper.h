// OutboxShipper: sends the access records waiting in the outbox to the broker's ledger.
//
// A background thread takes up to `batch_size` records, groups them by provider member,
// signs each group with that member's signing key and calls Ledger.AppendRecords at the
// ledger address of the global configuration. Only what the ledger acknowledged is deleted;
// on failure it retries with exponential backoff (up to 30 s). The ledger's append is
// idempotent, so a record sent twice (a crash after the append, before the delete) is
// recorded once. Thread-safe; Stop() (or the destructor) joins the thread.
#ifndef RENKEI_SECURITY_SERVER_OUTBOX_SHIPPER_H_
#define RENKEI_SECURITY_SERVER_OUTBOX_SHIPPER_H_

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "renkei/v1/ledger.grpc.pb.h"
#include "security_server/configuration_source.h"
#include "security_server/message_log.h"
#include "security_server/settings.h"

namespace renkei {

class OutboxShipper {
 public:
  OutboxShipper(MessageLog& outbox, const ConfigurationSource& configuration,
                const Settings& settings, absl::Duration idle_interval = absl::Milliseconds(200),
                size_t batch_size = 500);
  ~OutboxShipper();

  void Start();
  void Stop();

  // One round: ships one batch. OK with nothing to do; the RPC's error otherwise.
  absl::Status ShipOnce(bool* shipped_something);

 private:
  void Run();
  v1::Ledger::Stub& LedgerStub(const std::string& address);

  MessageLog& outbox_;
  const ConfigurationSource& configuration_;
  const Settings& settings_;
  const absl::Duration idle_interval_;
  const size_t batch_size_;
  std::map<std::string, std::unique_ptr<v1::Ledger::Stub>> stubs_;  // used by the thread only
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_OUTBOX_SHIPPER_H_
