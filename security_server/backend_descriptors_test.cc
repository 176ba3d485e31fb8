// Descriptors fetched from gRPC's own reflection server (libgrpc++_reflection, as the demo
// backend serves it) in this process, and descriptor sets loaded and checked. Backends without
// reflection and misbehaving ones: backend_descriptors_fake_backend_test.cc.
#include "security_server/backend_descriptors.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "municipal/v1/child_allowance.grpc.pb.h"
#include "municipal/v1/resident_registry.grpc.pb.h"

namespace renkei {
namespace {

using google::protobuf::FileDescriptorProto;
using google::protobuf::FileDescriptorSet;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kRegistry[] = "renkei.municipal.v1.ResidentRegistry";
constexpr char kAllowance[] = "renkei.municipal.v1.ChildAllowance";
constexpr char kRegistryFile[] = "municipal/v1/resident_registry.proto";
constexpr char kAllowanceFile[] = "municipal/v1/child_allowance.proto";
constexpr absl::Duration kTimeout = absl::Seconds(10);

// Reflection describes services from their generated descriptors: no method need answer.
class Registry final : public municipal::v1::ResidentRegistry::Service {};
class Allowance final : public municipal::v1::ChildAllowance::Service {};

// A backend on loopback with gRPC's reflection service.
class ReflectingBackend {
 public:
  ReflectingBackend() {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&registry_);
    builder.RegisterService(&allowance_);
    server_ = builder.BuildAndStart();
  }
  ~ReflectingBackend() {
    if (server_ != nullptr) server_->Shutdown();
  }

  bool started() const { return server_ != nullptr && port_ > 0; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  Registry registry_;
  Allowance allowance_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

std::vector<std::string> Names(const FileDescriptorSet& files) {
  std::vector<std::string> names;
  for (const FileDescriptorProto& file : files.file()) names.push_back(file.name());
  return names;
}

// The generated descriptor of `file`, as a reflection server or protoc sends it.
FileDescriptorProto Generated(const std::string& file) {
  FileDescriptorProto proto;
  google::protobuf::DescriptorPool::generated_pool()->FindFileByName(file)->CopyTo(&proto);
  return proto;
}

// The child allowance service's file and its import, as protoc --include_imports writes them.
FileDescriptorSet AllowanceSet() {
  // Names the generated types, so that their files are linked in and registered.
  EXPECT_NE(municipal::v1::CheckEligibilityRequest::descriptor(), nullptr);
  EXPECT_NE(municipal::v1::Resident::descriptor(), nullptr);
  FileDescriptorSet files;
  *files.add_file() = Generated(kRegistryFile);
  *files.add_file() = Generated(kAllowanceFile);
  return files;
}

// A fresh folder per test, under Bazel's TEST_TMPDIR when there is one.
std::string MakeFolder() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern =
      std::string(base != nullptr ? base : "/tmp") + "/backend_descriptors_test.XXXXXX";
  EXPECT_NE(mkdtemp(pattern.data()), nullptr);
  return pattern;
}

TEST(FetchDescriptorsByReflection, BringsTheFileOfTheService) {
  ReflectingBackend backend;
  ASSERT_TRUE(backend.started());
  auto files = FetchDescriptorsByReflection(backend.address(), {kRegistry}, kTimeout);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(Names(*files), ElementsAre(kRegistryFile));
  EXPECT_EQ(files->file(0).SerializeAsString(), Generated(kRegistryFile).SerializeAsString());
  EXPECT_TRUE(CheckDescriptorSet(*files, {kRegistry}).ok());
}

TEST(FetchDescriptorsByReflection, BringsImportsFirst) {
  ReflectingBackend backend;
  ASSERT_TRUE(backend.started());
  auto files = FetchDescriptorsByReflection(backend.address(), {kAllowance}, kTimeout);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(Names(*files), ElementsAre(kRegistryFile, kAllowanceFile));
  EXPECT_TRUE(CheckDescriptorSet(*files, {kAllowance}).ok());
}

TEST(FetchDescriptorsByReflection, BringsEachFileOnceForSeveralServices) {
  ReflectingBackend backend;
  ASSERT_TRUE(backend.started());
  auto files = FetchDescriptorsByReflection(backend.address(), {kAllowance, kRegistry}, kTimeout);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(Names(*files), ElementsAre(kRegistryFile, kAllowanceFile));
  EXPECT_TRUE(CheckDescriptorSet(*files, {kAllowance, kRegistry}).ok());
}

TEST(FetchDescriptorsByReflection, UnknownServiceIsNotFound) {
  ReflectingBackend backend;
  ASSERT_TRUE(backend.started());
  auto files = FetchDescriptorsByReflection(
      backend.address(), {kRegistry, "renkei.municipal.v1.NoSuchService"}, kTimeout);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound) << files.status();
  EXPECT_THAT(files.status().message(), HasSubstr("renkei.municipal.v1.NoSuchService"));
}

// The backend knows the name, and answers with its file: but it is a message.
TEST(FetchDescriptorsByReflection, AMessageIsNotAService) {
  ReflectingBackend backend;
  ASSERT_TRUE(backend.started());
  auto files =
      FetchDescriptorsByReflection(backend.address(), {"renkei.municipal.v1.Resident"}, kTimeout);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound) << files.status();
  EXPECT_THAT(files.status().message(), HasSubstr("renkei.municipal.v1.Resident"));
}

// A port bound but not listening refuses connections, and nobody else can take it meanwhile.
TEST(FetchDescriptorsByReflection, NothingListeningIsUnavailable) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string closed = absl::StrCat("127.0.0.1:", ntohs(address.sin_port));

  auto files = FetchDescriptorsByReflection(closed, {kRegistry}, kTimeout);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kUnavailable) << files.status();
  EXPECT_THAT(files.status().message(), HasSubstr(closed));
  close(fd);
}

TEST(FetchDescriptorsByReflection, NeedsAService) {
  auto files = FetchDescriptorsByReflection("127.0.0.1:1", {}, kTimeout);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument) << files.status();
}

TEST(LoadDescriptorSetFile, ReadsWhatProtocWrites) {
  const std::string path = MakeFolder() + "/allowance.pb";
  const FileDescriptorSet written = AllowanceSet();
  ASSERT_TRUE(WriteFileAtomically(path, written.SerializeAsString(), 0644).ok());
  auto files = LoadDescriptorSetFile(path);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->SerializeAsString(), written.SerializeAsString());
  EXPECT_TRUE(CheckDescriptorSet(*files, {kAllowance, kRegistry}).ok());
}

TEST(LoadDescriptorSetFile, RefusesAFileThatIsNotADescriptorSet) {
  const std::string path = MakeFolder() + "/garbage.pb";
  ASSERT_TRUE(WriteFileAtomically(path, "not a descriptor set\n", 0644).ok());
  auto files = LoadDescriptorSetFile(path);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument) << files.status();
  EXPECT_THAT(files.status().message(), HasSubstr(path));
}

TEST(LoadDescriptorSetFile, MissingFileIsNotFound) {
  auto files = LoadDescriptorSetFile(MakeFolder() + "/absent.pb");
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound) << files.status();
}

TEST(CheckDescriptorSet, AcceptsFilesInAnyOrder) {
  FileDescriptorSet files;
  *files.add_file() = Generated(kAllowanceFile);
  *files.add_file() = Generated(kRegistryFile);
  EXPECT_TRUE(CheckDescriptorSet(files, {kAllowance}).ok());
}

TEST(CheckDescriptorSet, RefusesAMissingImport) {
  FileDescriptorSet files = AllowanceSet();
  files.mutable_file()->DeleteSubrange(0, 1);  // the registry file, which the allowance imports
  absl::Status status = CheckDescriptorSet(files, {kAllowance});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(kRegistryFile));
}

TEST(CheckDescriptorSet, RefusesASetWithoutTheService) {
  FileDescriptorSet files = AllowanceSet();
  absl::Status status = CheckDescriptorSet(files, {"renkei.municipal.v1.Pension"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("renkei.municipal.v1.Pension"));
}

TEST(CheckDescriptorSet, RefusesAFileNamedTwice) {
  FileDescriptorSet files = AllowanceSet();
  *files.add_file() = Generated(kRegistryFile);
  absl::Status status = CheckDescriptorSet(files, {kAllowance});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(kRegistryFile));
}

TEST(CheckDescriptorSet, RefusesTwoFilesDefiningTheSameNames) {
  FileDescriptorSet files = AllowanceSet();
  FileDescriptorProto copy = Generated(kRegistryFile);
  copy.set_name("municipal/v1/copy.proto");
  *files.add_file() = copy;
  absl::Status status = CheckDescriptorSet(files, {kAllowance});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("municipal/v1/copy.proto"));
}

TEST(CheckDescriptorSet, RefusesAnImportCycle) {
  FileDescriptorSet files = AllowanceSet();
  files.mutable_file(0)->add_dependency(kAllowanceFile);  // registry <-> allowance
  absl::Status status = CheckDescriptorSet(files, {kAllowance});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("imports itself"));
}

TEST(CheckDescriptorSet, RefusesAFieldOfAnUndefinedType) {
  FileDescriptorSet files = AllowanceSet();
  google::protobuf::FieldDescriptorProto* field =
      files.mutable_file(1)->mutable_message_type(0)->mutable_field(0);
  field->set_type(google::protobuf::FieldDescriptorProto::TYPE_MESSAGE);
  field->set_type_name(".renkei.municipal.v1.Nowhere");
  absl::Status status = CheckDescriptorSet(files, {kAllowance});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("renkei.municipal.v1.Nowhere"));
}

TEST(CheckDescriptorSet, EscapesNamesFromTheSet) {
  FileDescriptorSet files;
  files.add_file()->set_name("evil\n.proto");
  files.mutable_file(0)->add_dependency("other\x1b[2J.proto");
  absl::Status status = CheckDescriptorSet(files, {kRegistry});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("evil\\x0a.proto"));
  EXPECT_THAT(status.message(), HasSubstr("other\\x1b[2J.proto"));
}

}  // namespace
}  // namespace renkei
