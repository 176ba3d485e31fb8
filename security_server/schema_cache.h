// SchemaCache: the consumer side of the JSON entry's descriptors. The schema of a provided
// service for one of this server's clients is asked of the provider's security server
// (PeerExchange.DescribeSchema), verified (security_server/service_schema.h) and kept for the
// configuration version it was made under. Concurrent misses share one question.
//
// Never blocks: `done` runs at once for a cached schema, else on a gRPC thread. Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_SCHEMA_CACHE_H_
#define RENKEI_SECURITY_SERVER_SCHEMA_CACHE_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "security_server/consumer_side.h"
#include "security_server/local_endpoint.h"
#include "security_server/service_schema.h"

namespace renkei {

class SchemaCache {
 public:
  SchemaCache(const ConsumerSide& consumer, LocalEndpoint& endpoint)
      : consumer_(consumer), endpoint_(endpoint) {}

  using Done =
      absl::AnyInvocable<void(absl::StatusOr<std::shared_ptr<const ServiceSchemaView>>) &&>;
  // The schema of `service` for `client`, once `caller` is found registered for `client`
  // (PERMISSION_DENIED otherwise, as ConsumerSide::PrepareDescribe decides). A question to the
  // provider's server waits at most until `deadline`.
  void Get(const LocalCaller& caller, const std::string& client, const std::string& service,
           absl::Time deadline, Done done);

  static constexpr size_t kMaxEntries = 1024;

 private:
  using Key = std::pair<std::string, std::string>;  // (client, service)
  struct Entry {
    int64_t version = -1;
    std::shared_ptr<const ServiceSchemaView> schema;  // of `version`, once known
    std::vector<Done> waiting;                        // while a question is out
  };
  void Answered(const Key& key, int64_t version,
                absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> schema);

  const ConsumerSide& consumer_;
  LocalEndpoint& endpoint_;
  absl::Mutex mu_;
  std::map<Key, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_SCHEMA_CACHE_H_
