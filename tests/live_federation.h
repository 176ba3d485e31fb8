// LiveFederation: a one-machine federation of real processes for integration tests.
//
//   JP/GOV/MHLW     (consumer) security server ss1: local endpoint with mTLS client
//                   certificates; clients child-allowance (granted) and pension (granted only
//                   test-backend's GetResident).
//   JP/MUNI/131016  (provider) security server ss1, providing
//                     resident-registry → the real sample resident-registry binary
//                     test-backend      → an in-process backend with slow and large answers
//                     tax               → an address where nothing listens
//   JP/GOV/MOJ      a registered member whose security server is not running: its
//                   authentication certificate lets tests act as "another member's server".
//
// Also holds credentials no configuration trusts (a rogue CA, an unregistered server) and
// helpers to call the provider's peer endpoint directly with crafted envelopes.
#ifndef RENKEI_TESTS_LIVE_FEDERATION_H_
#define RENKEI_TESTS_LIVE_FEDERATION_H_

#include <memory>
#include <optional>
#include <functional>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "municipal/v1/resident_registry.grpc.pb.h"
#include "renkei/v1/broker.grpc.pb.h"
#include "renkei/v1/ledger.grpc.pb.h"
#include "renkei/v1/peer.grpc.pb.h"
#include "security_server/test_federation.h"
#include "tests/process.h"

namespace renkei::testing {

inline constexpr char kGetResident[] = "/renkei.municipal.v1.ResidentRegistry/GetResident";
inline constexpr char kRegistry[] = "JP/MUNI/131016/resident-registry";
inline constexpr char kTestBackend[] = "JP/MUNI/131016/test-backend";
inline constexpr char kTax[] = "JP/MUNI/131016/tax";
inline constexpr char kAllowance[] = "JP/GOV/MHLW/child-allowance";
inline constexpr char kPension[] = "JP/GOV/MHLW/pension";
inline constexpr char kPepperHex[] =
    "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

struct LiveFederationOptions {
  int64_t max_message_bytes = 256 * 1024;
  int max_clock_skew_seconds = 60;
  // Run a broker and let the security servers follow it (otherwise: a configuration file).
  bool use_broker = false;
  int configuration_refresh_seconds = 1;
  int configuration_validity_seconds = 600;
  // Provider security server processes sharing one identity (listed as several addresses).
  int provider_replicas = 1;
  // Broker mode: also serve the resident web portal (on portal_port), over plain HTTP on
  // loopback unless portal_https.
  bool portal = false;
  bool portal_https = false;
  // Give the broker and both security servers a /metrics and /healthz endpoint.
  bool monitoring = false;
  // Broker mode: the broker advertises this port (in the anchor and as the ledger address)
  // instead of its own, so that a test can put something in between.
  int advertised_broker_port = 0;
  // Also run JP/MUNI/131016/ss2: a second, separately registered security server of the
  // provider that provides test-backend too (its own identity, message log and outbox).
  bool second_provider_server = false;
  // Run the consumer's security server under Debian's faketime with this offset (e.g.
  // "+5 minutes"), its clock that far off. Empty: the real clock.
  std::string consumer_clock_offset;
  // The provider server's bound on a backend call (0: its default).
  int provider_max_backend_call_seconds = 0;
  // The consumer server's wait for a request message after a call opens (0: its default).
  int consumer_request_read_timeout_seconds = 0;
  // Where the provider server (replica 0) keeps its message log, e.g. on a small disk the
  // test mounted. Empty: in the federation's directory.
  std::string provider_message_log_directory;
};

class InProcessBackend;

class LiveFederation {
 public:
  LiveFederation(const std::string& name, LiveFederationOptions options = {});
  ~LiveFederation();

  // Writes keys and configurations and starts every process; false (with the reason on
  // stderr) if something did not come up.
  bool Start();
  // SIGTERM to both security servers; true when both exited with status 0.
  bool StopSecurityServersGracefully();

  // A typed stub to the consumer security server's local endpoint, authenticated with
  // `client` (a certificate from the local CA).
  std::unique_ptr<municipal::v1::ResidentRegistry::Stub> LocalRegistry(
      const TestCredentials& client);
  std::shared_ptr<grpc::Channel> LocalChannel(const TestCredentials& client);
  std::shared_ptr<grpc::Channel> ProviderPeerChannelAs(const TestCredentials& authentication);
  // Client context with the renkei-* metadata of a normal call and a 10 s deadline.
  static void AddRenkeiMetadata(grpc::ClientContext& context, const std::string& client,
                                const std::string& service, const std::string& subject);

  // One HTTP request to the consumer's JSON entry (TLS, checked against the local CA),
  // presenting `client`'s certificate, or none when null.
  struct HttpAnswer {
    int status = 0;  // 0: no HTTP answer (`error` says why)
    std::string error;
    std::multimap<std::string, std::string> headers;
    std::string body;
  };
  HttpAnswer Rest(const TestCredentials* client, const std::string& method,
                  const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& body = "");
  // The Renkei-* headers of a normal JSON call (those of AddRenkeiMetadata).
  static std::vector<std::pair<std::string, std::string>> RestHeaders(
      const std::string& client, const std::string& subject);

  // A stub to the provider security server's peer endpoint, presenting `authentication`.
  std::unique_ptr<v1::PeerExchange::Stub> ProviderPeerAs(const TestCredentials& authentication);
  // The same for the provider server `server_id` listening at `port`.
  std::unique_ptr<v1::PeerExchange::Stub> PeerAs(const TestCredentials& authentication,
                                                 const std::string& server_id, int port);
  // A signed request as a consumer security server would build it.
  v1::ExchangeRequest CraftRequest(const SigningIdentity& signer, const std::string& client,
                                   const std::string& payload,
                                   absl::Time created_at = absl::Now()) const;

  // The backend saw this deadline on its last slow call (InfiniteFuture if none).
  absl::Time LastBackendDeadline() const;
  // Calls the test-backend service has received.
  int BackendCalls() const;

  // Broker mode. The admin API as `operator_credentials` (an operator-CA certificate).
  std::unique_ptr<v1::RegistryAdmin::Stub> Admin(const TestCredentials* operator_credentials);
  grpc::Status ApplyChange(const v1::RegistryChange& change);
  // The ledger's resident API, and a resident's enrolment and sign-in through it.
  std::unique_ptr<v1::ResidentAccess::Stub> Residents();
  // The anchor the broker wrote, and a channel to the broker as it says (TLS to the pinned
  // certificate), presenting `client` as TLS client certificate when not null.
  v1::ConfigurationAnchor Anchor() const;
  std::shared_ptr<grpc::Channel> BrokerChannel(const TestCredentials* client);
  grpc::Status EnrollResident(const std::string& resident_id, const PrivateKey& key);
  absl::StatusOr<std::string> SignIn(const std::string& resident_id, const PrivateKey& key);
  bool StartBroker();
  void StopBroker();
  // Stops the consumer's security server (SIGKILL) and starts it again from its files.
  bool RestartConsumer();
  // Starts the provider's security server (replica 0) from its files, killing (SIGKILL) the
  // running one first if there is one; true once it listens.
  bool StartProvider();

  // Polls `probe` until it returns true or `timeout` passes (no fixed sleeps in tests).
  static bool Eventually(const std::function<bool()>& probe,
                         absl::Duration timeout = absl::Seconds(30));

  TestFederation pki;  // federation CA, MHLW and Chiyoda signers and server credentials
  TestCredentials moj_auth;           // registered server of another member
  TestCredentials unregistered_auth;  // issued by the federation CA, never registered
  TestCredentials rogue_ca;
  TestCredentials rogue_auth;  // issued by a CA the federation does not trust
  TestCredentials local_ca, local_server, allowance_client, pension_client, stranger_client;
  std::string directory;
  std::string local_ca_file;
  int registry_port = 0, backend_port = 0, dead_port = 0;
  int provider_local_port = 0, provider_peer_port = 0;
  int consumer_local_port = 0, consumer_peer_port = 0;
  int consumer_rest_port = 0;  // the consumer's JSON entry (same TLS as its local endpoint)
  // Broker mode.
  TestCredentials operator_ca, operator_credentials, unregistered_operator, broker_admin_tls;
  TestCredentials broker_tls;  // the broker's TLS certificate (issued by the federation CA)
  TestCredentials configuration_signer;
  int broker_distribution_port = 0, broker_admin_port = 0, portal_port = 0;
  int broker_monitoring_port = 0, provider_monitoring_port = 0, consumer_monitoring_port = 0;
  std::unique_ptr<Process> broker;

  std::unique_ptr<Process> registry, consumer_ss;
  std::unique_ptr<Process> provider_ss;  // replica 0
  // With second_provider_server.
  static constexpr char kSecondProviderServer[] = "JP/MUNI/131016/ss2";
  std::optional<TestCredentials> second_provider_auth;
  std::unique_ptr<Process> second_provider_ss;
  int second_provider_peer_port = 0;
  std::vector<std::unique_ptr<Process>> provider_replicas;  // replicas 1..n-1
  std::vector<int> provider_peer_ports;
  std::string provider_log_dir, consumer_log_dir;

 private:
  bool StartEverything();
  // Fails the test with any sanitizer report in the processes' logs.
  void ReportSanitizerFindings() const;
  // Registers `global`'s CA, members, subsystems, signing certificates and servers.
  bool Register(const v1::GlobalConfiguration& global);

  LiveFederationOptions options_;
  std::unique_ptr<InProcessBackend> backend_;
};

}  // namespace renkei::testing

#endif  // RENKEI_TESTS_LIVE_FEDERATION_H_
