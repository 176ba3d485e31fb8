#include "broker/broker.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/certificates.h"
#include "common/server_limits.h"
#include "common/transport_security.h"
#include "common/typed_signature.h"
#include "common/files.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/text_proto.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace renkei {
namespace {

constexpr int64_t kDefaultValiditySeconds = 600;

absl::Status Invalid(const std::string& path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

absl::StatusOr<std::unique_ptr<grpc::Server>> Listen(
    const std::vector<grpc::Service*>& services, const std::string& what,
    const std::string& address, std::shared_ptr<grpc::ServerCredentials> credentials) {
  grpc::ServerBuilder builder;
  ApplyServerLimits(builder);
  int port = 0;
  builder.AddListeningPort(address, std::move(credentials), &port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", what, " address ", address));
  }
  Log(LogLevel::kInfo, "broker", absl::StrCat(what, " endpoint listening on ", address));
  return server;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Broker>> Broker::Start(const std::string& path) {
  std::unique_ptr<Broker> b(new Broker());
  v1::BrokerConfig& c = b->config_;
  RENKEI_RETURN_IF_ERROR(LoadTextProtoFile(path, &c));
  if (c.instance().empty()) return Invalid(path, "instance is required");
  for (const char* field : {"data_directory", "distribution_listen_address",
                            "admin_listen_address", "admin_tls_certificate_file",
                            "admin_tls_key_file", "operator_ca_file",
                            "configuration_signing_certificate_file",
                            "configuration_signing_key_file", "ledger_directory",
                            "pseudonym_pepper_file"}) {
    const auto* descriptor = c.GetDescriptor()->FindFieldByName(field);
    if (c.GetReflection()->GetString(c, descriptor).empty()) {
      return Invalid(path, absl::StrCat(field, " is required"));
    }
  }
  if (c.plaintext_loopback_only()) {
    if (!IsLoopbackAddress(c.distribution_listen_address())) {
      return Invalid(path, "plaintext_loopback_only needs a loopback distribution_listen_address");
    }
  } else if (c.tls_certificate_file().empty() || c.tls_key_file().empty()) {
    return Invalid(path, "tls_certificate_file and tls_key_file are required (or, for "
                         "development on loopback only, plaintext_loopback_only)");
  }
  for (std::string* file :
       {c.mutable_tls_certificate_file(), c.mutable_tls_key_file(),
        c.mutable_data_directory(), c.mutable_admin_tls_certificate_file(),
        c.mutable_admin_tls_key_file(), c.mutable_operator_ca_file(),
        c.mutable_configuration_signing_certificate_file(),
        c.mutable_configuration_signing_key_file(), c.mutable_anchor_file(),
        c.mutable_ledger_directory(), c.mutable_pseudonym_pepper_file()}) {
    *file = ResolvePath(path, *file);
  }
  std::map<std::string, std::string> operators;
  for (const v1::Operator& op : c.operators()) {
    if (op.name().empty() || op.certificate_sha256().size() != 64) {
      return Invalid(path, "each operator needs a name and a 64-hex-digit certificate_sha256");
    }
    operators[op.certificate_sha256()] = op.name();
  }
  if (operators.empty()) return Invalid(path, "at least one operator is required");

  RENKEI_ASSIGN_OR_RETURN(Certificate signing_certificate,
                          Certificate::FromPemFile(c.configuration_signing_certificate_file()));
  RENKEI_ASSIGN_OR_RETURN(PrivateKey signing_key,
                          PrivateKey::FromPemFile(c.configuration_signing_key_file()));
  if (!CheckKeyMatchesCertificate(signing_key, signing_certificate).ok()) {
    return Invalid(path, "configuration signing key does not match its certificate");
  }
  RENKEI_ASSIGN_OR_RETURN(PrivateKey admin_tls_key,
                          PrivateKey::FromPemFile(c.admin_tls_key_file()));
  const std::string admin_key = admin_tls_key.Pem();
  TlsIdentity broker_tls;
  std::string tls_fingerprint;
  if (!c.plaintext_loopback_only()) {
    RENKEI_ASSIGN_OR_RETURN(Certificate tls_certificate,
                            Certificate::FromPemFile(c.tls_certificate_file()));
    RENKEI_ASSIGN_OR_RETURN(PrivateKey tls_key, PrivateKey::FromPemFile(c.tls_key_file()));
    if (!CheckKeyMatchesCertificate(tls_key, tls_certificate).ok()) {
      return Invalid(path, "tls_key_file does not match tls_certificate_file");
    }
    broker_tls = {tls_certificate.Pem(), tls_key.Pem()};
    tls_fingerprint = tls_certificate.fingerprint();
  }
  RENKEI_ASSIGN_OR_RETURN(Certificate admin_certificate,
                          Certificate::FromPemFile(c.admin_tls_certificate_file()));
  RENKEI_ASSIGN_OR_RETURN(Certificate operator_ca, Certificate::FromPemFile(c.operator_ca_file()));

  RENKEI_ASSIGN_OR_RETURN(b->store_, RegistryStore::Open(c.data_directory(), c.instance(), c.limits()));
  absl::Duration validity = absl::Seconds(c.configuration_validity_seconds() > 0
                                              ? c.configuration_validity_seconds()
                                              : kDefaultValiditySeconds);
  std::vector<std::string> advertised(c.advertised_distribution_addresses().begin(),
                                      c.advertised_distribution_addresses().end());
  if (advertised.empty()) advertised.push_back(c.distribution_listen_address());
  // The tree heads are signed with the configuration-signing key: the anchor that security
  // servers and residents' verifiers already hold then also authenticates the ledger.
  RENKEI_ASSIGN_OR_RETURN(Pseudonymizer pseudonymizer,
                          Pseudonymizer::FromFile(c.pseudonym_pepper_file()));
  b->pseudonymizer_ = std::make_unique<Pseudonymizer>(std::move(pseudonymizer));
  absl::Duration tree_head_interval =
      absl::Seconds(c.tree_head_interval_seconds() > 0 ? c.tree_head_interval_seconds() : 5);
  RENKEI_ASSIGN_OR_RETURN(b->ledger_, AccessLedger::Open(c.ledger_directory(), signing_key,
                                                         tree_head_interval, b->clock_));
  b->health_probe_key_ = std::make_unique<PrivateKey>(signing_key);
  b->health_probe_certificate_ = std::make_unique<Certificate>(signing_certificate);
  b->metrics_ = std::make_unique<BrokerMetrics>(b->metrics_registry_);
  b->publisher_ = std::make_unique<ConfigurationPublisher>(
      *b->store_, std::move(signing_key), validity, b->clock_, advertised);

  if (!c.anchor_file().empty()) {
    v1::ConfigurationAnchor anchor;
    anchor.set_instance(c.instance());
    for (const std::string& address : advertised) anchor.add_broker_addresses(address);
    anchor.set_configuration_signing_certificate_pem(signing_certificate.Pem());
    if (c.plaintext_loopback_only()) {
      anchor.set_plaintext_loopback_only(true);
    } else {
      anchor.add_broker_tls_certificate_sha256(tls_fingerprint);
    }
    std::string text;
    google::protobuf::TextFormat::PrintToString(anchor, &text);
    RENKEI_RETURN_IF_ERROR(WriteFileAtomically(c.anchor_file(), text, 0644));
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  b->distribution_ = std::make_unique<DistributionService>(*b->publisher_);
  b->ledger_service_ = std::make_unique<LedgerService>(
      *b->ledger_, *b->store_, *b->health_probe_key_, *b->pseudonymizer_,
      !c.plaintext_loopback_only(), b->clock_, *b->metrics_);
  b->resident_service_ = std::make_unique<ResidentService>(*b->ledger_, *b->pseudonymizer_,
                                                           b->clock_, *b->metrics_);
  // TLS for everyone; a client certificate is asked for (security servers shipping records
  // present their authentication certificate, which the ledger matches against the
  // registry) but not required (residents and configuration fetches have none).
  std::shared_ptr<grpc::ServerCredentials> distribution_credentials;
  if (c.plaintext_loopback_only()) {
    distribution_credentials = grpc::InsecureServerCredentials();
  } else {
    grpc::SslServerCredentialsOptions options(
        GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
    options.pem_key_cert_pairs.push_back({broker_tls.key_pem, broker_tls.certificate_pem});
    distribution_credentials = grpc::SslServerCredentials(options);
  }
  RENKEI_ASSIGN_OR_RETURN(b->distribution_server_,
                          Listen({b->distribution_.get(), b->ledger_service_.get(),
                                  b->resident_service_.get()},
                                 "distribution",
                                 c.distribution_listen_address(),
                                 std::move(distribution_credentials)));
  b->admin_ = std::make_unique<AdminService>(*b->store_, *b->ledger_, *b->pseudonymizer_,
                                             std::move(operators), b->clock_, *b->metrics_);
  grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = operator_ca.Pem();
  tls.pem_key_cert_pairs.push_back({admin_key, admin_certificate.Pem()});
  RENKEI_ASSIGN_OR_RETURN(b->admin_server_,
                          Listen({b->admin_.get()}, "admin", c.admin_listen_address(),
                                 grpc::SslServerCredentials(tls)));
  b->UpdateHealth();
  MetricsRegistry& r = b->metrics_registry_;
  Broker* broker = b.get();
  r.AddComputedGauge("renkei_broker_ledger_records", "Access records in the ledger.",
                     [broker] { return static_cast<double>(broker->ledger_->size()); });
  r.AddComputedGauge("renkei_broker_tree_head_lag_seconds",
                     "How long appended records have waited for a signed tree head (0: none wait).",
                     [broker] { return absl::ToDoubleSeconds(broker->ledger_->TreeHeadLag()); });
  r.AddComputedGauge("renkei_broker_configuration_version",
                     "Version of the global configuration the broker serves.",
                     [broker] { return static_cast<double>(broker->store_->Current().version()); });
  r.AddComputedGauge("renkei_broker_healthy", "1 when every health check passes, 0 otherwise.",
                     [broker] { return broker->Health().ok() ? 1.0 : 0.0; });
  if (!c.monitoring_listen_address().empty()) {
    b->monitoring_ = std::make_unique<MonitoringServer>(b->metrics_registry_,
                                                        [broker] { return broker->Health(); });
    RENKEI_RETURN_IF_ERROR(b->monitoring_->Start(c.monitoring_listen_address()));
  }
  b->housekeeping_ = std::thread([broker, tree_head_interval] {
    broker->Housekeeping(tree_head_interval);
  });

  if (!c.portal_listen_address().empty()) {
    b->portal_ = std::make_unique<ResidentPortal>(*b->resident_service_, *b->ledger_, *b->store_,
                                                  signing_certificate);
    const bool portal_tls = !c.portal_plaintext_loopback_only() && !c.plaintext_loopback_only();
    RENKEI_RETURN_IF_ERROR(b->portal_->Start(c.portal_listen_address(),
                                             portal_tls ? c.tls_certificate_file() : "",
                                             portal_tls ? c.tls_key_file() : ""));
  }
  Log(LogLevel::kInfo, "broker",
      absl::StrCat("broker of instance ", c.instance(), " started at registry version ",
                   b->store_->Current().version()));
  return b;
}

absl::Status Broker::Health() const {
  absl::MutexLock lock(&mu_);
  return health_;
}

void Broker::UpdateHealth() {
  absl::Status health = CheckHealth();
  {
    absl::MutexLock lock(&mu_);
    health_ = health;
  }
  for (grpc::Server* server : {distribution_server_.get(), admin_server_.get()}) {
    if (server && server->GetHealthCheckService()) {
      server->GetHealthCheckService()->SetServingStatus(health.ok());
    }
  }
}

absl::Status Broker::CheckHealth() {
  std::vector<std::string> problems;
  absl::Status writable = ledger_->CheckWritable();
  if (!writable.ok()) problems.push_back(absl::StrCat("ledger store: ", writable.message()));
  if (!CheckKeyMatchesCertificate(*health_probe_key_, *health_probe_certificate_).ok()) {
    problems.push_back("configuration-signing key is unusable");
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrJoin(problems, "; "));
}

void Broker::Housekeeping(absl::Duration interval) {
  const absl::Duration tick = std::min(interval, absl::Seconds(1));
  absl::Time next_tree_head = absl::Now();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), tick)) return;
    }
    if (absl::Now() >= next_tree_head) {
      // Sign a head for what arrived since the last one, whether or not anyone asked.
      auto head = ledger_->CurrentTreeHead();
      if (!head.ok()) Log(LogLevel::kError, "ledger", head.status().ToString());
      next_tree_head = absl::Now() + interval;
    }
    UpdateHealth();
  }
}

void Broker::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (housekeeping_.joinable()) housekeeping_.join();
  if (monitoring_) monitoring_->Stop();
  if (portal_) portal_->Stop();
  auto deadline = std::chrono::system_clock::now() +
                  std::chrono::milliseconds(absl::ToInt64Milliseconds(grace));
  if (admin_server_) admin_server_->Shutdown(deadline);
  if (distribution_server_) distribution_server_->Shutdown(deadline);
}

Broker::~Broker() { Shutdown(absl::ZeroDuration()); }

}  // namespace renkei
