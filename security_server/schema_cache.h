// SchemaCache: the consumer side of the JSON entry's descriptors. The schema of a provided
// service for one of this server's clients is asked of the provider's security server
// (PeerExchange.DescribeSchema), verified (security_server/service_schema.h) and kept for the
// configuration version in force here, for at most kSchemaKept (the provider's rights and
// backend can change without a new configuration): then it is asked again while the kept one
// still serves. Concurrent misses share one question; a refusal is kept for kRefusalKept, so a
// provider with a broken schema is not asked on every call.
//
// Never blocks a gRPC thread: `done` runs at once for a kept schema or refusal, else on this
// class's own thread, which verifies answers (how long that takes is up to the provider).
// Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_SCHEMA_CACHE_H_
#define RENKEI_SECURITY_SERVER_SCHEMA_CACHE_H_

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "security_server/consumer_side.h"
#include "security_server/local_endpoint.h"
#include "security_server/service_schema.h"

namespace renkei {

// Set on a status when the provider's side failed (its schema refused, its server
// unreachable), not the local caller's request: the JSON entry answers 502 for it.
inline constexpr char kProviderFaultPayload[] = "renkei.provider_fault";
bool IsProviderFault(const absl::Status& status);

class SchemaCache {
 public:
  SchemaCache(const ConsumerSide& consumer, LocalEndpoint& endpoint);
  // Waits for the questions still out (each ends within kLongestQuestion).
  ~SchemaCache();

  using Done =
      absl::AnyInvocable<void(absl::StatusOr<std::shared_ptr<const ServiceSchemaView>>) &&>;
  // The schema of `service` for `client`, once `caller` is found registered for `client`
  // (PERMISSION_DENIED otherwise, as ConsumerSide::PrepareDescribe decides).
  void Get(const LocalCaller& caller, const std::string& client, const std::string& service,
           Done done);

  static constexpr size_t kMaxEntries = 1024;
  static constexpr absl::Duration kLongestQuestion = absl::Seconds(15);
  static constexpr absl::Duration kRefusalKept = absl::Seconds(5);
  static constexpr absl::Duration kSchemaKept = absl::Minutes(5);

 private:
  using Key = std::pair<std::string, std::string>;  // (client, service)
  struct Entry {
    int64_t version = -1;
    std::shared_ptr<const ServiceSchemaView> schema;  // of `version`, once known
    absl::Time ask_again_at;                          // for `schema`
    bool refreshing = false;                          // a question for a kept schema is out
    absl::Status refusal;                             // of `version`, until refused_until
    absl::Time refused_until;
    std::vector<Done> waiting;                        // while a question is out
  };
  struct Question;
  void Ask(const Key& key, int64_t version, PreparedDescribe prepared);
  void Verify(Question& question);
  void Answered(const Key& key, int64_t version,
                absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> schema);
  void Loop();

  const ConsumerSide& consumer_;
  LocalEndpoint& endpoint_;
  absl::Mutex mu_;
  std::map<Key, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<Question>> answers_ ABSL_GUARDED_BY(mu_);  // to verify
  int questions_out_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_SCHEMA_CACHE_H_
