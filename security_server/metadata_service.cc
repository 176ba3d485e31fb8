#include "security_server/metadata_service.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_glue.h"
#include "common/grpc_status.h"

namespace renkei {

LocalCaller CallerOf(const grpc::CallbackServerContext& context) {
  LocalCaller caller;
  auto auth = context.auth_context();
  caller.tls = auth != nullptr && auth->IsPeerAuthenticated();
  caller.certificate_sha256 = PeerCertificateSha256(auth);
  caller.peer_address = context.peer();
  return caller;
}

grpc::ServerUnaryReactor* MetadataService::ListClients(grpc::CallbackServerContext* context,
                                                       const v1::ListClientsRequest* /*request*/,
                                                       v1::ListClientsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto clients = consumer_.ListClients(CallerOf(*context));
  if (clients.ok()) *response = *std::move(clients);
  reactor->Finish(ToGrpcStatus(clients.status()));
  return reactor;
}

grpc::ServerUnaryReactor* MetadataService::ListMethods(grpc::CallbackServerContext* context,
                                                       const v1::ListMethodsRequest* request,
                                                       v1::ListMethodsResponse* response) {
  return Describe(context, "", request->service(), false, response);
}

grpc::ServerUnaryReactor* MetadataService::AllowedMethods(grpc::CallbackServerContext* context,
                                                          const v1::ListMethodsRequest* request,
                                                          v1::ListMethodsResponse* response) {
  auto client = context->client_metadata().find(kClientKey);
  if (client == context->client_metadata().end()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 absl::StrCat("missing ", kClientKey, " metadata")));
    return reactor;
  }
  return Describe(context, std::string(client->second.data(), client->second.size()),
                  request->service(), true, response);
}

grpc::ServerUnaryReactor* MetadataService::Describe(grpc::CallbackServerContext* context,
                                                    const std::string& client,
                                                    const std::string& service, bool allowed_only,
                                                    v1::ListMethodsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto prepared = consumer_.PrepareDescribe(CallerOf(*context), client, service);
  if (!prepared.ok()) {
    reactor->Finish(ToGrpcStatus(prepared.status()));
    return reactor;
  }
  struct Call {
    PreparedDescribe prepared;
    std::shared_ptr<v1::PeerExchange::Stub> stub;
    std::unique_ptr<grpc::ClientContext> context;
    v1::DescribeServiceResponse answer;
  };
  auto call = std::make_shared<Call>();
  call->prepared = *std::move(prepared);
  call->context = grpc::ClientContext::FromCallbackServerContext(*context);
  call->stub = endpoint_.PeerStub(call->prepared.provider, *call->prepared.federation);
  call->stub->async()
      ->DescribeService(call->context.get(), &call->prepared.request, &call->answer,
                        [call, reactor, response, allowed_only](grpc::Status status) {
                          if (status.ok()) {
                            // Only what the registered provider server says counts.
                            const std::string server = PeerCertificateSha256(call->context->auth_context());
                            if (server != call->prepared.provider.authentication_certificate_sha256) {
                              status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                                    "provider security server presented an "
                                                    "unregistered TLS certificate");
                            }
                          }
                          if (status.ok()) {
                            const auto& methods = allowed_only ? call->answer.allowed_methods()
                                                               : call->answer.methods();
                            response->mutable_methods()->CopyFrom(methods);
                          }
                          reactor->Finish(status);
                        });
  return reactor;
}

}  // namespace renkei
