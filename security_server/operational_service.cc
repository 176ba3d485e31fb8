#include "security_server/operational_service.h"

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
  absl::Time from = request->has_from() ? FromTimestamp(request->from()) : absl::InfinitePast();
  absl::Time to = request->has_to() ? FromTimestamp(request->to()) : absl::Now();
  auto result = log_.Query(from, to, request->limit());
  if (result.ok()) *response = *std::move(result);
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

}  // namespace renkei
