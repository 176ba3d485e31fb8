// ReflectionStream: one gRPC server reflection stream (grpc.reflection.v1alpha, what grpcurl
// and grpc_cli speak), driven synchronously: Ask() writes one request and reads its answer.
//
// The call goes through grpc::TemplatedGenericStub on a private completion queue, as the
// messages are our wire-compatible copy (schemas/grpc/reflection/v1alpha/reflection.proto says
// why there is no generated stub). Every operation ends by the deadline given at the start.
//
// Blocks: use it only off the gRPC callback threads. Not thread-safe: one caller at a time.
//
//   ReflectionStream stream(channel, absl::Now() + absl::Seconds(5));
//   grpc_reflection::v1alpha::ServerReflectionRequest request;
//   request.set_list_services("");
//   grpc_reflection::v1alpha::ServerReflectionResponse response;
//   if (!stream.Ask(request, &response)) return stream.Finish();  // why it broke
#ifndef RENKEI_SECURITY_SERVER_REFLECTION_STREAM_H_
#define RENKEI_SECURITY_SERVER_REFLECTION_STREAM_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpc/reflection/v1alpha/reflection.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/support/async_stream.h"

namespace renkei {

class ReflectionStream {
 public:
  // The method every gRPC reflection server serves.
  static constexpr char kMethod[] =
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

  // Starts the call on `channel`; nothing is sent until the first Ask().
  ReflectionStream(const std::shared_ptr<grpc::ChannelInterface>& channel, absl::Time deadline);
  // Cancels the call unless Finish() ended it.
  ~ReflectionStream();
  ReflectionStream(const ReflectionStream&) = delete;
  ReflectionStream& operator=(const ReflectionStream&) = delete;

  // Sends `request` and reads the server's answer into `response`. False once the stream is
  // broken (server unreachable or gone, deadline passed, no reflection service): Finish()
  // then says why.
  bool Ask(const grpc_reflection::v1alpha::ServerReflectionRequest& request,
           grpc_reflection::v1alpha::ServerReflectionResponse* response);

  // Half-closes the stream and waits for the server's status: OK after a clean end;
  // UNIMPLEMENTED from a server without reflection; UNAVAILABLE when it cannot be reached;
  // DEADLINE_EXCEEDED. Further calls return the same status.
  absl::Status Finish();

 private:
  // Waits for the one operation in flight; its `ok`.
  bool Await();

  grpc::CompletionQueue queue_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<grpc_reflection::v1alpha::ServerReflectionRequest,
                                                grpc_reflection::v1alpha::ServerReflectionResponse>>
      call_;
  bool broken_ = false;
  bool finished_ = false;
  absl::Status status_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_REFLECTION_STREAM_H_
