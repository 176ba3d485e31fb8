// The one place that maps between absl::Status and grpc::Status.
#ifndef RENKEI_COMMON_GRPC_STATUS_H_
#define RENKEI_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace renkei {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace renkei

#endif  // RENKEI_COMMON_GRPC_STATUS_H_
