// OperationalService: getSecurityServerOperationalData on the local endpoint, for the systems
// of the member that owns the server. Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_OPERATIONAL_SERVICE_H_
#define RENKEI_SECURITY_SERVER_OPERATIONAL_SERVICE_H_

#include "renkei/v1/operational.grpc.pb.h"
#include "security_server/consumer_side.h"
#include "security_server/operational_log.h"

namespace renkei {

class OperationalService final : public v1::OperationalMonitoring::CallbackService {
 public:
  OperationalService(const ConsumerSide& consumer, const OperationalLog& log)
      : consumer_(consumer), log_(log) {}

  grpc::ServerUnaryReactor* GetOperationalData(grpc::CallbackServerContext* context,
                                               const v1::OperationalDataRequest* request,
                                               v1::OperationalDataResponse* response) override;

 private:
  const ConsumerSide& consumer_;
  const OperationalLog& log_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_OPERATIONAL_SERVICE_H_
