#include "tests/live_federation.h"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "common/files.h"
#include "common/text_proto.h"
#include "common/transport_security.h"
#include "common/identifiers.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "renkei/v1/config.pb.h"
#include "common/envelope.h"
#include "tools/renkeictl/pki.h"

namespace renkei::testing {

// Answers GetResident for the test-backend subsystem: "slow" waits until the call is
// cancelled (recording the deadline it was given), "big:N" answers with an N-byte name,
// anything else echoes the code back as a name.
class InProcessBackend final : public municipal::v1::ResidentRegistry::Service {
 public:
  grpc::Status GetResident(grpc::ServerContext* context,
                           const municipal::v1::GetResidentRequest* request,
                           municipal::v1::GetResidentResponse* response) override {
    ++calls_;
    const std::string& code = request->resident_code();
    if (code == "slow") {
      {
        absl::MutexLock lock(&mu_);
        last_deadline_ = absl::FromChrono(context->deadline());
      }
      absl::Time give_up = absl::Now() + absl::Seconds(10);
      while (!context->IsCancelled() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
      return grpc::Status(grpc::StatusCode::INTERNAL, "slow call was not cancelled");
    }
    if (code.rfind("big:", 0) == 0) {
      response->mutable_resident()->set_family_name_kanji(std::string(std::stoi(code.substr(4)), 'x'));
      return grpc::Status::OK;
    }
    response->mutable_resident()->set_resident_code(code);
    response->mutable_resident()->set_family_name_kanji(code);
    return grpc::Status::OK;
  }

  bool Start(int port) {
    grpc::ServerBuilder builder;
    int selected = 0;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials(),
                             &selected);
    builder.RegisterService(this);
    builder.SetMaxSendMessageSize(64 << 20);
    server_ = builder.BuildAndStart();
    return server_ != nullptr && selected == port;
  }
  ~InProcessBackend() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }
  absl::Time last_deadline() const {
    absl::MutexLock lock(&mu_);
    return last_deadline_;
  }
  int calls() const { return calls_; }

 private:
  std::unique_ptr<grpc::Server> server_;
  std::atomic<int> calls_{0};
  mutable absl::Mutex mu_;
  absl::Time last_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
};

namespace {

std::string Text(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(message, &text);
  return text;
}

void WriteOrDie(const std::string& path, const std::string& contents, mode_t mode = 0644) {
  absl::Status status = WriteFileAtomically(path, contents, mode);
  if (!status.ok()) {
    std::cerr << status << "\n";
    std::abort();
  }
}

// Writes PREFIX.pem and PREFIX.key.
void WriteCredentials(const std::string& prefix, const TestCredentials& credentials) {
  WriteOrDie(prefix + ".pem", credentials.certificate.Pem());
  WriteOrDie(prefix + ".key", credentials.key.Pem(), 0600);
}

TestCredentials IssueLocalTls(const std::string& name,
                              const TestCredentials& ca) {
  PrivateKey key = PrivateKey::GenerateP256();
  CertificateRequest request;
  request.common_name = name;
  request.dns_names = {"localhost"};
  request.ip_addresses = {"127.0.0.1"};
  return {*IssueCertificate(request, key, &ca.certificate, ca.key), key};
}

std::string Address(int port) { return absl::StrCat("127.0.0.1:", port); }

}  // namespace

LiveFederation::LiveFederation(const std::string& name, LiveFederationOptions options)
    : moj_auth(pki.IssueAuthentication("JP/GOV/MOJ/ss1", pki.ca)),
      unregistered_auth(pki.IssueAuthentication("JP/GOV/MHLW/ss9", pki.ca)),
      rogue_ca(pki.MakeCa("Rogue CA")),
      rogue_auth(pki.IssueAuthentication(TestFederation::kConsumerServer, rogue_ca)),
      local_ca(pki.MakeCa("MHLW local CA")),
      local_server(IssueLocalTls("mhlw-ss1-local", local_ca)),
      allowance_client(IssueLocalTls("child-allowance-system", local_ca)),
      pension_client(IssueLocalTls("pension-system", local_ca)),
      stranger_client(IssueLocalTls("unregistered-system", local_ca)),
      directory(ScratchDirectory(name)),
      operator_ca(pki.MakeCa("Operators CA")),
      operator_credentials(IssueLocalTls("operator tanaka", operator_ca)),
      unregistered_operator(IssueLocalTls("operator without registration", operator_ca)),
      broker_admin_tls(IssueLocalTls("broker admin", operator_ca)),
      broker_tls(IssueLocalTls("renkei broker", pki.ca)),
      configuration_signer(pki.IssueSigning("JP/BROKER/configuration", pki.ca)),
      options_(options) {}

LiveFederation::~LiveFederation() {
  // Stop every process, then free the stores (RocksDB preallocates tens of MB per log): a
  // test run starts dozens of federations.
  broker.reset();
  consumer_ss.reset();
  provider_ss.reset();
  provider_replicas.clear();
  second_provider_ss.reset();
  registry.reset();
  backend_.reset();
  ReportSanitizerFindings();
  std::error_code ignored;
  std::filesystem::remove_all(directory, ignored);
}

void LiveFederation::ReportSanitizerFindings() const {
  // In a sanitizer build a finding aborts the server that made it; the test then sees only
  // a closed connection. The finding itself is in that server's log, which goes with the
  // directory: it is shown here, and fails the test.
  static constexpr const char* kFindings[] = {"ThreadSanitizer", "AddressSanitizer",
                                              "LeakSanitizer", "runtime error:"};
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (entry.path().extension() != ".log") continue;
    auto log = ReadFile(entry.path().string());
    if (!log.ok()) continue;
    for (const char* finding : kFindings) {
      size_t at = log->find(finding);
      if (at == std::string::npos) continue;
      ADD_FAILURE() << "sanitizer finding in " << entry.path().filename() << ":\n"
                    << log->substr(at, 12000);
      break;
    }
  }
}

bool LiveFederation::Eventually(const std::function<bool()>& probe, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (probe()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return probe();
}

bool LiveFederation::Start() {
  const bool started = StartEverything();
  if (!started) {
    // What the processes said, before the destructor removes their folder.
    for (const char* log : {"broker.log", "registry.log", "chiyoda-ss-0.log", "mhlw-ss.log"}) {
      std::ifstream in(directory + "/" + log);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (text.size() > 4000) text = text.substr(text.size() - 4000);
      std::cerr << "---- " << log << " (end) ----\n" << text << "\n";
    }
  }
  return started;
}

bool LiveFederation::StartEverything() {
  registry_port = FreePort();
  backend_port = FreePort();
  dead_port = FreePort();
  provider_local_port = FreePort();
  consumer_local_port = FreePort();
  consumer_rest_port = FreePort();
  consumer_peer_port = FreePort();
  for (int i = 0; i < options_.provider_replicas; ++i) provider_peer_ports.push_back(FreePort());
  provider_peer_port = provider_peer_ports[0];

  const std::string d = directory + "/";
  WriteCredentials(d + "chiyoda-auth", pki.provider_server);
  WriteCredentials(d + "mhlw-auth", pki.consumer_server);
  WriteCredentials(d + "chiyoda-signing",
                   {pki.provider_signer.certificate, pki.provider_signer.key});
  WriteCredentials(d + "mhlw-signing", {pki.consumer_signer.certificate, pki.consumer_signer.key});
  WriteCredentials(d + "mhlw-local", local_server);
  local_ca_file = d + "local-ca.pem";
  WriteOrDie(local_ca_file, local_ca.certificate.Pem());
  WriteOrDie(d + "pepper", std::string(kPepperHex), 0600);

  // The federation: the TestFederation's members and servers, plus this harness's.
  v1::GlobalConfiguration global = pki.configuration;
  global.mutable_limits()->set_max_message_bytes(options_.max_message_bytes);
  global.mutable_limits()->set_max_clock_skew_seconds(options_.max_clock_skew_seconds);
  for (v1::Member& member : *global.mutable_members()) {
    if (member.id() == TestFederation::kProviderMember) {
      member.add_subsystems("test-backend");
      member.add_subsystems("tax");
    } else {
      member.add_subsystems("pension");
    }
  }
  v1::Member* moj = global.add_members();
  moj->set_id("JP/GOV/MOJ");
  moj->set_name("法務省");
  moj->add_subsystems("family-register");
  for (v1::SecurityServer& server : *global.mutable_security_servers()) {
    server.clear_addresses();
    if (server.id() == TestFederation::kProviderServer) {
      for (int port : provider_peer_ports) server.add_addresses(Address(port));
      server.add_provides(kTestBackend);
      server.add_provides(kTax);
    } else {
      server.add_addresses(Address(consumer_peer_port));
    }
  }
  if (options_.second_provider_server) {
    second_provider_auth.emplace(pki.IssueAuthentication(kSecondProviderServer, pki.ca));
    second_provider_peer_port = FreePort();
    v1::SecurityServer* second = global.add_security_servers();
    second->set_id(kSecondProviderServer);
    second->add_addresses(Address(second_provider_peer_port));
    second->set_authentication_certificate_sha256(second_provider_auth->certificate.fingerprint());
    second->add_provides(kTestBackend);
  }
  v1::SecurityServer* moj_server = global.add_security_servers();
  moj_server->set_id("JP/GOV/MOJ/ss1");
  moj_server->add_addresses(Address(FreePort()));
  moj_server->set_authentication_certificate_sha256(moj_auth.certificate.fingerprint());

  // Where the security servers get it from.
  auto set_source = [&](v1::SecurityServerConfig& config) {
    if (options_.use_broker) {
      config.set_configuration_anchor_file(d + "broker-anchor.textproto");
      config.set_configuration_refresh_seconds(options_.configuration_refresh_seconds);
    } else {
      config.set_global_configuration_file("global.textproto");
    }
  };
  if (options_.use_broker) {
    if (!StartBroker()) {
      std::cerr << "the broker did not start\n";
      return false;
    }
    if (!Register(global)) return false;
  } else {
    WriteOrDie(d + "global.textproto", Text(global));
  }

  v1::SecurityServerConfig provider;
  provider.set_server_id(TestFederation::kProviderServer);
  set_source(provider);
  provider.mutable_local()->set_plaintext_loopback_only(true);
  provider.mutable_peer()->set_authentication_certificate_file("chiyoda-auth.pem");
  provider.mutable_peer()->set_authentication_key_file("chiyoda-auth.key");
  auto* provider_key = provider.add_signing_keys();
  provider_key->set_member(TestFederation::kProviderMember);
  provider_key->set_certificate_file("chiyoda-signing.pem");
  provider_key->set_key_file("chiyoda-signing.key");
  auto provide = [&](const char* subsystem, int port) {
    auto* service = provider.add_provided_services();
    service->set_subsystem(subsystem);
    service->set_backend_address(Address(port));
    auto* right = provider.add_access_rights();
    right->set_client(kAllowance);
    right->set_service(subsystem);
    right->set_method(subsystem == std::string(kRegistry) ? kGetResident : "*");
  };
  provide(kRegistry, registry_port);
  provide(kTestBackend, backend_port);
  provide(kTax, dead_port);
  provider.mutable_provided_services(0)->add_methods(kGetResident);
  // The registry answers reflection; the in-process test backend does not, so its
  // descriptors come from a file, as protoc --include_imports --descriptor_set_out makes it.
  google::protobuf::FileDescriptorSet descriptors;
  std::vector<const google::protobuf::FileDescriptor*> files = {
      municipal::v1::GetResidentRequest::descriptor()->file()};
  for (size_t i = 0; i < files.size(); ++i) {
    for (int j = 0; j < files[i]->dependency_count(); ++j) {
      if (std::find(files.begin(), files.end(), files[i]->dependency(j)) == files.end()) {
        files.push_back(files[i]->dependency(j));
      }
    }
  }
  for (auto it = files.rbegin(); it != files.rend(); ++it) (*it)->CopyTo(descriptors.add_file());
  WriteOrDie(d + "test-backend.descriptors", descriptors.SerializeAsString());
  provider.mutable_provided_services(1)->set_descriptor_set_file("test-backend.descriptors");
  // The pension system may call exactly one method of the test backend: what attacks on
  // method names try to widen.
  auto* pension_right = provider.add_access_rights();
  pension_right->set_client(kPension);
  pension_right->set_service(kTestBackend);
  pension_right->set_method(kGetResident);
  // A grant to another member's client, of a method the registry does not declare: no one
  // else may learn of it through service metadata.
  auto* moj_right = provider.add_access_rights();
  moj_right->set_client("JP/GOV/MOJ/family-register");
  moj_right->set_service(kRegistry);
  moj_right->set_method("/renkei.municipal.v1.ResidentRegistry/GetHouseholdSummary");
  provider.set_pseudonym_pepper_file("pepper");
  provider.set_max_backend_call_seconds(options_.provider_max_backend_call_seconds);
  if (options_.monitoring) {
    provider_monitoring_port = FreePort();
    provider.set_monitoring_listen_address(Address(provider_monitoring_port));
  }
  provider_log_dir = options_.provider_message_log_directory.empty()
                         ? d + "chiyoda-message-log"
                         : options_.provider_message_log_directory;
  std::vector<int> provider_local_ports = {provider_local_port};
  for (int i = 0; i < options_.provider_replicas; ++i) {
    if (i > 0) provider_local_ports.push_back(FreePort());
    provider.mutable_local()->set_listen_address(Address(provider_local_ports[i]));
    provider.mutable_peer()->set_listen_address(Address(provider_peer_ports[i]));
    provider.mutable_message_log()->set_directory(i == 0 ? provider_log_dir
                                                         : absl::StrCat(provider_log_dir, "-", i));
    provider.set_configuration_cache_file(absl::StrCat(d, "chiyoda-", i, ".cache"));
    WriteOrDie(absl::StrCat(d, "chiyoda-", i, ".textproto"), Text(provider));
  }

  if (options_.second_provider_server) {
    WriteCredentials(d + "chiyoda-ss2-auth", *second_provider_auth);
    v1::SecurityServerConfig second = provider;
    second.set_server_id(kSecondProviderServer);
    second.mutable_local()->set_listen_address(Address(FreePort()));
    second.mutable_peer()->set_listen_address(Address(second_provider_peer_port));
    second.mutable_peer()->set_authentication_certificate_file("chiyoda-ss2-auth.pem");
    second.mutable_peer()->set_authentication_key_file("chiyoda-ss2-auth.key");
    second.mutable_message_log()->set_directory(d + "chiyoda-ss2-message-log");
    second.set_configuration_cache_file(d + "chiyoda-ss2.cache");
    second.clear_monitoring_listen_address();
    WriteOrDie(d + "chiyoda-ss2.textproto", Text(second));
  }

  v1::SecurityServerConfig consumer;
  consumer.set_server_id(TestFederation::kConsumerServer);
  set_source(consumer);
  consumer.set_configuration_cache_file(d + "mhlw.cache");
  consumer.mutable_local()->set_listen_address(Address(consumer_local_port));
  consumer.mutable_local()->set_rest_listen_address(Address(consumer_rest_port));
  consumer.mutable_local()->set_tls_certificate_file("mhlw-local.pem");
  consumer.mutable_local()->set_tls_key_file("mhlw-local.key");
  consumer.mutable_local()->set_client_ca_file("local-ca.pem");
  consumer.mutable_local()->set_request_read_timeout_seconds(
      options_.consumer_request_read_timeout_seconds);
  consumer.mutable_peer()->set_listen_address(Address(consumer_peer_port));
  consumer.mutable_peer()->set_authentication_certificate_file("mhlw-auth.pem");
  consumer.mutable_peer()->set_authentication_key_file("mhlw-auth.key");
  auto* consumer_key = consumer.add_signing_keys();
  consumer_key->set_member(TestFederation::kConsumerMember);
  consumer_key->set_certificate_file("mhlw-signing.pem");
  consumer_key->set_key_file("mhlw-signing.key");
  auto* allowance = consumer.add_local_clients();
  allowance->set_subsystem(kAllowance);
  allowance->set_certificate_sha256(allowance_client.certificate.fingerprint());
  auto* pension = consumer.add_local_clients();
  pension->set_subsystem(kPension);
  pension->set_certificate_sha256(pension_client.certificate.fingerprint());
  consumer_log_dir = d + "mhlw-message-log";
  consumer.mutable_message_log()->set_directory(consumer_log_dir);
  consumer.mutable_message_log()->set_store_bodies(true);
  if (options_.monitoring) {
    consumer_monitoring_port = FreePort();
    consumer.set_monitoring_listen_address(Address(consumer_monitoring_port));
  }
  WriteOrDie(d + "mhlw.textproto", Text(consumer));

  backend_ = std::make_unique<InProcessBackend>();
  if (!backend_->Start(backend_port)) {
    std::cerr << "in-process backend could not listen\n";
    return false;
  }
  registry = std::make_unique<Process>(Runfile("deploy/demo/resident-registry"),
                                       std::vector<std::string>{"--listen", Address(registry_port)},
                                       d + "registry.log");
  const std::string server = Runfile("security_server/renkei-security-server");
  for (int i = 0; i < options_.provider_replicas; ++i) {
    auto process = std::make_unique<Process>(
        server, std::vector<std::string>{"--config", absl::StrCat(d, "chiyoda-", i, ".textproto")},
        absl::StrCat(d, "chiyoda-ss-", i, ".log"));
    if (i == 0) {
      provider_ss = std::move(process);
    } else {
      provider_replicas.push_back(std::move(process));
    }
  }
  if (options_.second_provider_server) {
    second_provider_ss = std::make_unique<Process>(
        server, std::vector<std::string>{"--config", d + "chiyoda-ss2.textproto"},
        d + "chiyoda-ss2.log");
  }
  std::vector<int> ports = {registry_port, consumer_local_port, consumer_peer_port};
  if (options_.second_provider_server) ports.push_back(second_provider_peer_port);
  ports.insert(ports.end(), provider_local_ports.begin(), provider_local_ports.end());
  ports.insert(ports.end(), provider_peer_ports.begin(), provider_peer_ports.end());
  if (!RestartConsumer()) {
    std::cerr << "the consumer's security server did not start\n";
    return false;
  }
  for (int port : ports) {
    if (!WaitForPort(port)) {
      std::cerr << "nothing listens on port " << port << "; logs in " << directory << "\n";
      return false;
    }
  }
  return true;
}

bool LiveFederation::StartProvider() {
  if (provider_ss) {
    provider_ss->Signal(SIGKILL);
    provider_ss->Wait(10);
  }
  const std::string d = directory + "/";
  provider_ss = std::make_unique<Process>(
      Runfile("security_server/renkei-security-server"),
      std::vector<std::string>{"--config", d + "chiyoda-0.textproto"}, d + "chiyoda-ss-0.log");
  return WaitForPort(provider_peer_port);
}

bool LiveFederation::RestartConsumer() {
  if (consumer_ss) {
    consumer_ss->Signal(SIGKILL);
    consumer_ss->Wait(10);
  }
  const std::string d = directory + "/";
  const std::string server = Runfile("security_server/renkei-security-server");
  if (options_.consumer_clock_offset.empty()) {
    consumer_ss = std::make_unique<Process>(
        server, std::vector<std::string>{"--config", d + "mhlw.textproto"}, d + "mhlw-ss.log");
  } else {
    consumer_ss = std::make_unique<Process>(
        "/usr/bin/faketime",
        std::vector<std::string>{options_.consumer_clock_offset, server, "--config",
                                 d + "mhlw.textproto"},
        d + "mhlw-ss.log");
  }
  return WaitForPort(consumer_local_port) && WaitForPort(consumer_rest_port) &&
         WaitForPort(consumer_peer_port);
}

bool LiveFederation::StartBroker() {
  const std::string d = directory + "/";
  if (broker_distribution_port == 0) {
    broker_distribution_port = FreePort();
    broker_admin_port = FreePort();
    WriteCredentials(d + "broker-admin", broker_admin_tls);
    WriteCredentials(d + "broker-tls", broker_tls);
    WriteCredentials(d + "broker-config-signing", configuration_signer);
    WriteOrDie(d + "operator-ca.pem", operator_ca.certificate.Pem());
    v1::BrokerConfig config;
    config.set_instance("JP");
    config.set_data_directory(d + "broker-data");
    config.set_distribution_listen_address(Address(broker_distribution_port));
    if (options_.advertised_broker_port != 0) {
      config.add_advertised_distribution_addresses(Address(options_.advertised_broker_port));
    }
    config.set_tls_certificate_file("broker-tls.pem");
    config.set_tls_key_file("broker-tls.key");
    config.set_admin_listen_address(Address(broker_admin_port));
    config.set_admin_tls_certificate_file("broker-admin.pem");
    config.set_admin_tls_key_file("broker-admin.key");
    config.set_operator_ca_file("operator-ca.pem");
    auto* op = config.add_operators();
    op->set_name("tanaka");
    op->set_certificate_sha256(operator_credentials.certificate.fingerprint());
    config.set_configuration_signing_certificate_file("broker-config-signing.pem");
    config.set_configuration_signing_key_file("broker-config-signing.key");
    config.set_configuration_validity_seconds(options_.configuration_validity_seconds);
    config.mutable_limits()->set_max_message_bytes(options_.max_message_bytes);
    config.mutable_limits()->set_max_clock_skew_seconds(options_.max_clock_skew_seconds);
    config.set_anchor_file("broker-anchor.textproto");
    config.set_ledger_directory(d + "broker-ledger");
    config.set_pseudonym_pepper_file("pepper");
    config.set_tree_head_interval_seconds(1);
    if (options_.portal) {
      portal_port = FreePort();
      config.set_portal_listen_address(Address(portal_port));
      config.set_portal_plaintext_loopback_only(!options_.portal_https);
    }
    if (options_.monitoring) {
      broker_monitoring_port = FreePort();
      config.set_monitoring_listen_address(Address(broker_monitoring_port));
    }
    WriteOrDie(d + "broker.textproto", Text(config));
  }
  broker = std::make_unique<Process>(Runfile("broker/renkei-broker"),
                                     std::vector<std::string>{"--config", d + "broker.textproto"},
                                     d + "broker.log");
  return WaitForPort(broker_distribution_port) && WaitForPort(broker_admin_port) &&
         (portal_port == 0 || WaitForPort(portal_port));
}

void LiveFederation::StopBroker() {
  broker->Signal(SIGTERM);
  broker->Wait(20);
}

std::unique_ptr<v1::RegistryAdmin::Stub> LiveFederation::Admin(
    const TestCredentials* credentials) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = operator_ca.certificate.Pem();
  if (credentials != nullptr) {
    tls.pem_cert_chain = credentials->certificate.Pem();
    tls.pem_private_key = credentials->key.Pem();
  }
  return v1::RegistryAdmin::NewStub(
      grpc::CreateChannel(Address(broker_admin_port), grpc::SslCredentials(tls)));
}

v1::ConfigurationAnchor LiveFederation::Anchor() const {
  v1::ConfigurationAnchor anchor;
  absl::Status loaded = LoadTextProtoFile(directory + "/broker-anchor.textproto", &anchor);
  if (!loaded.ok()) std::cerr << loaded << "\n";
  return anchor;
}

std::shared_ptr<grpc::Channel> LiveFederation::BrokerChannel(const TestCredentials* client) {
  const std::string address = Address(broker_distribution_port);
  TlsIdentity identity;
  if (client != nullptr) identity = {client->certificate.Pem(), client->key.Pem()};
  auto credentials = BrokerChannelCredentials(Anchor(), address, client ? &identity : nullptr);
  if (!credentials.ok()) {
    std::cerr << credentials.status() << "\n";
    std::abort();
  }
  return grpc::CreateChannel(address, *credentials);
}

std::unique_ptr<v1::ResidentAccess::Stub> LiveFederation::Residents() {
  return v1::ResidentAccess::NewStub(BrokerChannel(nullptr));
}

grpc::Status LiveFederation::EnrollResident(const std::string& resident_id, const PrivateKey& key) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::EnrollResidentRequest request;
  request.set_resident_id(resident_id);
  request.set_public_key_pem(key.PublicKeyPem());
  v1::EnrollResidentResponse response;
  return Admin(&operator_credentials)->EnrollResident(&context, request, &response);
}

absl::StatusOr<std::string> LiveFederation::SignIn(const std::string& resident_id,
                                                   const PrivateKey& key) {
  auto residents = Residents();
  grpc::ClientContext challenge_context;
  v1::ChallengeRequest challenge_request;
  challenge_request.set_resident_id(resident_id);
  v1::ChallengeResponse challenge;
  grpc::Status status = residents->Challenge(&challenge_context, challenge_request, &challenge);
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  v1::SignInRequest request;
  request.set_resident_id(resident_id);
  request.set_challenge(challenge.challenge());
  request.set_signature(*key.Sign(challenge.challenge()));
  grpc::ClientContext context;
  v1::SignInResponse session;
  status = residents->SignIn(&context, request, &session);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return session.session_token();
}

grpc::Status LiveFederation::ApplyChange(const v1::RegistryChange& change) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::ApplyChangeResponse response;
  return Admin(&operator_credentials)->ApplyChange(&context, change, &response);
}

bool LiveFederation::Register(const v1::GlobalConfiguration& global) {
  std::vector<v1::RegistryChange> changes;
  changes.emplace_back().mutable_add_trusted_ca()->set_certificate_pem(pki.ca.certificate.Pem());
  for (const v1::Member& member : global.members()) {
    auto* add = changes.emplace_back().mutable_add_member();
    add->set_id(member.id());
    add->set_name(member.name());
    for (const std::string& code : member.subsystems()) {
      changes.emplace_back().mutable_add_subsystem()->set_id(member.id() + "/" + code);
    }
  }
  for (const SigningIdentity* signer : {&pki.consumer_signer, &pki.provider_signer}) {
    auto* add = changes.emplace_back().mutable_add_signing_certificate();
    add->set_member(ToString(signer->member));
    add->set_certificate_pem(signer->certificate.Pem());
  }
  for (const v1::SecurityServer& server : global.security_servers()) {
    *changes.emplace_back().mutable_put_security_server()->mutable_server() = server;
  }
  for (const v1::RegistryChange& change : changes) {
    grpc::Status status = ApplyChange(change);
    if (!status.ok()) {
      std::cerr << "registration refused: " << status.error_message() << "\n";
      return false;
    }
  }
  return true;
}

bool LiveFederation::StopSecurityServersGracefully() {
  std::vector<Process*> servers = {consumer_ss.get(), provider_ss.get()};
  for (auto& replica : provider_replicas) servers.push_back(replica.get());
  for (Process* server : servers) server->Signal(SIGTERM);
  bool clean = true;
  for (Process* server : servers) {
    int status = server->Wait(20);
    clean = clean && status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return clean;
}

std::unique_ptr<municipal::v1::ResidentRegistry::Stub> LiveFederation::LocalRegistry(
    const TestCredentials& client) {
  return municipal::v1::ResidentRegistry::NewStub(LocalChannel(client));
}

std::shared_ptr<grpc::Channel> LiveFederation::LocalChannel(const TestCredentials& client) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = local_ca.certificate.Pem();
  tls.pem_cert_chain = client.certificate.Pem();
  tls.pem_private_key = client.key.Pem();
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(Address(consumer_local_port), grpc::SslCredentials(tls), args);
}

LiveFederation::HttpAnswer LiveFederation::Rest(
    const TestCredentials* client, const std::string& method, const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  // A server that refuses a connection mid-request must not kill the test with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<httplib::SSLClient> http;
  if (client == nullptr) {
    http = std::make_unique<httplib::SSLClient>("127.0.0.1", consumer_rest_port);
  } else {
    const std::string prefix =
        absl::StrCat(directory, "/rest-client-", client->certificate.fingerprint().substr(0, 16));
    WriteCredentials(prefix, *client);
    http = std::make_unique<httplib::SSLClient>("127.0.0.1", consumer_rest_port, prefix + ".pem",
                                                prefix + ".key");
  }
  http->set_ca_cert_path(local_ca_file.c_str());
  http->enable_server_certificate_verification(true);
  http->set_read_timeout(120, 0);
  httplib::Headers sent;
  for (const auto& [name, value] : headers) sent.emplace(name, value);
  httplib::Result result = method == "GET" ? http->Get(path.c_str(), sent)
                                           : http->Post(path.c_str(), sent, body, "application/json");
  HttpAnswer answer;
  if (!result) {
    answer.error = httplib::to_string(result.error());
    return answer;
  }
  answer.status = result->status;
  answer.headers.insert(result->headers.begin(), result->headers.end());
  answer.body = result->body;
  return answer;
}

std::vector<std::pair<std::string, std::string>> LiveFederation::RestHeaders(
    const std::string& client, const std::string& subject) {
  return {{"Renkei-Client", client},
          {"Renkei-Subject", subject},
          {"Renkei-Purpose", "integration-test"},
          {"Renkei-User", "official-0042"}};
}

void LiveFederation::AddRenkeiMetadata(grpc::ClientContext& context, const std::string& client,
                                       const std::string& service, const std::string& subject) {
  context.AddMetadata("renkei-client", client);
  context.AddMetadata("renkei-service", service);
  context.AddMetadata("renkei-subject", subject);
  context.AddMetadata("renkei-purpose", "integration-test");
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

std::unique_ptr<v1::PeerExchange::Stub> LiveFederation::ProviderPeerAs(
    const TestCredentials& authentication) {
  return v1::PeerExchange::NewStub(ProviderPeerChannelAs(authentication));
}

std::unique_ptr<v1::PeerExchange::Stub> LiveFederation::PeerAs(
    const TestCredentials& authentication, const std::string& server_id, int port) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = pki.ca.certificate.Pem();
  tls.pem_cert_chain = authentication.certificate.Pem();
  tls.pem_private_key = authentication.key.Pem();
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(SecurityServerTlsName(*ParseSecurityServerId(server_id)));
  return v1::PeerExchange::NewStub(
      grpc::CreateCustomChannel(Address(port), grpc::SslCredentials(tls), args));
}

std::shared_ptr<grpc::Channel> LiveFederation::ProviderPeerChannelAs(
    const TestCredentials& authentication) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = pki.ca.certificate.Pem();
  tls.pem_cert_chain = authentication.certificate.Pem();
  tls.pem_private_key = authentication.key.Pem();
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(
      SecurityServerTlsName(*ParseSecurityServerId(TestFederation::kProviderServer)));
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(Address(provider_peer_port), grpc::SslCredentials(tls), args);
}

v1::ExchangeRequest LiveFederation::CraftRequest(const SigningIdentity& signer,
                                                 const std::string& client,
                                                 const std::string& payload,
                                                 absl::Time created_at) const {
  v1::RequestHeader header;
  header.set_message_id(NewMessageId());
  *header.mutable_created_at() = ToTimestamp(created_at);
  *header.mutable_client() = *ParseSubsystemId(client);
  *header.mutable_service() = *ParseSubsystemId(kTestBackend);
  header.set_method(kGetResident);
  header.add_subjects("131016-0001");
  header.set_purpose("integration-test");
  header.set_payload_sha256(Sha256(payload));
  v1::ExchangeRequest request;
  *request.mutable_request() = *SignHeader(SignedType::kRequestHeader, header.SerializeAsString(), signer);
  request.set_payload(payload);
  return request;
}

absl::Time LiveFederation::LastBackendDeadline() const { return backend_->last_deadline(); }

int LiveFederation::BackendCalls() const { return backend_->calls(); }

}  // namespace renkei::testing
