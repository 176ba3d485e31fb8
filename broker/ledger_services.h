// The ledger's gRPC services on the broker: Ledger (security servers append signed batches
// of access records) and ResidentAccess (residents sign in with their key and read their
// records with proofs; anyone may fetch tree heads and consistency proofs). Thread-safe.
#ifndef RENKEI_BROKER_LEDGER_SERVICES_H_
#define RENKEI_BROKER_LEDGER_SERVICES_H_

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "broker/access_ledger.h"
#include "broker/broker_metrics.h"
#include "broker/registry_store.h"
#include "common/clock.h"
#include "common/federation.h"
#include "common/pseudonym.h"
#include "renkei/v1/ledger.grpc.pb.h"

namespace renkei {

class LedgerService final : public v1::Ledger::CallbackService {
 public:
  LedgerService(AccessLedger& ledger, const RegistryStore& registry, BrokerMetrics& metrics)
      : ledger_(ledger), registry_(registry), metrics_(metrics) {}
  grpc::ServerUnaryReactor* AppendRecords(grpc::CallbackServerContext* context,
                                          const v1::SignedHeader* batch,
                                          v1::AppendRecordsResponse* response) override;

 private:
  // The registry as a validated Federation, rebuilt when its version changes.
  absl::StatusOr<std::shared_ptr<const Federation>> CurrentFederation();
  absl::StatusOr<v1::AppendRecordsResponse> Append(const v1::SignedHeader& batch);

  AccessLedger& ledger_;
  const RegistryStore& registry_;
  BrokerMetrics& metrics_;
  absl::Mutex mu_;
  std::shared_ptr<const Federation> federation_ ABSL_GUARDED_BY(mu_);
};

// Challenges and sessions of signed-in residents, in memory: a broker restart signs everyone
// out, which costs a resident one more signature and nothing else.
class ResidentSessions {
 public:
  explicit ResidentSessions(const Clock& clock) : clock_(clock) {}
  // A fresh single-use challenge for `pseudonym`, valid for two minutes.
  std::string NewChallenge(const std::string& pseudonym, absl::Time* expires_at);
  // Consumes the challenge; true when it was issued for `pseudonym` and has not expired.
  bool TakeChallenge(const std::string& pseudonym, const std::string& challenge);
  std::string NewSession(const std::string& pseudonym, absl::Time* expires_at);
  // The pseudonym of a live session, or "".
  std::string SessionPseudonym(const std::string& token);

 private:
  struct Pending {
    std::string pseudonym;
    absl::Time expires_at;
  };
  void Expire() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, Pending> challenges_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Pending> sessions_ ABSL_GUARDED_BY(mu_);
};

class ResidentService final : public v1::ResidentAccess::CallbackService {
 public:
  ResidentService(AccessLedger& ledger, const Pseudonymizer& pseudonymizer, const Clock& clock,
                  BrokerMetrics& metrics)
      : ledger_(ledger), pseudonymizer_(pseudonymizer), clock_(clock), sessions_(clock),
        metrics_(metrics) {}

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
};

}  // namespace renkei

#endif  // RENKEI_BROKER_LEDGER_SERVICES_H_
