#include "security_server/schema_cache.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_glue.h"
#include "common/grpc_status.h"
#include "grpcpp/client_context.h"

namespace renkei {
namespace {

constexpr absl::Duration kLongestQuestion = absl::Seconds(15);

}  // namespace

void SchemaCache::Get(const LocalCaller& caller, const std::string& client,
                      const std::string& service, absl::Time deadline, Done done) {
  if (client.empty()) {
    std::move(done)(absl::InvalidArgumentError(absl::StrCat("missing ", kClientKey)));
    return;
  }
  absl::StatusOr<PreparedDescribe> prepared = consumer_.PrepareDescribe(caller, client, service);
  if (!prepared.ok()) {
    std::move(done)(prepared.status());
    return;
  }
  const int64_t version = prepared->federation->configuration().version();
  const Key key{client, service};
  std::shared_ptr<const ServiceSchemaView> cached;
  {
    absl::MutexLock lock(&mu_);
    if (entries_.size() >= kMaxEntries && entries_.count(key) == 0) {
      for (auto it = entries_.begin(); it != entries_.end();) {
        it = it->second.waiting.empty() ? entries_.erase(it) : std::next(it);
      }
    }
    Entry& entry = entries_[key];
    if (entry.version == version && entry.schema != nullptr) {
      cached = entry.schema;
    } else {
      const bool asking = !entry.waiting.empty();
      entry.waiting.push_back(std::move(done));
      if (asking && entry.version == version) return;  // the question out answers this one too
      entry.version = version;
      entry.schema = nullptr;
    }
  }
  if (cached != nullptr) {
    std::move(done)(std::move(cached));
    return;
  }

  struct Question {
    PreparedDescribe prepared;
    std::shared_ptr<v1::PeerExchange::Stub> stub;
    grpc::ClientContext context;
    v1::SignedHeader answer;
  };
  auto question = std::make_shared<Question>();
  question->prepared = *std::move(prepared);
  question->context.set_deadline(absl::ToChronoTime(std::min(deadline, absl::Now() + kLongestQuestion)));
  question->stub = endpoint_.PeerStub(question->prepared.provider, *question->prepared.federation);
  question->stub->async()->DescribeSchema(
      &question->context, &question->prepared.request, &question->answer,
      [this, question, key, version](grpc::Status status) {
        absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> schema;
        const PreparedDescribe& prepared = question->prepared;
        if (!status.ok()) {
          schema = absl::Status(FromGrpcStatus(status).code(),
                                absl::StrCat("provider security server ", prepared.provider.id_text,
                                             ": ", status.error_message()));
        } else if (PeerCertificateSha256(question->context.auth_context()) !=
                   prepared.provider.authentication_certificate_sha256) {
          // Only what the registered provider server says counts.
          schema = absl::UnauthenticatedError(
              "provider security server presented an unregistered TLS certificate");
        } else {
          schema = VerifyServiceSchema(question->answer, *prepared.federation,
                                       prepared.request.client(), prepared.request.service());
        }
        Answered(key, version, std::move(schema));
      });
}

void SchemaCache::Answered(const Key& key, int64_t version,
                           absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> schema) {
  std::vector<Done> waiting;
  {
    absl::MutexLock lock(&mu_);
    auto entry = entries_.find(key);
    if (entry == entries_.end()) return;
    if (entry->second.version == version) {
      waiting.swap(entry->second.waiting);
      // Refusals are not kept: the next call asks again.
      if (schema.ok()) entry->second.schema = *schema;
    }
  }
  for (Done& done : waiting) std::move(done)(schema);
}

}  // namespace renkei
