// SchemaPublisher: the provider side of the JSON entry. For a peer's DescribeSchema it makes
// the ServiceSchema (the service's real descriptors and the methods the peer's client may
// call) and signs it as the provider member.
//
// Descriptors come from the backend by gRPC server reflection, or from the descriptor set
// the configuration names. Asking a backend is a synchronous RPC, so it runs on this class's
// own thread, never on a gRPC callback thread. Descriptors and signed schemas are cached per
// configuration version (reflected descriptors also for at most kReflectionTtl, so a
// redeployed backend is seen). Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_SCHEMA_PUBLISHER_H_
#define RENKEI_SECURITY_SERVER_SCHEMA_PUBLISHER_H_

#include <deque>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "google/protobuf/descriptor.pb.h"
#include "renkei/v1/envelope.pb.h"
#include "renkei/v1/metadata.pb.h"
#include "security_server/settings.h"

namespace renkei {

class SchemaPublisher {
 public:
  SchemaPublisher(const Settings& settings, const Clock& clock);
  ~SchemaPublisher();  // Stop()

  // Requests still waiting get UNAVAILABLE; returns once the one being made is done (before
  // the peer server drains, so that its drain does not wait behind backend questions).
  void Stop();

  using Done = absl::AnyInvocable<void(absl::StatusOr<v1::SignedHeader>) &&>;
  // `described`: what ProviderSide::Describe decided the asking peer may learn about
  // `request.service()` under `configuration_version` (its checks are done). `done` runs on
  // this class's thread; UNAVAILABLE at once when kMaxWaiting requests already wait.
  void Publish(const v1::DescribeServiceRequest& request, v1::DescribeServiceResponse described,
               int64_t configuration_version, Done done);

  static constexpr size_t kMaxWaiting = 64;
  static constexpr absl::Duration kReflectionTtl = absl::Minutes(10);
  static constexpr absl::Duration kReflectionTimeout = absl::Seconds(10);
  // A backend that could not be asked is not asked again sooner than this.
  static constexpr absl::Duration kFailureKept = absl::Seconds(5);

 private:
  struct Job {
    v1::DescribeServiceRequest request;
    v1::DescribeServiceResponse described;
    int64_t configuration_version;
    Done done;
  };
  struct Descriptors {
    int64_t configuration_version = -1;
    absl::Time fetched_at;
    absl::Status failure;  // of the last attempt, kept until fetched_at + kFailureKept
    google::protobuf::FileDescriptorSet files;
    std::vector<std::string> methods;  // every method of the services, as the files define them
  };

  void Loop();
  absl::StatusOr<v1::SignedHeader> Make(const Job& job);
  absl::StatusOr<const Descriptors*> DescriptorsOf(
      const v1::ProvidedService& service, const std::vector<std::string>& service_names,
      int64_t configuration_version);

  const Settings& settings_;
  const Clock& clock_;
  absl::Mutex mu_;
  std::deque<Job> waiting_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Only the thread touches these.
  std::map<std::string, Descriptors> descriptors_;  // by service subsystem
  struct Signed {
    int64_t configuration_version;
    absl::Time made_at;
    v1::SignedHeader schema;
  };
  std::map<std::pair<std::string, std::string>, Signed> signed_;  // by (service, client)
  std::thread thread_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_SCHEMA_PUBLISHER_H_
