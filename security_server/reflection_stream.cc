#include "security_server/reflection_stream.h"

#include "common/grpc_status.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"

namespace renkei {

using grpc_reflection::v1alpha::ServerReflectionRequest;
using grpc_reflection::v1alpha::ServerReflectionResponse;

ReflectionStream::ReflectionStream(const std::shared_ptr<grpc::ChannelInterface>& channel,
                                   absl::Time deadline) {
  context_.set_deadline(absl::ToChronoTime(deadline));
  grpc::TemplatedGenericStub<ServerReflectionRequest, ServerReflectionResponse> stub(channel);
  call_ = stub.PrepareCall(&context_, kMethod, &queue_);
  call_->StartCall(this);
  broken_ = !Await();
}

ReflectionStream::~ReflectionStream() {
  if (!finished_) {
    context_.TryCancel();
    Finish().IgnoreError();
  }
  // The queue must be shut down and drained before it is destroyed.
  queue_.Shutdown();
  void* tag;
  bool ok;
  while (queue_.Next(&tag, &ok)) {
  }
}

bool ReflectionStream::Ask(const ServerReflectionRequest& request,
                           ServerReflectionResponse* response) {
  if (broken_) return false;
  call_->Write(request, this);
  if (Await()) {
    call_->Read(response, this);
    if (Await()) return true;
  }
  broken_ = true;
  return false;
}

absl::Status ReflectionStream::Finish() {
  if (finished_) return status_;
  if (!broken_) {
    call_->WritesDone(this);
    Await();
  }
  grpc::Status status;
  call_->Finish(&status, this);
  Await();
  finished_ = true;
  status_ = FromGrpcStatus(status);
  return status_;
}

bool ReflectionStream::Await() {
  void* tag;
  bool ok = false;
  return queue_.Next(&tag, &ok) && ok;
}

}  // namespace renkei
