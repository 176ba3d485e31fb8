// PeerEndpoint: the gRPC service other security servers call over mutual TLS. It decodes,
// lets ProviderSide decide, forwards accepted requests to the provider's backend service
// with the caller's deadline, and returns the signed answer.
//
// Thread-safe; the backend channel map is guarded.
#ifndef RENKEI_SECURITY_SERVER_PEER_ENDPOINT_H_
#define RENKEI_SECURITY_SERVER_PEER_ENDPOINT_H_

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "grpcpp/generic/generic_stub.h"
#include "renkei/v1/peer.grpc.pb.h"
#include "security_server/provider_side.h"
#include "security_server/schema_publisher.h"
#include "security_server/operational_log.h"
#include "security_server/server_metrics.h"

namespace renkei {

class PeerEndpoint final : public v1::PeerExchange::CallbackService {
 public:
  // `max_backend_response_bytes` bounds what a backend may answer.
  // `max_backend_call`: the longest a backend call may take when the caller's deadline is
  // later or missing.
  PeerEndpoint(const ProviderSide& provider, SchemaPublisher& schemas,
               int max_backend_response_bytes, absl::Duration max_backend_call,
               ExchangeMetrics& metrics, OperationalLog& operational_log);

  grpc::ServerUnaryReactor* Exchange(grpc::CallbackServerContext* context,
                                     const v1::ExchangeRequest* request,
                                     v1::ExchangeResponse* response) override;
  grpc::ServerUnaryReactor* DescribeService(grpc::CallbackServerContext* context,
                                            const v1::DescribeServiceRequest* request,
                                            v1::DescribeServiceResponse* response) override;
  grpc::ServerUnaryReactor* DescribeSchema(grpc::CallbackServerContext* context,
                                           const v1::DescribeServiceRequest* request,
                                           v1::SignedHeader* response) override;

 private:
  grpc::GenericStub& BackendStub(const std::string& address);
  // Ends an exchange once its answer is recorded (on the message log's committer) or refused.
  void Finished(const v1::RequestHeader& header, const std::string& method,
                const absl::Status& provider_status, absl::StatusOr<v1::ExchangeResponse> answer,
                absl::Time started, absl::Time answering, v1::OperationalRecord& operational,
                v1::ExchangeResponse& response, grpc::ServerUnaryReactor* reactor);

  const ProviderSide& provider_;
  SchemaPublisher& schemas_;
  const int max_backend_response_bytes_;
  const std::chrono::seconds max_backend_call_;
  ExchangeMetrics& metrics_;
  OperationalLog& operational_log_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<grpc::GenericStub>> backends_ ABSL_GUARDED_BY(mu_);
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_PEER_ENDPOINT_H_
