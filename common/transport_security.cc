#include "common/transport_security.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/certificates.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace renkei {
namespace {

using grpc::experimental::ExternalCertificateVerifier;
using grpc::experimental::IdentityKeyCertPair;
using grpc::experimental::StaticDataCertificateProvider;
using grpc::experimental::TlsCustomVerificationCheckRequest;

class FingerprintCertificateVerifier final : public ExternalCertificateVerifier {
 public:
  explicit FingerprintCertificateVerifier(FingerprintCheck check) : check_(std::move(check)) {}

  bool Verify(TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    grpc::string_ref pem = request->peer_cert();
    auto certificate = Certificate::FromPem(absl::string_view(pem.data(), pem.size()));
    if (!certificate.ok()) {
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                  "the TLS peer presented no readable certificate");
      return true;
    }
    absl::Status checked = check_(certificate->fingerprint());
    *sync_status = checked.ok() ? grpc::Status::OK
                                : grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                               std::string(checked.message()));
    return true;  // decided synchronously
  }
  void Cancel(TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  const FingerprintCheck check_;
};

}  // namespace

std::shared_ptr<grpc::experimental::CertificateVerifier> FingerprintVerifier(
    FingerprintCheck check) {
  return ExternalCertificateVerifier::Create<FingerprintCertificateVerifier>(std::move(check));
}

std::shared_ptr<grpc::ChannelCredentials> PinnedChannelCredentials(const std::string& root_pems,
                                                                   const TlsIdentity* client,
                                                                   FingerprintCheck check) {
  std::vector<IdentityKeyCertPair> identity;
  if (client != nullptr) identity.push_back({client->key_pem, client->certificate_pem});
  grpc::experimental::TlsChannelCredentialsOptions options;
  // gRPC's provider needs roots or an identity; with neither, none is set.
  if (!root_pems.empty() || client != nullptr) {
    options.set_certificate_provider(
        root_pems.empty() ? std::make_shared<StaticDataCertificateProvider>(identity)
                          : std::make_shared<StaticDataCertificateProvider>(root_pems, identity));
  }
  if (!root_pems.empty()) options.watch_root_certs();
  if (client != nullptr) options.watch_identity_key_cert_pairs();
  // Without roots, the pinned fingerprint is the whole check (the handshake proves the peer
  // holds the pinned certificate's key).
  options.set_verify_server_certs(!root_pems.empty());
  options.set_check_call_host(false);
  options.set_certificate_verifier(FingerprintVerifier(std::move(check)));
  return grpc::experimental::TlsCredentials(options);
}

std::shared_ptr<grpc::ServerCredentials> PinnedServerCredentials(
    const TlsIdentity& server, const std::string& client_root_pems, FingerprintCheck check) {
  auto provider = std::make_shared<StaticDataCertificateProvider>(
      client_root_pems,
      std::vector<IdentityKeyCertPair>{{server.key_pem, server.certificate_pem}});
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.set_check_call_host(false);
  options.set_certificate_verifier(FingerprintVerifier(std::move(check)));
  return grpc::experimental::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> BrokerChannelCredentials(
    const v1::ConfigurationAnchor& anchor, const std::string& address, const TlsIdentity* client) {
  if (anchor.broker_tls_certificate_sha256().empty()) {
    if (anchor.plaintext_loopback_only() && IsLoopbackAddress(address)) {
      return grpc::InsecureChannelCredentials();
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "the configuration anchor pins no broker TLS certificate; plaintext to the broker at ",
        address, " is allowed only for a loopback development anchor"));
  }
  std::vector<std::string> pinned(anchor.broker_tls_certificate_sha256().begin(),
                                  anchor.broker_tls_certificate_sha256().end());
  return PinnedChannelCredentials("", client, [pinned](const std::string& fingerprint) {
    if (std::find(pinned.begin(), pinned.end(), fingerprint) != pinned.end()) {
      return absl::OkStatus();
    }
    return absl::UnauthenticatedError(absl::StrCat(
        "the broker presented TLS certificate sha256 ", fingerprint,
        ", which the configuration anchor does not pin"));
  });
}

bool IsLoopbackAddress(const std::string& address) {
  // The whole host part, not a prefix: "127.0.0.1.example.org:1" is a name, not loopback.
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return false;
  const std::string host = address.substr(0, colon);
  if (host == "[::1]" || host == "localhost") return true;
  struct in_addr ipv4;
  return inet_pton(AF_INET, host.c_str(), &ipv4) == 1 && (ntohl(ipv4.s_addr) >> 24) == 127;
}

}  // namespace renkei
