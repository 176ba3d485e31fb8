// Transport security shared by every Renkei process (DESIGN.md "Trust": no plaintext off
// loopback). TLS peers are identified by the SHA-256 fingerprint of their leaf certificate,
// checked during the handshake, so that nothing is written to a peer that is not the one the
// configuration names. Thread-safe.
#ifndef RENKEI_COMMON_TRANSPORT_SECURITY_H_
#define RENKEI_COMMON_TRANSPORT_SECURITY_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "renkei/v1/config.pb.h"

namespace renkei {

// A TLS identity: certificate chain and private key, PEM. The key is a secret: never logged.
struct TlsIdentity {
  std::string certificate_pem;
  std::string key_pem;
};

// Decides whether the TLS peer whose leaf certificate has this fingerprint (lowercase hex
// SHA-256 of the DER) may complete the handshake: OK, or why not. Called on gRPC's threads
// during handshakes; must be thread-safe and must not block.
using FingerprintCheck = std::function<absl::Status(const std::string& fingerprint)>;

// A gRPC certificate verifier that runs `check` on the peer's leaf certificate.
std::shared_ptr<grpc::experimental::CertificateVerifier> FingerprintVerifier(
    FingerprintCheck check);

// Client credentials: TLS presenting `client` (if not null), accepting the server only when
// its chain verifies against `root_pems` (unless empty: then the pinning alone decides) and
// `check` accepts its leaf certificate. No host name check: the fingerprint is the identity.
std::shared_ptr<grpc::ChannelCredentials> PinnedChannelCredentials(const std::string& root_pems,
                                                                   const TlsIdentity* client,
                                                                   FingerprintCheck check);

// Server credentials presenting `server`, requiring a client certificate that chains to
// `client_root_pems` and that `check` accepts.
std::shared_ptr<grpc::ServerCredentials> PinnedServerCredentials(
    const TlsIdentity& server, const std::string& client_root_pems, FingerprintCheck check);

// Credentials for talking to the broker at `address` as `anchor` says: TLS accepting only a
// certificate the anchor pins (presenting `client` when not null), or plaintext when the
// anchor is a loopback development one and `address` is loopback. FAILED_PRECONDITION when
// the anchor pins nothing and is not a development anchor, or the address is not loopback.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> BrokerChannelCredentials(
    const v1::ConfigurationAnchor& anchor, const std::string& address, const TlsIdentity* client);

// True for "127.x.x.x:port", "[::1]:port" and "localhost:port".
bool IsLoopbackAddress(const std::string& address);

}  // namespace renkei

#endif  // RENKEI_COMMON_TRANSPORT_SECURITY_H_
