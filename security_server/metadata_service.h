// MetadataService: service metadata on the local endpoint (listClients, listMethods,
// allowedMethods). Method lists come from the provider's security server. Thread-safe.
#ifndef RENKEI_SECURITY_SERVER_METADATA_SERVICE_H_
#define RENKEI_SECURITY_SERVER_METADATA_SERVICE_H_

#include "renkei/v1/metadata.grpc.pb.h"
#include "security_server/consumer_side.h"
#include "security_server/local_endpoint.h"

namespace renkei {

class MetadataService final : public v1::ServiceMetadata::CallbackService {
 public:
  MetadataService(const ConsumerSide& consumer, LocalEndpoint& endpoint)
      : consumer_(consumer), endpoint_(endpoint) {}

  grpc::ServerUnaryReactor* ListClients(grpc::CallbackServerContext* context,
                                        const v1::ListClientsRequest* request,
                                        v1::ListClientsResponse* response) override;
  grpc::ServerUnaryReactor* ListMethods(grpc::CallbackServerContext* context,
                                        const v1::ListMethodsRequest* request,
                                        v1::ListMethodsResponse* response) override;
  grpc::ServerUnaryReactor* AllowedMethods(grpc::CallbackServerContext* context,
                                           const v1::ListMethodsRequest* request,
                                           v1::ListMethodsResponse* response) override;

 private:
  grpc::ServerUnaryReactor* Describe(grpc::CallbackServerContext* context,
                                     const std::string& client, const std::string& service,
                                     bool allowed_only, v1::ListMethodsResponse* response);

  const ConsumerSide& consumer_;
  LocalEndpoint& endpoint_;
};

// The local caller of `context`, as the transport established it.
LocalCaller CallerOf(const grpc::CallbackServerContext& context);

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_METADATA_SERVICE_H_
