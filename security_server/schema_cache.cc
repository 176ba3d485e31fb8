#include "security_server/schema_cache.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_glue.h"
#include "common/grpc_status.h"
#include "grpcpp/client_context.h"

namespace renkei {

bool IsProviderFault(const absl::Status& status) {
  return status.GetPayload(kProviderFaultPayload).has_value();
}

namespace {

absl::Status ProviderFault(absl::Status status) {
  status.SetPayload(kProviderFaultPayload, absl::Cord("1"));
  return status;
}

}  // namespace

struct SchemaCache::Question {
  Key key;
  int64_t version = 0;
  PreparedDescribe prepared;
  std::shared_ptr<v1::PeerExchange::Stub> stub;
  grpc::ClientContext context;
  v1::SignedHeader answer;
  grpc::Status status;
};

SchemaCache::SchemaCache(const ConsumerSide& consumer, LocalEndpoint& endpoint)
    : consumer_(consumer), endpoint_(endpoint), thread_([this] { Loop(); }) {}

SchemaCache::~SchemaCache() {
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* out) { return *out == 0; }, &questions_out_));
    stopping_ = true;
  }
  thread_.join();
}

void SchemaCache::Get(const LocalCaller& caller, const std::string& client,
                      const std::string& service, Done done) {
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
  absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> kept;
  bool answered_here = true;
  bool refresh = false;
  {
    absl::MutexLock lock(&mu_);
    if (entries_.size() >= kMaxEntries && entries_.count(key) == 0) {
      for (auto it = entries_.begin(); it != entries_.end();) {
        it = it->second.waiting.empty() ? entries_.erase(it) : std::next(it);
      }
    }
    Entry& entry = entries_[key];
    if (entry.version == version && entry.schema != nullptr) {
      kept = entry.schema;
      if (absl::Now() >= entry.ask_again_at && !entry.refreshing && entry.waiting.empty()) {
        entry.refreshing = true;  // asked again while the kept schema serves
        ++questions_out_;
        refresh = true;
      }
    } else if (entry.version == version && !entry.refusal.ok() &&
               absl::Now() < entry.refused_until) {
      kept = entry.refusal;
    } else {
      answered_here = false;
      const bool asking = !entry.waiting.empty();
      entry.waiting.push_back(std::move(done));
      if (asking && entry.version == version) return;  // the question out answers this one too
      entry.version = version;
      entry.schema = nullptr;
      entry.refreshing = false;
      entry.refusal = absl::OkStatus();
      ++questions_out_;
    }
  }
  if (answered_here) {
    std::move(done)(std::move(kept));
    if (!refresh) return;
  }
  Ask(key, version, *std::move(prepared));
}

void SchemaCache::Ask(const Key& key, int64_t version, PreparedDescribe prepared) {
  auto question = std::make_shared<Question>();
  question->key = key;
  question->version = version;
  question->prepared = std::move(prepared);
  // Not any one caller's deadline: the answer serves every caller waiting for it.
  question->context.set_deadline(absl::ToChronoTime(absl::Now() + kLongestQuestion));
  question->stub = endpoint_.PeerStub(question->prepared.provider, *question->prepared.federation);
  question->stub->async()->DescribeSchema(
      &question->context, &question->prepared.request, &question->answer,
      [this, question](grpc::Status status) {
        question->status = std::move(status);
        absl::MutexLock lock(&mu_);
        answers_.push_back(question);
      });
}

void SchemaCache::Loop() {
  while (true) {
    std::shared_ptr<Question> question;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SchemaCache* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->answers_.empty();
          },
          this));
      if (answers_.empty()) return;  // stopping, and nothing is out
      question = std::move(answers_.front());
      answers_.pop_front();
    }
    Verify(*question);
  }
}

void SchemaCache::Verify(Question& question) {
  absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> schema;
  const PreparedDescribe& prepared = question.prepared;
  if (!question.status.ok()) {
    absl::Status refused(FromGrpcStatus(question.status).code(),
                         absl::StrCat("provider security server ", prepared.provider.id_text,
                                      ": ", question.status.error_message()));
    // Its own checks of the caller (the client's member, the service) are the caller's
    // fault; its failures are the provider's.
    const absl::StatusCode code = refused.code();
    const bool callers = code == absl::StatusCode::kPermissionDenied ||
                         code == absl::StatusCode::kNotFound ||
                         code == absl::StatusCode::kInvalidArgument;
    schema = callers ? refused : ProviderFault(refused);
  } else if (PeerCertificateSha256(question.context.auth_context()) !=
             prepared.provider.authentication_certificate_sha256) {
    // Only what the registered provider server says counts.
    schema = ProviderFault(absl::UnauthenticatedError(
        "provider security server presented an unregistered TLS certificate"));
  } else {
    schema = VerifyServiceSchema(question.answer, *prepared.federation, prepared.request.client(),
                                 prepared.request.service());
    if (!schema.ok()) {
      schema = ProviderFault(absl::Status(
          schema.status().code(),
          absl::StrCat("the service schema from provider security server ",
                       prepared.provider.id_text, " is refused: ", schema.status().message())));
    }
  }
  Answered(question.key, question.version, std::move(schema));
}

void SchemaCache::Answered(const Key& key, int64_t version,
                           absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> schema) {
  std::vector<Done> waiting;
  {
    absl::MutexLock lock(&mu_);
    --questions_out_;
    auto entry = entries_.find(key);
    if (entry != entries_.end() && entry->second.version == version) {
      Entry& kept = entry->second;
      waiting.swap(kept.waiting);
      const bool refreshed = kept.refreshing;
      kept.refreshing = false;
      if (schema.ok()) {
        kept.schema = *schema;
        kept.ask_again_at = absl::Now() + kSchemaKept;
      } else if (refreshed && kept.schema != nullptr) {
        kept.ask_again_at = absl::Now() + kRefusalKept;  // the kept one serves on
      } else {
        kept.refusal = schema.status();
        kept.refused_until = absl::Now() + kRefusalKept;
      }
    }
  }
  for (Done& done : waiting) std::move(done)(schema);
}

}  // namespace renkei
