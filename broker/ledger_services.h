// The ledger's gRPC services on the broker: Ledger (security servers append signed batches
// of access records) and ResidentAccess (residents sign in with their key and read their
// records with proofs; anyone may fetch tree heads and consistency proofs). Thread-safe.
#ifndef RENKEI_BROKER_LEDGER_SERVICES_H_
#define RENKEI_BROKER_LEDGER_SERVICES_H_

#include <deque>
#include <thread>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "broker/access_ledger.h"
#include "broker/broker_metrics.h"
#include "broker/registry_store.h"
#include "common/clock.h"
#include "common/federation.h"
#include "common/pseudonym.h"
#include "renkei/v1/ledger.grpc.pb.h"

namespace renkei {

// Security servers ship signed record batches over mutual TLS. The batch must come from the
// registered security server whose authentication certificate the TLS peer presented, be
// signed by its member as a record batch, and hold only records that server recorded of
// services it provides, each with the client's signed request it records (and agreeing with
// it), so that no member can put a use in another member's name. Each record gets a
// broker-signed receipt (it is in the log) or a refusal (it never will be, as it is); a
// batch-level error means nothing was appended.
//
// Appends run on the service's own writer thread, never on gRPC's few callback threads (they
// read and write the store synchronously and sign receipts); a full queue is refused at once
// with UNAVAILABLE, which the shipper retries.
class LedgerService final : public v1::Ledger::CallbackService {
 public:
  // `receipt_key` signs receipts (the configuration-signing key the anchor holds).
  // `tls_peers`: false only on a plaintext loopback development endpoint, where the batch
  // signature alone identifies the sender.
  LedgerService(AccessLedger& ledger, const RegistryStore& registry, const PrivateKey& receipt_key,
                const Pseudonymizer& pseudonymizer, bool tls_peers, const Clock& clock,
                BrokerMetrics& metrics)
      : ledger_(ledger), registry_(registry), receipt_key_(receipt_key),
        pseudonymizer_(pseudonymizer), tls_peers_(tls_peers), clock_(clock), metrics_(metrics),
        writer_([this] { WriteLoop(); }) {}
  // Finishes what is still queued with UNAVAILABLE, then joins the writer.
  ~LedgerService() override;
  grpc::ServerUnaryReactor* AppendRecords(grpc::CallbackServerContext* context,
                                          const v1::SignedHeader* batch,
                                          v1::AppendRecordsResponse* response) override;

  // The whole append, without gRPC: `peer_fingerprint` is the TLS client certificate's.
  absl::StatusOr<v1::AppendRecordsResponse> Append(const std::string& peer_fingerprint,
                                                   const v1::SignedHeader& batch);

 private:
  // The registry as a validated Federation, rebuilt when its version changes.
  absl::StatusOr<std::shared_ptr<const Federation>> CurrentFederation();
  // OK when `sender` (null on a plaintext endpoint) may record `record` for member `signer`.
  static absl::Status MayRecord(const Federation& federation, const FederationServer* sender,
                                const std::string& signer, const v1::AccessRecord& record);
  // OK when the client member signed `request` and `record` says what it says.
  absl::Status CheckAgainstSignedRequest(const Federation& federation,
                                         const v1::AccessRecord& record,
                                         const v1::SignedHeader& request) const;
  // Signs the receipt for `entry` at `leaf_index` into `response`.
  absl::Status AddReceipt(const v1::AccessRecord& record, const std::string& entry,
                          uint64_t leaf_index, v1::AppendRecordsResponse& response);
  void Refuse(const std::string& entry, const std::string& message_id, const absl::Status& why,
              v1::AppendRecordsResponse& response);

  struct PendingAppend {
    std::string peer_fingerprint;
    const v1::SignedHeader* batch = nullptr;
    v1::AppendRecordsResponse* response = nullptr;
    grpc::ServerUnaryReactor* reactor = nullptr;
    grpc::CallbackServerContext* context = nullptr;
  };
  static constexpr size_t kMaxQueuedAppends = 64;
  void WriteLoop();
  void Run(PendingAppend& append);

  AccessLedger& ledger_;
  const RegistryStore& registry_;
  const PrivateKey& receipt_key_;
  const Pseudonymizer& pseudonymizer_;
  const bool tls_peers_;
  const Clock& clock_;
  BrokerMetrics& metrics_;
  absl::Mutex mu_;
  std::shared_ptr<const Federation> federation_ ABSL_GUARDED_BY(mu_);
  absl::Mutex queue_mu_;
  std::deque<PendingAppend> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread writer_;  // last: starts once everything above exists
};

// Challenges and sessions of signed-in residents, in memory: a broker restart signs everyone
// out, which costs a resident one more signature and nothing else.
//
// Anyone may ask for a challenge, so issuing one stores nothing: a challenge carries its
// expiry and a MAC (under a key made at start) binding it to the resident's pseudonym. Only a
// challenge whose signature verified is remembered (until it expires, so it cannot be used
// twice). A resident has at most kMaxSessionsPerResident live sessions; a new one ends the
// oldest. Expiry pops from the front of insertion-ordered queues (everything lives equally
// long) instead of scanning. Thread-safe.
class ResidentSessions {
 public:
  static constexpr size_t kMaxSessionsPerResident = 5;

  explicit ResidentSessions(const Clock& clock);
  // A challenge for `pseudonym`, valid for two minutes.
  std::string NewChallenge(const std::string& pseudonym, absl::Time* expires_at) const;
  // True when `challenge` was issued here for `pseudonym` and has not expired. Stateless;
  // constant time in the MAC.
  bool IsValidChallenge(const std::string& pseudonym, const std::string& challenge) const;
  // Records that `challenge` was used for a sign-in; false when it was used before.
  bool MarkUsed(const std::string& challenge);
  std::string NewSession(const std::string& pseudonym, absl::Time* expires_at);
  // The pseudonym of a live session, or "".
  std::string SessionPseudonym(const std::string& token);

 private:
  struct Session {
    std::string pseudonym;
    absl::Time expires_at;
  };
  void Expire() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string ChallengeMac(const std::string& pseudonym, absl::string_view body) const;

  const Clock& clock_;
  const std::string challenge_key_;  // secret: never logged
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> used_challenges_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, std::string>> used_by_expiry_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, std::string>> sessions_by_expiry_ ABSL_GUARDED_BY(mu_);
  // Live session tokens of each pseudonym, oldest first.
  absl::flat_hash_map<std::string, std::deque<std::string>> sessions_of_ ABSL_GUARDED_BY(mu_);
};

class ResidentService final : public v1::ResidentAccess::CallbackService {
 public:
  ResidentService(AccessLedger& ledger, const Pseudonymizer& pseudonymizer, const Clock& clock,
                  BrokerMetrics& metrics);

  grpc::ServerUnaryReactor* Challenge(grpc::CallbackServerContext* context,
                                      const v1::ChallengeRequest* request,
                                      v1::ChallengeResponse* response) override;
  grpc::ServerUnaryReactor* SignIn(grpc::CallbackServerContext* context,
                                   const v1::SignInRequest* request,
                                   v1::SignInResponse* response) override;
  grpc::ServerUnaryReactor* ListRecords(grpc::CallbackServerContext* context,
                                        const v1::ListRecordsRequest* request,
                                        v1::ListRecordsResponse* response) override;
  grpc::ServerUnaryReactor* GetTreeHead(grpc::CallbackServerContext* context,
                                        const v1::GetTreeHeadRequest* request,
                                        v1::SignedTreeHead* response) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(grpc::CallbackServerContext* context,
                                                const v1::ConsistencyProofRequest* request,
                                                v1::ConsistencyProofResponse* response) override;

  // The same operations for the web portal's JSON API (broker/portal).
  absl::StatusOr<v1::ChallengeResponse> DoChallenge(const v1::ChallengeRequest& request);
  absl::StatusOr<v1::SignInResponse> DoSignIn(const v1::SignInRequest& request);
  absl::StatusOr<v1::ListRecordsResponse> DoListRecords(const v1::ListRecordsRequest& request);

 private:
  absl::StatusOr<v1::ChallengeResponse> IssueChallenge(const v1::ChallengeRequest& request);
  absl::StatusOr<v1::SignInResponse> CheckSignIn(const v1::SignInRequest& request);
  absl::StatusOr<v1::ListRecordsResponse> ListFor(const v1::ListRecordsRequest& request);

  AccessLedger& ledger_;
  const Pseudonymizer& pseudonymizer_;
  const Clock& clock_;
  ResidentSessions sessions_;
  BrokerMetrics& metrics_;
  // Verified against when a resident is not enrolled, so that sign-in takes as long for an
  // unknown resident as for an enrolled one.
  const std::string decoy_key_pem_;
};

}  // namespace renkei

#endif  // RENKEI_BROKER_LEDGER_SERVICES_H_
