// Descriptors fetched from gRPC's own reflection server (libgrpc++_reflection, as the demo
// backend serves it) in this process, and descriptor sets loaded, checked and built, hostile
// ones included. Backends without reflection and misbehaving ones:
// backend_descriptors_fake_backend_test.cc.
#include "security_server/backend_descriptors.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "municipal/v1/child_allowance.grpc.pb.h"
#include "municipal/v1/resident_registry.grpc.pb.h"

namespace renkei {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::DescriptorProto;
using google::protobuf::FieldDescriptorProto;
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

// A chain of `length` files, each importing the one before; the last defines service p.S.
FileDescriptorSet ImportChain(int length) {
  FileDescriptorSet files;
  for (int i = 0; i < length; ++i) {
    FileDescriptorProto* file = files.add_file();
    file->set_name(absl::StrCat("chain/", i, ".proto"));
    file->set_syntax("proto3");
    if (i > 0) file->add_dependency(absl::StrCat("chain/", i - 1, ".proto"));
  }
  FileDescriptorProto* last = files.mutable_file(length - 1);
  last->set_package("p");
  last->add_message_type()->set_name("M");
  google::protobuf::MethodDescriptorProto* method = last->add_service()->add_method();
  last->mutable_service(0)->set_name("S");
  method->set_name("Get");
  method->set_input_type(".p.M");
  method->set_output_type(".p.M");
  return files;
}

// A file of package p that imports `imports` and defines message p.M with a field of each of
// `field_types` (full names, with the leading dot).
FileDescriptorProto Importer(const std::vector<std::string>& imports,
                             const std::vector<std::string>& field_types) {
  FileDescriptorProto file;
  file.set_name("p/importer.proto");
  file.set_package("p");
  file.set_syntax("proto3");
  for (const std::string& import : imports) file.add_dependency(import);
  DescriptorProto* message = file.add_message_type();
  message->set_name("M");
  for (const std::string& type : field_types) {
    FieldDescriptorProto* field = message->add_field();
    field->set_name(absl::StrCat("f", message->field_size()));
    field->set_number(message->field_size());
    field->set_label(FieldDescriptorProto::LABEL_OPTIONAL);
    field->set_type(FieldDescriptorProto::TYPE_MESSAGE);
    field->set_type_name(type);
  }
  return file;
}

// Runs `work` on a thread of 256 KiB of stack: what recursion per file or per nested message
// would overflow (building a chain of 200 imports lazily, through a DescriptorDatabase, needs
// about 1 MiB).
void OnSmallStack(const std::function<void()>& work) {
  pthread_attr_t attributes;
  ASSERT_EQ(pthread_attr_init(&attributes), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attributes, 256 << 10), 0);
  pthread_t thread;
  auto run = [](void* work) -> void* {
    (*static_cast<const std::function<void()>*>(work))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attributes, run,
                           const_cast<std::function<void()>*>(&work)),
            0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attributes);
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

TEST(BuildDescriptorPool, BuildsEveryFileBeforeReturning) {
  auto pool = BuildDescriptorPool(AllowanceSet(), {kAllowance});
  ASSERT_TRUE(pool.ok()) << pool.status();
  // Nothing left to build lazily: the pool has no database to build it from.
  EXPECT_TRUE((*pool)->InternalIsFileLoaded(kRegistryFile));
  EXPECT_TRUE((*pool)->InternalIsFileLoaded(kAllowanceFile));
  const google::protobuf::ServiceDescriptor* service = (*pool)->FindServiceByName(kAllowance);
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(service->file()->pool(), pool->get());
  EXPECT_NE((*pool)->FindMessageTypeByName("renkei.municipal.v1.Resident"), nullptr);
}

TEST(BuildDescriptorPool, RefusesMoreFilesThanTheLimit) {
  absl::Status status = CheckDescriptorSet(ImportChain(10000), {"p.S"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("more than ", kMaxBackendDescriptorFiles)));
}

TEST(BuildDescriptorPool, BuildsALongImportChainWithoutRecursion) {
  OnSmallStack([] {
    auto pool = BuildDescriptorPool(ImportChain(200), {"p.S"});
    ASSERT_TRUE(pool.ok()) << pool.status();
    EXPECT_NE((*pool)->FindServiceByName("p.S"), nullptr);
    EXPECT_NE((*pool)->FindMessageTypeByName("p.M"), nullptr);
  });
}

// A provider's struct.proto in which Struct.fields is a repeated int32, not a map: protobuf's
// JSON parser would abort on it. The pool has this binary's own.
TEST(BuildDescriptorPool, KeepsItsOwnCopyOfAWellKnownType) {
  FileDescriptorProto evil = Generated("google/protobuf/struct.proto");
  DescriptorProto* message = evil.mutable_message_type(0);
  ASSERT_EQ(message->name(), "Struct");
  message->clear_nested_type();  // FieldsEntry
  FieldDescriptorProto* fields = message->mutable_field(0);
  fields->set_type(FieldDescriptorProto::TYPE_INT32);
  fields->clear_type_name();
  FileDescriptorSet files;
  *files.add_file() = evil;
  *files.add_file() = Importer({evil.name()}, {".google.protobuf.Struct"});

  auto pool = BuildDescriptorPool(files, {});
  ASSERT_TRUE(pool.ok()) << pool.status();
  const google::protobuf::Descriptor* own =
      (*pool)->FindMessageTypeByName("google.protobuf.Struct");
  ASSERT_NE(own, nullptr);
  ASSERT_NE(own->FindFieldByName("fields"), nullptr);
  EXPECT_TRUE(own->FindFieldByName("fields")->is_map());
  EXPECT_EQ(own->file()->DebugString(),
            google::protobuf::Struct::descriptor()->file()->DebugString());
  EXPECT_EQ((*pool)->FindMessageTypeByName("p.M")->field(0)->message_type(), own);
}

TEST(BuildDescriptorPool, SuppliesAWellKnownTypeTheSetLeavesOut) {
  FileDescriptorSet files = AllowanceSet();
  *files.add_file() = Importer({"google/protobuf/timestamp.proto"}, {".google.protobuf.Timestamp"});
  auto pool = BuildDescriptorPool(files, {kAllowance});
  ASSERT_TRUE(pool.ok()) << pool.status();
  const google::protobuf::Descriptor* timestamp =
      (*pool)->FindMessageTypeByName("google.protobuf.Timestamp");
  ASSERT_NE(timestamp, nullptr);
  EXPECT_EQ(timestamp->DebugString(), google::protobuf::Timestamp::descriptor()->DebugString());
}

TEST(BuildDescriptorPool, RefusesAProtobufFileThisBinaryDoesNotHave) {
  FileDescriptorProto unknown;
  unknown.set_name("google/protobuf/nonexistent.proto");
  unknown.set_package("google.protobuf");
  for (bool in_set : {true, false}) {
    SCOPED_TRACE(in_set ? "in the set" : "only imported");
    FileDescriptorSet files;
    if (in_set) *files.add_file() = unknown;
    *files.add_file() = Importer({unknown.name()}, {});
    absl::Status status = CheckDescriptorSet(files, {});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(status.message(), HasSubstr("google/protobuf/nonexistent.proto"));
  }
}

TEST(BuildDescriptorPool, RefusesOtherFilesDeclaringInProtobufsPackage) {
  FileDescriptorProto in_package = Importer({}, {});
  in_package.set_package("google.protobuf.evil");
  // Package google, message protobuf, nested message Struct: google.protobuf.Struct again.
  FileDescriptorProto nested = Importer({}, {});
  nested.set_package("google");
  nested.mutable_message_type(0)->set_name("protobuf");
  nested.mutable_message_type(0)->add_nested_type()->set_name("Struct");
  FileDescriptorProto own_package = Importer({}, {});
  own_package.set_package("google.protobuf");
  for (const FileDescriptorProto& file : {in_package, nested, own_package}) {
    SCOPED_TRACE(file.DebugString());
    FileDescriptorSet files;
    *files.add_file() = file;
    absl::Status status = CheckDescriptorSet(files, {});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(status.message(), HasSubstr("google.protobuf"));
  }
}

TEST(BuildDescriptorPool, RefusesANameOverTheLimit) {
  const std::string long_name(600, 'a');
  std::vector<std::function<void(FileDescriptorProto&)>> lengthenings = {
      [&](FileDescriptorProto& file) { file.set_name(long_name + ".proto"); },
      [&](FileDescriptorProto& file) { file.set_package(long_name); },
      [&](FileDescriptorProto& file) { file.mutable_message_type(0)->set_name(long_name); },
      [&](FileDescriptorProto& file) {
        file.mutable_message_type(0)->mutable_field(0)->set_name(long_name);
      },
      [&](FileDescriptorProto& file) { file.mutable_enum_type(0)->set_name(long_name); },
      [&](FileDescriptorProto& file) { file.mutable_service(0)->set_name(long_name); },
      [&](FileDescriptorProto& file) {
        file.mutable_service(0)->mutable_method(0)->set_name(long_name);
      },
  };
  for (size_t i = 0; i < lengthenings.size(); ++i) {
    SCOPED_TRACE(i);
    FileDescriptorSet files = AllowanceSet();
    lengthenings[i](*files.mutable_file(0));  // the registry file
    absl::Status status = CheckDescriptorSet(files, {kAllowance});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(status.message(), HasSubstr("longer than 512 bytes"));
    EXPECT_THAT(status.message(), HasSubstr("aaaa..."));  // quoted, shortened
  }
}

TEST(BuildDescriptorPool, RefusesAMessageWithTooManyFields) {
  for (int count : {kMaxFieldsPerMessage, kMaxFieldsPerMessage + 1}) {
    SCOPED_TRACE(count);
    FileDescriptorSet files;
    *files.add_file() =
        Importer({"google/protobuf/timestamp.proto"},
                 std::vector<std::string>(count, ".google.protobuf.Timestamp"));
    absl::Status status = CheckDescriptorSet(files, {});
    if (count <= kMaxFieldsPerMessage) {
      EXPECT_TRUE(status.ok()) << status;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
      EXPECT_THAT(status.message(), HasSubstr("p.M"));
    }
  }
}

TEST(BuildDescriptorPool, RefusesMessagesNestedTooDeep) {
  for (int depth : {kMaxMessageNesting, kMaxMessageNesting + 1}) {
    SCOPED_TRACE(depth);
    FileDescriptorProto file = Importer({}, {});
    DescriptorProto* message = file.mutable_message_type(0);
    for (int i = 1; i < depth; ++i) {
      message = message->add_nested_type();
      message->set_name("N");
    }
    FileDescriptorSet files;
    *files.add_file() = file;
    absl::Status status = CheckDescriptorSet(files, {});
    if (depth <= kMaxMessageNesting) {
      EXPECT_TRUE(status.ok()) << status;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
      EXPECT_THAT(status.message(), HasSubstr("nests message types"));
    }
  }
}

}  // namespace
}  // namespace renkei
