// ProviderSide: what the provider's security server (SS-B) does with a request from another
// security server (DESIGN.md "One exchange", step 3), without any gRPC: Verify decides whether
// the request may reach the provider service; Answer signs the service's answer and records
// the evidence durably before it may be released. The peer endpoint does the I/O.
//
// Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_PROVIDER_SIDE_H_
#define RENKEI_SECURITY_SERVER_PROVIDER_SIDE_H_

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "renkei/v1/envelope.pb.h"
#include "renkei/v1/peer.pb.h"
#include "security_server/configuration_source.h"
#include "security_server/exchange_recorder.h"
#include "security_server/replay_cache.h"
#include "security_server/server_metrics.h"
#include "security_server/settings.h"

namespace renkei {

struct VerifiedRequest {
  v1::RequestHeader header;
  std::string request_header_sha256;
  std::string backend_address;
  const SigningIdentity* provider_signer = nullptr;
};

class ProviderSide {
 public:
  // `metrics` may be null (unit tests).
  ProviderSide(const Settings& settings, const ConfigurationSource& configuration,
               const Clock& clock, ReplayCache& replay_cache, ExchangeRecorder& recorder,
               ExchangeMetrics* metrics = nullptr);

  // `peer_certificate_sha256`: the TLS client certificate the calling security server
  // presented (already verified against the federation CA by the TLS layer).
  // UNAUTHENTICATED: unknown/revoked peer, bad signature, stale timestamp or one older than
  // this process, payload not the signed one. INVALID_ARGUMENT: a header field the access
  // record would hold breaks the federation's rules (ValidateRequestHeaderFields).
  // PERMISSION_DENIED: peer speaks for another member, or no access right.
  // NOT_FOUND: service not provided here. ALREADY_EXISTS: a message id answered before.
  // RESOURCE_EXHAUSTED: payload over the federation limit. UNAVAILABLE: configuration expired.
  absl::StatusOr<VerifiedRequest> Verify(const std::string& peer_certificate_sha256,
                                         const v1::ExchangeRequest& request) const;

  // Service metadata for a peer: the methods `request.service()` offers and those the
  // peer's `request.client()` may call. Same identity rules as Verify.
  // `configuration_version`, when not null, gets the version the answer holds under.
  absl::StatusOr<v1::DescribeServiceResponse> Describe(
      const std::string& peer_certificate_sha256, const v1::DescribeServiceRequest& request,
      int64_t* configuration_version = nullptr) const;

  // Signs the provider service's answer (`status`, `payload`) and records the exchange;
  // `done` gets the response once the record is durable (on the recorder's thread), or
  // UNAVAILABLE when it cannot be recorded: then nothing may be released.
  using AnswerDone = absl::AnyInvocable<void(absl::StatusOr<v1::ExchangeResponse>) &&>;
  void Answer(const VerifiedRequest& verified, const v1::ExchangeRequest& request,
              const absl::Status& status, std::string payload, AnswerDone done) const;

 private:
  // The registered, unrevoked security server that presented `peer_certificate_sha256`.
  absl::StatusOr<const FederationServer*> IdentifyPeer(const Federation& federation,
                                                      const std::string& peer_certificate_sha256) const;

  const Settings& settings_;
  const ConfigurationSource& configuration_;
  const Clock& clock_;
  ReplayCache& replay_cache_;
  ExchangeRecorder& recorder_;
  ExchangeMetrics* const metrics_;
  const absl::Time started_at_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_PROVIDER_SIDE_H_
