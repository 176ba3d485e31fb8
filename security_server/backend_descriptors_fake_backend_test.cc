// FetchDescriptorsByReflection against backends without reflection and against fake
// reflection servers that answer as other implementations may, or as a hostile one would.
//
// Not linked with libgrpc++_reflection (unlike backend_descriptors_test): once loaded, it adds
// gRPC's reflection service to every server of the process, and that service would answer
// instead of the fakes.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpc/reflection/v1alpha/reflection.pb.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "municipal/v1/child_allowance.grpc.pb.h"
#include "municipal/v1/resident_registry.grpc.pb.h"
#include "security_server/backend_descriptors.h"
#include "security_server/reflection_stream.h"

namespace renkei {
namespace {

using google::protobuf::FileDescriptorProto;
using grpc_reflection::v1alpha::ServerReflectionRequest;
using grpc_reflection::v1alpha::ServerReflectionResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kRegistry[] = "renkei.municipal.v1.ResidentRegistry";
constexpr char kAllowance[] = "renkei.municipal.v1.ChildAllowance";
constexpr char kRegistryFile[] = "municipal/v1/resident_registry.proto";
constexpr char kAllowanceFile[] = "municipal/v1/child_allowance.proto";
constexpr absl::Duration kTimeout = absl::Seconds(10);

// What a fake reflection server answers to one request.
using Answer = std::function<ServerReflectionResponse(const ServerReflectionRequest&)>;

// Serves `answer` as the reflection method, on a generic service: the messages are our copy.
class FakeReflection final : public grpc::CallbackGenericService {
 public:
  explicit FakeReflection(Answer answer) : answer_(std::move(answer)) {}

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    return new Stream(context->method() == ReflectionStream::kMethod ? &answer_ : nullptr);
  }

 private:
  // One reflection stream: reads a request, writes its answer, until the client half-closes.
  class Stream final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Stream(const Answer* answer) : answer_(answer) {
      if (answer_ == nullptr) {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no such method"));
        return;
      }
      StartRead(&incoming_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      std::vector<grpc::Slice> slices;
      ServerReflectionRequest request;
      std::string bytes;
      if (incoming_.Dump(&slices).ok()) {
        for (const grpc::Slice& slice : slices) {
          bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
        }
      }
      if (!request.ParseFromString(bytes)) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad request"));
        return;
      }
      grpc::Slice answer((*answer_)(request).SerializeAsString());
      outgoing_ = grpc::ByteBuffer(&answer, 1);
      StartWrite(&outgoing_);
    }
    void OnWriteDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
        return;
      }
      StartRead(&incoming_);
    }
    void OnDone() override { delete this; }

   private:
    const Answer* answer_;
    grpc::ByteBuffer incoming_;
    grpc::ByteBuffer outgoing_;
  };

  const Answer answer_;
};

class Registry final : public municipal::v1::ResidentRegistry::Service {};

// A backend on loopback: a registry service, and the fake reflection if there is one.
class Backend {
 public:
  explicit Backend(grpc::CallbackGenericService* reflection) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&registry_);
    if (reflection != nullptr) builder.RegisterCallbackGenericService(reflection);
    server_ = builder.BuildAndStart();
  }
  ~Backend() {
    if (server_ != nullptr) server_->Shutdown();
  }

  bool started() const { return server_ != nullptr && port_ > 0; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  Registry registry_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

std::string Generated(const std::string& file) {
  // Names the generated types, so that their files are linked in and registered.
  EXPECT_NE(municipal::v1::CheckEligibilityRequest::descriptor(), nullptr);
  EXPECT_NE(municipal::v1::Resident::descriptor(), nullptr);
  FileDescriptorProto proto;
  google::protobuf::DescriptorPool::generated_pool()->FindFileByName(file)->CopyTo(&proto);
  return proto.SerializeAsString();
}

ServerReflectionResponse Files(const std::vector<std::string>& files) {
  ServerReflectionResponse response;
  for (const std::string& file : files) {
    response.mutable_file_descriptor_response()->add_file_descriptor_proto(file);
  }
  return response;
}

ServerReflectionResponse NotFound() {
  ServerReflectionResponse response;
  response.mutable_error_response()->set_error_code(5);  // NOT_FOUND
  response.mutable_error_response()->set_error_message("not found");
  return response;
}

// Sends only the file asked for, never its imports (the protocol allows leaving out files sent
// before; some servers send no imports at all): the client asks for each by name.
ServerReflectionResponse OnlyTheFileAskedFor(const ServerReflectionRequest& request) {
  if (request.file_containing_symbol() == kAllowance) return Files({Generated(kAllowanceFile)});
  if (request.file_containing_symbol() == kRegistry) return Files({Generated(kRegistryFile)});
  if (request.file_by_filename() == kRegistryFile) return Files({Generated(kRegistryFile)});
  return NotFound();
}

absl::StatusCode FetchFrom(const Answer& answer, std::string* message) {
  FakeReflection reflection(answer);
  Backend backend(&reflection);
  EXPECT_TRUE(backend.started());
  auto files = FetchDescriptorsByReflection(backend.address(), {kAllowance}, kTimeout);
  *message = std::string(files.status().message());
  return files.status().code();
}

TEST(FetchDescriptorsByReflection, BackendWithoutReflectionIsUnavailable) {
  Backend backend(nullptr);
  ASSERT_TRUE(backend.started());
  auto files = FetchDescriptorsByReflection(backend.address(), {kRegistry}, kTimeout);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kUnavailable) << files.status();
  EXPECT_THAT(files.status().message(), HasSubstr("no gRPC server reflection"));
}

TEST(FetchDescriptorsByReflection, AsksForImportsTheBackendLeftOut) {
  FakeReflection reflection(OnlyTheFileAskedFor);
  Backend backend(&reflection);
  ASSERT_TRUE(backend.started());
  auto files = FetchDescriptorsByReflection(backend.address(), {kAllowance}, kTimeout);
  ASSERT_TRUE(files.ok()) << files.status();
  std::vector<std::string> names;
  for (const FileDescriptorProto& file : files->file()) names.push_back(file.name());
  EXPECT_THAT(names, ElementsAre(kRegistryFile, kAllowanceFile));
}

TEST(FetchDescriptorsByReflection, RefusesAFileThatDoesNotParse) {
  std::string message;
  EXPECT_EQ(
      FetchFrom([](const ServerReflectionRequest&) { return Files({"\xff\xff\xff"}); }, &message),
      absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message, HasSubstr("does not parse"));
}

TEST(FetchDescriptorsByReflection, RefusesAFileWithoutAName) {
  std::string message;
  EXPECT_EQ(FetchFrom([](const ServerReflectionRequest&) { return Files({""}); }, &message),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message, HasSubstr("without a name"));
}

TEST(FetchDescriptorsByReflection, RefusesAnImportTheBackendDoesNotHave) {
  std::string message;
  EXPECT_EQ(FetchFrom(
                [](const ServerReflectionRequest& request) {
                  if (!request.file_containing_symbol().empty()) {
                    return Files({Generated(kAllowanceFile)});
                  }
                  return NotFound();
                },
                &message),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message, HasSubstr(kRegistryFile));
}

TEST(FetchDescriptorsByReflection, RefusesAnAnswerWithoutTheFileAskedFor) {
  std::string message;
  EXPECT_EQ(
      FetchFrom([](const ServerReflectionRequest&) { return Files({Generated(kAllowanceFile)}); },
                &message),
      absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message, HasSubstr(kRegistryFile));
}

TEST(FetchDescriptorsByReflection, RefusesTwoDifferentFilesOfOneName) {
  FileDescriptorProto changed;
  ASSERT_TRUE(changed.ParseFromString(Generated(kRegistryFile)));
  changed.set_package("renkei.elsewhere");
  const std::string changed_bytes = changed.SerializeAsString();
  std::string message;
  EXPECT_EQ(
      FetchFrom(
          [&](const ServerReflectionRequest&) {
            return Files({Generated(kAllowanceFile), Generated(kRegistryFile), changed_bytes});
          },
          &message),
      absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message, HasSubstr(kRegistryFile));
}

TEST(FetchDescriptorsByReflection, RefusesMoreFilesThanTheLimit) {
  std::vector<std::string> many = {Generated(kAllowanceFile), Generated(kRegistryFile)};
  for (int i = 0; i < kMaxBackendDescriptorFiles; ++i) {
    FileDescriptorProto file;
    file.set_name(absl::StrCat("filler/", i, ".proto"));
    many.push_back(file.SerializeAsString());
  }
  std::string message;
  EXPECT_EQ(FetchFrom([&](const ServerReflectionRequest&) { return Files(many); }, &message),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message, HasSubstr(absl::StrCat("more than ", kMaxBackendDescriptorFiles)));
}

TEST(FetchDescriptorsByReflection, RefusesFilesThatDoNotBuild) {
  FileDescriptorProto broken;
  ASSERT_TRUE(broken.ParseFromString(Generated(kAllowanceFile)));
  broken.mutable_service(0)->mutable_method(0)->set_input_type(".renkei.municipal.v1.Nowhere");
  const std::string broken_bytes = broken.SerializeAsString();
  std::string message;
  EXPECT_EQ(FetchFrom(
                [&](const ServerReflectionRequest&) {
                  return Files({broken_bytes, Generated(kRegistryFile)});
                },
                &message),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message, HasSubstr("renkei.municipal.v1.Nowhere"));
}

TEST(FetchDescriptorsByReflection, ABackendErrorOtherThanNotFoundIsUnavailable) {
  std::string message;
  EXPECT_EQ(FetchFrom(
                [](const ServerReflectionRequest&) {
                  ServerReflectionResponse response;
                  response.mutable_error_response()->set_error_code(13);  // INTERNAL
                  response.mutable_error_response()->set_error_message("descriptor pool gone");
                  return response;
                },
                &message),
            absl::StatusCode::kUnavailable);
  EXPECT_THAT(message, HasSubstr("descriptor pool gone"));
}

TEST(FetchDescriptorsByReflection, RefusesAnEmptyAnswer) {
  std::string message;
  EXPECT_EQ(FetchFrom([](const ServerReflectionRequest&) { return ServerReflectionResponse(); },
                      &message),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message, HasSubstr("neither files nor an error"));
}

}  // namespace
}  // namespace renkei
