#include "security_server/operational_service.h"

#include <thread>

#include "common/grpc_status.h"
#include "common/envelope.h"
#include "security_server/metadata_service.h"

namespace renkei {

grpc::ServerUnaryReactor* OperationalService::GetOperationalData(
    grpc::CallbackServerContext* context, const v1::OperationalDataRequest* request,
    v1::OperationalDataResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status allowed = consumer_.AuthorizeOwner(CallerOf(*context));
  if (!allowed.ok()) {
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  if (running_.fetch_add(1) >= kMaxConcurrentQueries) {
    running_.fetch_sub(1);
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "operational data: other queries are running; try again shortly"));
    return reactor;
  }
  absl::Time from = request->has_from() ? FromTimestamp(request->from()) : absl::InfinitePast();
  absl::Time to = request->has_to() ? FromTimestamp(request->to()) : absl::Now();
  const int limit = request->limit();
  // The server's shutdown waits for this call to finish, so the log outlives the thread's
  // work; Finish is the thread's last act.
  std::thread([this, from, to, limit, response, reactor] {
    auto result = log_.Query(from, to, limit);
    if (result.ok()) *response = *std::move(result);
    running_.fetch_sub(1);
    reactor->Finish(ToGrpcStatus(result.status()));
  }).detach();
  return reactor;
}

}  // namespace renkei
