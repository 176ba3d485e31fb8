// resident-registry: the sample municipality's resident registry service (a provider
// backend). It knows nothing of Renkei: its security server calls it with plain gRPC.
#include <iostream>
#include <map>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/termination.h"
#include "deploy/demo/resident_fixture.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "municipal/v1/resident_registry.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7101", "Address to serve on.");

namespace {

using renkei::municipal::v1::GetResidentRequest;
using renkei::municipal::v1::GetResidentResponse;

class ResidentRegistryService final
    : public renkei::municipal::v1::ResidentRegistry::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetResident(grpc::CallbackServerContext* context,
                                        const GetResidentRequest* request,
                                        GetResidentResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    auto it = residents_.find(request->resident_code());
    if (it == residents_.end()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                   "no resident with code " + request->resident_code()));
      return reactor;
    }
    *response->mutable_resident() = it->second;
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const std::map<std::string, renkei::municipal::v1::Resident> residents_ =
      renkei::demo::ChiyodaResidents();
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Sample resident registry of 千代田区 (131016).\n"
                               "usage: resident-registry --listen HOST:PORT");
  absl::ParseCommandLine(argc, argv);
  const sigset_t signals = renkei::BlockTerminationSignals();

  ResidentRegistryService service;
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::cerr << "resident-registry: cannot listen on " << absl::GetFlag(FLAGS_listen) << "\n";
    return 1;
  }
  std::cerr << "resident-registry: serving on " << absl::GetFlag(FLAGS_listen) << "\n";
  renkei::WaitForTerminationSignal(signals);
  server->Shutdown();
  return 0;
}
