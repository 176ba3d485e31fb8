// OperationalService: getSecurityServerOperationalData on the local endpoint, for the systems
// of the member that owns the server. A query reads up to 10,000 records from RocksDB: it
// runs on a thread of its own, never on gRPC's callback threads, and at most
// kMaxConcurrentQueries at a time. Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_OPERATIONAL_SERVICE_H_
#define RENKEI_SECURITY_SERVER_OPERATIONAL_SERVICE_H_

#include <atomic>

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

  static constexpr int kMaxConcurrentQueries = 2;

 private:
  const ConsumerSide& consumer_;
  const OperationalLog& log_;
  std::atomic<int> running_{0};
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_OPERATIONAL_SERVICE_H_
