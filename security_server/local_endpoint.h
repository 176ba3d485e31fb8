// LocalEndpoint: the generic gRPC service the agency's own systems call with ordinary typed
// stubs. Any unary method is accepted; ConsumerSide checks and signs, the request goes to the
// provider's security server over mutual TLS, and the verified answer comes back with the
// message id in trailing metadata (renkei-message-id).
//
// Thread-safe; the peer channel map is guarded.
#ifndef RENKEI_SECURITY_SERVER_LOCAL_ENDPOINT_H_
#define RENKEI_SECURITY_SERVER_LOCAL_ENDPOINT_H_

#include <map>
#include <set>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "renkei/v1/operational.pb.h"
#include "grpcpp/generic/async_generic_service.h"
#include "renkei/v1/peer.grpc.pb.h"
#include "security_server/consumer_side.h"
#include "security_server/operational_log.h"
#include "security_server/server_metrics.h"

namespace renkei {

// How one outbound exchange ended, for the entry that took the local call.
struct ExchangeOutcome {
  // A refusal by either security server, or the provider service's own status.
  absl::Status status;
  std::string message_id;  // empty when refused before the request was signed
  std::string payload;     // the provider's answer, when status is OK
  // `status` is the provider service's own (its answer, signed and recorded), not a refusal
  // by a security server.
  bool answered = false;
};

class LocalEndpoint final : public grpc::CallbackGenericService {
 public:
  LocalEndpoint(const ConsumerSide& consumer, const Settings& settings,
                int max_peer_response_bytes, ExchangeMetrics& metrics,
                OperationalLog& operational_log);

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override;

  // The stub for a provider security server, created on first use; gRPC's pick_first policy
  // fails over between its addresses. Its TLS handshake accepts only the server's registered,
  // unrevoked authentication certificate, before a byte of any request is written. The table
  // is rebuilt when the configuration version changes (channels of an older version close
  // once the calls holding them finish).
  std::shared_ptr<v1::PeerExchange::Stub> PeerStub(const FederationServer& server,
                                                   const Federation& federation);

  // Runs one outbound exchange for a local call that either entry (gRPC or JSON) took:
  // Prepare, the peer call with `context` (its deadline travels to the provider), and the
  // asynchronous Complete; counts it and keeps its operational record. Never blocks: `done`
  // runs exactly once, on a gRPC or the message log's thread, after the evidence is durable.
  using ExchangeDone = absl::AnyInvocable<void(ExchangeOutcome) &&>;
  void StartExchange(LocalCall call, std::unique_ptr<grpc::ClientContext> context,
                     v1::OperationalRecord::Entry entry, absl::Time received_at,
                     ExchangeDone done);

  // True once every exchange StartExchange began has ended, or false at `deadline` (for
  // shutdown: exchanges whose entry stopped waiting still use this endpoint until they end).
  bool WaitForExchanges(absl::Time deadline);
  // Cancels the peer calls of every exchange still running (shutdown past its grace period).
  void CancelExchanges();
  void ExchangeEnded(grpc::ClientContext* context);  // OutboundExchange's, after its `done`

  // A call refused before it became an exchange (the JSON entry's own checks): counted,
  // logged at the shared bound and kept in the operational records like any refusal.
  // `refused_here`: this server refused (counted as a local rejection), not the provider's
  // side failing.
  void CountRefusal(v1::OperationalRecord::Entry entry, const std::string& method,
                    const std::string& peer_address, absl::Time received_at,
                    const absl::Status& status, bool refused_here);

  // Counts a finished local call and keeps its operational record. `operational` holds what
  // the call learned (parties, method, caller, message id, sizes, stage times); the rest is
  // filled in here.
  void CountCall(v1::OperationalRecord operational, v1::OperationalRecord::Entry entry,
                 absl::Time received_at, absl::StatusCode outcome);

  // The longest an exchange may take when the caller set no (or a longer) deadline: a little
  // more than the provider side's own bound on its backend call.
  static constexpr absl::Duration kMaxExchange = absl::Seconds(65);

  const ConsumerSide& consumer() const { return consumer_; }
  absl::Duration request_read_timeout() const { return request_read_timeout_; }
  ExchangeMetrics& metrics() { return metrics_; }
  OperationalLog& operational_log() { return operational_log_; }

 private:
  const ConsumerSide& consumer_;
  const Settings& settings_;
  const int max_peer_response_bytes_;
  const absl::Duration request_read_timeout_;
  ExchangeMetrics& metrics_;
  OperationalLog& operational_log_;
  absl::Mutex mu_;
  int64_t peers_version_ ABSL_GUARDED_BY(mu_) = -1;
  std::map<std::string, std::shared_ptr<v1::PeerExchange::Stub>> peers_ ABSL_GUARDED_BY(mu_);
  // The peer calls of the exchanges StartExchange began that have not ended.
  std::set<grpc::ClientContext*> exchanges_ ABSL_GUARDED_BY(mu_);
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_LOCAL_ENDPOINT_H_
