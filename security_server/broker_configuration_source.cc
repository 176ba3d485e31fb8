#include "security_server/broker_configuration_source.h"

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/signed_configuration.h"
#include "common/transport_security.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace renkei {
namespace {

constexpr absl::Duration kFetchTimeout = absl::Seconds(5);

}  // namespace

BrokerConfigurationSource::BrokerConfigurationSource(const v1::ConfigurationAnchor& anchor,
                                                     Certificate signing_certificate,
                                                     std::string cache_file,
                                                     absl::Duration refresh_interval,
                                                     const Clock& clock)
    : anchor_(anchor),
      signing_certificate_(std::move(signing_certificate)),
      cache_file_(std::move(cache_file)),
      refresh_interval_(refresh_interval),
      clock_(clock) {
  for (const std::string& address : anchor_.broker_addresses()) {
    // Start() checked that the anchor allows each address.
    brokers_.push_back(v1::ConfigurationDistribution::NewStub(
        grpc::CreateChannel(address, *BrokerChannelCredentials(anchor_, address, nullptr))));
  }
}

absl::StatusOr<std::unique_ptr<BrokerConfigurationSource>> BrokerConfigurationSource::Start(
    const v1::ConfigurationAnchor& anchor, const std::string& cache_file,
    absl::Duration refresh_interval, const Clock& clock) {
  if (anchor.instance().empty() || anchor.broker_addresses().empty()) {
    return absl::InvalidArgumentError("configuration anchor needs an instance and a broker address");
  }
  for (const std::string& address : anchor.broker_addresses()) {
    auto credentials = BrokerChannelCredentials(anchor, address, nullptr);
    if (!credentials.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("configuration anchor: ", credentials.status().message()));
    }
  }
  auto certificate = Certificate::FromPem(anchor.configuration_signing_certificate_pem());
  if (!certificate.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("configuration anchor: ",
                                                   certificate.status().message()));
  }
  std::unique_ptr<BrokerConfigurationSource> source(new BrokerConfigurationSource(
      anchor, *std::move(certificate), cache_file, refresh_interval, clock));

  auto cached = ReadFile(cache_file);
  if (cached.ok()) {
    v1::SignedGlobalConfiguration signed_configuration;
    absl::Status status = signed_configuration.ParseFromString(*cached)
                              ? source->Install(signed_configuration, /*from_cache=*/true)
                              : absl::DataLossError("unparsable");
    if (!status.ok()) {
      Log(LogLevel::kWarning, "configuration",
          absl::StrCat("ignoring cached configuration ", cache_file, ": ", status.ToString()));
    }
  }
  absl::Status fetched = source->Refresh();
  if (!fetched.ok()) {
    absl::MutexLock lock(&source->mu_);
    if (source->current_ == nullptr) {
      return absl::UnavailableError(absl::StrCat(
          "no global configuration: the broker could not be used (", fetched.message(),
          ") and there is no valid cached copy at ", cache_file));
    }
  }
  source->refresher_ = std::thread([s = source.get()] { s->RefreshLoop(); });
  return source;
}

BrokerConfigurationSource::~BrokerConfigurationSource() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (refresher_.joinable()) refresher_.join();
}

absl::Time BrokerConfigurationSource::last_refreshed() const {
  absl::ReaderMutexLock lock(&mu_);
  return last_refreshed_;
}

std::shared_ptr<const Federation> BrokerConfigurationSource::Current() const {
  absl::ReaderMutexLock lock(&mu_);
  return current_;
}

absl::StatusOr<v1::SignedGlobalConfiguration> BrokerConfigurationSource::Fetch() {
  absl::Status last = absl::UnavailableError("no broker address");
  for (size_t i = 0; i < brokers_.size(); ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kFetchTimeout));
    v1::GetConfigurationRequest request;
    {
      absl::ReaderMutexLock lock(&mu_);
      if (current_) request.set_known_version(current_->configuration().version());
    }
    v1::GetConfigurationResponse response;
    grpc::Status status = brokers_[i]->GetConfiguration(&context, request, &response);
    if (status.ok()) return response.configuration();
    last = absl::Status(FromGrpcStatus(status).code(),
                        absl::StrCat("broker ", anchor_.broker_addresses(i), ": ",
                                     status.error_message()));
  }
  return last;
}

absl::Status BrokerConfigurationSource::Install(
    const v1::SignedGlobalConfiguration& signed_configuration, bool from_cache) {
  auto configuration =
      VerifyConfiguration(signed_configuration, signing_certificate_, anchor_.instance(),
                          from_cache ? absl::InfinitePast() : clock_.Now());
  if (!configuration.ok()) return configuration.status();
  {
    absl::ReaderMutexLock lock(&mu_);
    if (current_ != nullptr) {
      absl::Status newer = CheckSupersedes(*configuration, current_->configuration());
      if (absl::IsAlreadyExists(newer)) return absl::OkStatus();
      if (!newer.ok()) return newer;
    }
  }
  const int64_t version = configuration->version();
  auto federation = Federation::Create(*std::move(configuration));
  if (!federation.ok()) return federation.status();
  {
    absl::MutexLock lock(&mu_);
    bool changed = current_ == nullptr || current_->configuration().version() != version;
    current_ = *std::move(federation);
    if (changed) {
      Log(LogLevel::kInfo, "configuration",
          absl::StrCat("installed global configuration version ", version,
                       from_cache ? " from the cache" : " from the broker"));
    }
  }
  if (!from_cache) {
    absl::Status cached =
        WriteFileAtomically(cache_file_, signed_configuration.SerializeAsString(), 0600);
    if (!cached.ok()) Log(LogLevel::kWarning, "configuration", cached.ToString());
  }
  return absl::OkStatus();
}

absl::Status BrokerConfigurationSource::Refresh() {
  auto fetched = Fetch();
  if (!fetched.ok()) return fetched.status();
  absl::Status installed = Install(*fetched, /*from_cache=*/false);
  if (installed.ok()) {
    absl::MutexLock lock(&mu_);
    last_refreshed_ = clock_.Now();
  } else {
    Log(LogLevel::kError, "configuration",
        absl::StrCat("rejected the broker's configuration, keeping the previous one: ",
                     installed.ToString()));
  }
  return installed;
}

void BrokerConfigurationSource::RefreshLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), refresh_interval_)) return;
    }
    absl::Status status = Refresh();
    if (!status.ok() && !absl::IsUnauthenticated(status) && !absl::IsFailedPrecondition(status) &&
        !absl::IsInvalidArgument(status)) {
      Log(LogLevel::kWarning, "configuration",
          absl::StrCat("broker unreachable, keeping the held configuration: ", status.ToString()));
    }
  }
}

}  // namespace renkei
