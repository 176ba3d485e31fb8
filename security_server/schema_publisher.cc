#include "security_server/schema_publisher.h"

#include <set>

#include "google/protobuf/descriptor.h"
#include "absl/strings/str_cat.h"
#include "common/envelope.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "security_server/backend_descriptors.h"
#include "security_server/service_schema.h"

namespace renkei {

SchemaPublisher::SchemaPublisher(const Settings& settings, const Clock& clock)
    : settings_(settings), clock_(clock), thread_([this] { Loop(); }) {}

SchemaPublisher::~SchemaPublisher() { Stop(); }

void SchemaPublisher::Stop() {
  std::deque<Job> refused;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    refused.swap(waiting_);
  }
  if (thread_.joinable()) thread_.join();
  for (Job& job : refused) {
    std::move(job.done)(absl::UnavailableError("the security server is shutting down"));
  }
}

void SchemaPublisher::Publish(const v1::DescribeServiceRequest& request,
                              v1::DescribeServiceResponse described,
                              int64_t configuration_version, Done done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_ && waiting_.size() < kMaxWaiting) {
      waiting_.push_back({request, std::move(described), configuration_version, std::move(done)});
      return;
    }
  }
  std::move(done)(absl::UnavailableError(
      "too many service schema requests are waiting at the provider's security server"));
}

void SchemaPublisher::Loop() {
  while (true) {
    Job job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SchemaPublisher* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->waiting_.empty();
          },
          this));
      if (stopping_) return;
      job = std::move(waiting_.front());
      waiting_.pop_front();
    }
    absl::StatusOr<v1::SignedHeader> made = Make(job);
    std::move(job.done)(std::move(made));
  }
}

absl::StatusOr<v1::SignedHeader> SchemaPublisher::Make(const Job& job) {
  const std::string& service = job.request.service();
  auto cached = signed_.find({service, job.request.client()});
  if (cached != signed_.end() && cached->second.configuration_version == job.configuration_version &&
      clock_.Now() - cached->second.made_at < kReflectionTtl) {
    return cached->second.schema;
  }
  const v1::ProvidedService* provided = nullptr;
  for (const v1::ProvidedService& candidate : settings_.config.provided_services()) {
    if (candidate.subsystem() == service) provided = &candidate;
  }
  if (provided == nullptr) return absl::NotFoundError(absl::StrCat("no service ", service));
  std::set<std::string> names;
  for (const std::string& method : job.described.methods()) {
    const std::string name = ServiceNameOf(method);
    if (!name.empty()) names.insert(name);
  }
  if (names.empty()) {
    return absl::NotFoundError(absl::StrCat("service subsystem ", service, " declares no methods"));
  }
  // A client no right names for this service learns nothing of it, not even whether its
  // backend answers.
  std::vector<std::string> candidates(job.described.methods().begin(),
                                      job.described.methods().end());
  candidates.push_back("*");
  if (settings_.access_rights.AllowedMethods(job.request.client(), service, candidates).empty()) {
    return absl::PermissionDeniedError(absl::StrCat("client ", job.request.client(),
                                                    " may call no method of ", service));
  }
  RENKEI_ASSIGN_OR_RETURN(
      const Descriptors* descriptors,
      DescriptorsOf(*provided, {names.begin(), names.end()}, job.configuration_version));
  // The descriptors name every method of the services, so a "*" right is spelled out here;
  // a client sees the methods the configuration declares and those it may call, no others.
  std::set<std::string> declared(job.described.methods().begin(), job.described.methods().end());
  std::set<std::string> named = declared;
  named.insert(descriptors->methods.begin(), descriptors->methods.end());
  const std::vector<std::string> allowed = settings_.access_rights.AllowedMethods(
      job.request.client(), service, {named.begin(), named.end()});
  if (allowed.empty()) {
    // Also bounds the signed schemas kept to the clients the access rights name.
    return absl::PermissionDeniedError(absl::StrCat("client ", job.request.client(),
                                                    " may call no method of ", service));
  }
  std::set<std::string> offered = declared;
  offered.insert(allowed.begin(), allowed.end());

  v1::ServiceSchema schema;
  schema.set_service(service);
  schema.set_client(job.request.client());
  schema.set_configuration_version(job.configuration_version);
  *schema.mutable_created_at() = ToTimestamp(clock_.Now());
  for (const std::string& method : offered) schema.add_methods(method);
  for (const std::string& method : allowed) schema.add_allowed_methods(method);
  *schema.mutable_files() = descriptors->files;
  RENKEI_ASSIGN_OR_RETURN(v1::SubsystemId id, ParseSubsystemId(service));
  RENKEI_ASSIGN_OR_RETURN(
      v1::SignedHeader signed_schema,
      SignServiceSchema(schema, settings_.signing_identities.at(ToString(id.member()))));
  // Bounded by the services provided times the clients asking; cleared per version.
  if (signed_.size() >= 4096) signed_.clear();
  signed_[{service, job.request.client()}] = {job.configuration_version, clock_.Now(),
                                              signed_schema};
  return signed_schema;
}

absl::StatusOr<const SchemaPublisher::Descriptors*> SchemaPublisher::DescriptorsOf(
    const v1::ProvidedService& service, const std::vector<std::string>& service_names,
    int64_t configuration_version) {
  Descriptors& cached = descriptors_[service.subsystem()];
  const bool reflected = service.descriptor_set_file().empty();
  if (!cached.failure.ok() && clock_.Now() - cached.fetched_at < kFailureKept) {
    return cached.failure;
  }
  if (cached.failure.ok() && cached.configuration_version == configuration_version &&
      (!reflected || clock_.Now() - cached.fetched_at < kReflectionTtl)) {
    return &cached;
  }
  absl::StatusOr<google::protobuf::FileDescriptorSet> files =
      reflected ? FetchDescriptorsByReflection(service.backend_address(), service_names,
                                               kReflectionTimeout)
                : LoadDescriptorSetFile(service.descriptor_set_file());
  absl::StatusOr<std::unique_ptr<google::protobuf::DescriptorPool>> pool =
      files.ok() ? BuildDescriptorPool(*files, service_names) : files.status();
  const absl::Status problem = pool.status();
  if (!problem.ok()) {
    Log(LogLevel::kWarning, "schema",
        absl::StrCat("no descriptors for ", service.subsystem(), " from ",
                     reflected ? "its backend's reflection at " + service.backend_address()
                               : service.descriptor_set_file(),
                     ": ", problem.ToString()));
    cached.failure = absl::UnavailableError(absl::StrCat(
        "the provider's security server has no descriptors of ", service.subsystem(), ": ",
        problem.message()));
    cached.fetched_at = clock_.Now();
    return cached.failure;
  }
  cached.failure = absl::OkStatus();
  cached.configuration_version = configuration_version;
  cached.fetched_at = clock_.Now();
  cached.files = *std::move(files);
  cached.methods.clear();
  for (const std::string& name : service_names) {
    const google::protobuf::ServiceDescriptor* found = (*pool)->FindServiceByName(name);
    for (int i = 0; found != nullptr && i < found->method_count(); ++i) {
      cached.methods.push_back(absl::StrCat("/", name, "/", found->method(i)->name()));
    }
  }
  return &cached;
}

}  // namespace renkei
