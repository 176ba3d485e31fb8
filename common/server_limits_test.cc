#include "common/server_limits.h"

#include <memory>
#include <string>

#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace renkei {
namespace {

std::unique_ptr<grpc::Server> Serve(const std::string& address, int* port,
                                    grpc::CallbackGenericService& service) {
  grpc::ServerBuilder builder;
  ApplyServerLimits(builder);
  builder.RegisterCallbackGenericService(&service);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), port);
  return builder.BuildAndStart();
}

// gRPC listens with SO_REUSEPORT unless told not to: a second server started by mistake on
// a port in use would then silently take a share of its connections.
TEST(ServerLimits, ASecondServerCannotListenOnAPortInUse) {
  grpc::CallbackGenericService first_service, second_service;
  int port = 0;
  std::unique_ptr<grpc::Server> first = Serve("127.0.0.1:0", &port, first_service);
  ASSERT_NE(first, nullptr);
  ASSERT_GT(port, 0);
  int second_port = 0;
  std::unique_ptr<grpc::Server> second =
      Serve("127.0.0.1:" + std::to_string(port), &second_port, second_service);
  EXPECT_TRUE(second == nullptr || second_port == 0) << "both listen on port " << port;
  if (second != nullptr) second->Shutdown();
  first->Shutdown();
}

}  // namespace
}  // namespace renkei
