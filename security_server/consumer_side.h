// ConsumerSide: what the consumer's security server (SS-A) does for a call from its own
// agency's systems (DESIGN.md "One exchange", steps 1, 2 and 4), without any gRPC:
// Prepare checks the local caller and builds the signed request; Complete verifies the
// provider's signed answer and records the evidence. The local endpoint does the I/O.
//
// Thread-safe: holds only immutable settings and thread-safe collaborators.
#ifndef RENKEI_SECURITY_SERVER_CONSUMER_SIDE_H_
#define RENKEI_SECURITY_SERVER_CONSUMER_SIDE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "renkei/v1/envelope.pb.h"
#include "renkei/v1/metadata.pb.h"
#include "renkei/v1/peer.pb.h"
#include "security_server/configuration_source.h"
#include "security_server/exchange_recorder.h"
#include "security_server/settings.h"

namespace renkei {

// Metadata keys of the local interface (README "Calling another agency").
inline constexpr char kClientKey[] = "renkei-client";
inline constexpr char kServiceKey[] = "renkei-service";
inline constexpr char kSubjectKey[] = "renkei-subject";
inline constexpr char kPurposeKey[] = "renkei-purpose";
inline constexpr char kUserKey[] = "renkei-user";
inline constexpr char kMessageIdKey[] = "renkei-message-id";

// Who called the local endpoint, as the transport established it.
struct LocalCaller {
  bool tls = false;
  std::string certificate_sha256;  // with tls
  std::string peer_address;        // gRPC peer string, e.g. "ipv4:127.0.0.1:5000"
};

struct LocalCall {
  std::string method;  // gRPC full method name
  std::multimap<std::string, std::string> metadata;
  LocalCaller caller;
  std::string payload;
};

struct PreparedExchange {
  std::shared_ptr<const Federation> federation;
  v1::RequestHeader header;
  std::string request_header_sha256;
  v1::ExchangeRequest request;
  // The provider's security server (several addresses: gRPC fails over between them).
  FederationServer provider;
};

struct ProviderAnswer {
  absl::Status status;  // the provider service's own status
  std::string payload;
};

// A service-metadata question for a provider's security server, ready to send.
struct PreparedDescribe {
  std::shared_ptr<const Federation> federation;
  FederationServer provider;
  v1::DescribeServiceRequest request;
};

class ConsumerSide {
 public:
  ConsumerSide(const Settings& settings, const ConfigurationSource& configuration,
               const Clock& clock, ExchangeRecorder& recorder);

  // INVALID_ARGUMENT (missing/malformed renkei-* metadata), PERMISSION_DENIED (caller not
  // registered for the client subsystem), NOT_FOUND (unknown provider), UNAVAILABLE
  // (configuration expired), FAILED_PRECONDITION (no signing key for the client's member).
  absl::StatusOr<PreparedExchange> Prepare(LocalCall call) const;

  // Verifies the provider security server's answer: its TLS certificate
  // (`server_certificate_sha256`) is the one registered for it, the response header is signed
  // by the provider member and bound to our request and to the payload. UNAUTHENTICATED
  // otherwise; UNAVAILABLE when the evidence cannot be recorded. `done` gets the answer
  // once its evidence is durable (on the recorder's thread), or the refusal.
  using CompleteDone = absl::AnyInvocable<void(absl::StatusOr<ProviderAnswer>) &&>;
  void Complete(const PreparedExchange& prepared, const std::string& server_certificate_sha256,
                v1::ExchangeResponse response, CompleteDone done) const;

  // Service metadata. Every local caller must be authenticated: by a registered client
  // certificate, or in plaintext mode from loopback.
  absl::StatusOr<v1::ListClientsResponse> ListClients(const LocalCaller& caller) const;
  // `client` empty: the provider's methods only. Otherwise the caller must be registered
  // for `client`, and the answer also says which methods `client` may call.
  // The caller acts for the member that owns this security server: registered for one of its
  // subsystems (TLS), or any loopback caller in plaintext mode. PERMISSION_DENIED otherwise.
  absl::Status AuthorizeOwner(const LocalCaller& caller) const;

  absl::StatusOr<PreparedDescribe> PrepareDescribe(const LocalCaller& caller,
                                                   const std::string& client,
                                                   const std::string& service) const;

 private:
  // The checks of Complete: the verified response header.
  absl::StatusOr<v1::ResponseHeader> CheckAnswer(const PreparedExchange& prepared,
                                                 const std::string& server_certificate_sha256,
                                                 const v1::ExchangeResponse& response) const;
  absl::Status AuthorizeCaller(const LocalCaller& caller, const std::string& client) const;
  absl::Status AuthenticateCaller(const LocalCaller& caller) const;

  const Settings& settings_;
  const ConfigurationSource& configuration_;
  const Clock& clock_;
  ExchangeRecorder& recorder_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_CONSUMER_SIDE_H_
