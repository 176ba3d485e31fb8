#include "security_server/backend_descriptors.h"

#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "grpc/reflection/v1alpha/reflection.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "security_server/reflection_stream.h"

namespace renkei {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::DescriptorProto;
using google::protobuf::EnumDescriptorProto;
using google::protobuf::FileDescriptorProto;
using google::protobuf::FileDescriptorSet;
using grpc_reflection::v1alpha::FileDescriptorResponse;
using grpc_reflection::v1alpha::ServerReflectionRequest;
using grpc_reflection::v1alpha::ServerReflectionResponse;

// Longest text from another process that an error message quotes.
constexpr size_t kMaxQuotedBytes = 200;

// `text` from another process, fit for an error message and a log line: bytes outside
// printable ASCII (and backslashes) as \xNN, at most kMaxQuotedBytes of it.
std::string Printable(absl::string_view text) {
  std::string printable;
  for (char c : text.substr(0, kMaxQuotedBytes)) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      printable.push_back(c);
    } else {
      absl::StrAppend(&printable, "\\x", absl::Hex(byte, absl::kZeroPad2));
    }
  }
  if (text.size() > kMaxQuotedBytes) printable += "...";
  return printable;
}

std::string Quoted(absl::string_view text) { return absl::StrCat("\"", Printable(text), "\""); }

// Keeps the first error of a build.
class FirstError final : public google::protobuf::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& /*filename*/, const std::string& element_name,
                const google::protobuf::Message* /*descriptor*/, ErrorLocation /*location*/,
                const std::string& message) override {
    if (error_.empty()) error_ = absl::StrCat(Quoted(element_name), ": ", Printable(message));
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

// Indices of `files` in dependency order (imports first). INVALID_ARGUMENT when a file has no
// name or the name of another, imports a file the set does not contain, or is part of an
// import cycle.
absl::StatusOr<std::vector<int>> DependencyOrder(
    const std::vector<const FileDescriptorProto*>& files) {
  const int count = static_cast<int>(files.size());
  std::map<std::string, int> by_name;
  for (int i = 0; i < count; ++i) {
    const std::string& name = files[i]->name();
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("file ", i, " of the set has no name"));
    }
    if (!by_name.emplace(name, i).second) {
      return absl::InvalidArgumentError(absl::StrCat("file ", Quoted(name), " appears twice"));
    }
  }
  std::vector<std::vector<int>> imports(count);
  for (int i = 0; i < count; ++i) {
    for (const std::string& import : files[i]->dependency()) {
      auto found = by_name.find(import);
      if (found == by_name.end()) {
        return absl::InvalidArgumentError(absl::StrCat("file ", Quoted(files[i]->name()),
                                                       " imports ", Quoted(import),
                                                       ", which the set does not contain"));
      }
      imports[i].push_back(found->second);
    }
  }
  // Depth-first, with an explicit stack: a hostile set may chain thousands of files.
  enum class Mark { kUnseen, kOpen, kDone };
  std::vector<Mark> marks(count, Mark::kUnseen);
  std::vector<int> order;
  order.reserve(count);
  std::vector<std::pair<int, size_t>> path;  // file, index of its next import to visit
  for (int root = 0; root < count; ++root) {
    if (marks[root] != Mark::kUnseen) continue;
    marks[root] = Mark::kOpen;
    path.emplace_back(root, 0);
    while (!path.empty()) {
      const int file = path.back().first;
      const size_t next = path.back().second;
      if (next == imports[file].size()) {
        marks[file] = Mark::kDone;
        order.push_back(file);
        path.pop_back();
        continue;
      }
      ++path.back().second;
      const int import = imports[file][next];
      if (marks[import] == Mark::kOpen) {
        return absl::InvalidArgumentError(absl::StrCat("file ", Quoted(files[import]->name()),
                                                       " imports itself (through ",
                                                       Quoted(files[file]->name()), ")"));
      }
      if (marks[import] == Mark::kUnseen) {
        marks[import] = Mark::kOpen;
        path.emplace_back(import, 0);
      }
    }
  }
  return order;
}

// The files of `set`, in the set's order.
std::vector<const FileDescriptorProto*> FilesOf(const FileDescriptorSet& set) {
  std::vector<const FileDescriptorProto*> files;
  files.reserve(set.file_size());
  for (const FileDescriptorProto& file : set.file()) files.push_back(&file);
  return files;
}

// Whether `file` names a file of protobuf's well-known types (or descriptor.proto...), which
// only this binary's own copy may define.
bool IsProtobufFile(absl::string_view file) { return absl::StartsWith(file, "google/protobuf/"); }

// Whether the full name `name` is in protobuf's own package, where only its files may declare.
bool IsInProtobufPackage(absl::string_view name) {
  return name == "google.protobuf" || absl::StartsWith(name, "google.protobuf.");
}

// Checks what `file` declares against the bounds of the header, without recursion, before
// protobuf's builder (which recurses into nested messages) sees it.
class DeclarationCheck {
 public:
  explicit DeclarationCheck(const FileDescriptorProto& file) : file_(file) {}

  absl::Status Run() {
    RENKEI_ASSIGN_OR_RETURN(const std::string package, FullName("", file_.package()));
    for (const EnumDescriptorProto& declared : file_.enum_type()) {
      RENKEI_RETURN_IF_ERROR(CheckEnum(package, declared));
    }
    for (const auto& extension : file_.extension()) {
      RENKEI_RETURN_IF_ERROR(FullName(package, extension.name()).status());
    }
    for (const auto& service : file_.service()) {
      RENKEI_ASSIGN_OR_RETURN(const std::string service_name, FullName(package, service.name()));
      for (const auto& method : service.method()) {
        RENKEI_RETURN_IF_ERROR(FullName(service_name, method.name()).status());
      }
    }
    // Depth first with an explicit stack: depth is checked before a message's nested types
    // are looked at, so the stack holds at most the messages of the file.
    struct Open {
      const DescriptorProto* message;
      std::string scope;  // full name of what declares it
      int depth;          // 1 at the top level
    };
    std::vector<Open> open;
    for (const DescriptorProto& message : file_.message_type()) {
      open.push_back({&message, package, 1});
    }
    while (!open.empty()) {
      const Open next = std::move(open.back());
      open.pop_back();
      const DescriptorProto& message = *next.message;
      RENKEI_ASSIGN_OR_RETURN(const std::string name, FullName(next.scope, message.name()));
      if (next.depth > kMaxMessageNesting) {
        return Invalid(absl::StrCat("nests message types more than ", kMaxMessageNesting,
                                    " deep, at ", Quoted(name)));
      }
      if (message.field_size() > kMaxFieldsPerMessage) {
        return Invalid(absl::StrCat("has more than ", kMaxFieldsPerMessage,
                                    " fields in message ", Quoted(name)));
      }
      for (const auto& field : message.field()) {
        RENKEI_RETURN_IF_ERROR(FullName(name, field.name()).status());
      }
      for (const auto& extension : message.extension()) {
        RENKEI_RETURN_IF_ERROR(FullName(name, extension.name()).status());
      }
      for (const auto& oneof : message.oneof_decl()) {
        RENKEI_RETURN_IF_ERROR(FullName(name, oneof.name()).status());
      }
      for (const EnumDescriptorProto& declared : message.enum_type()) {
        RENKEI_RETURN_IF_ERROR(CheckEnum(name, declared));
      }
      for (const DescriptorProto& nested : message.nested_type()) {
        open.push_back({&nested, name, next.depth + 1});
      }
    }
    return absl::OkStatus();
  }

 private:
  // The full name of `name` declared in `scope` (empty at the top): INVALID_ARGUMENT when it
  // is too long or in protobuf's package.
  absl::StatusOr<std::string> FullName(const std::string& scope, const std::string& name) const {
    const size_t size = scope.empty() ? name.size() : scope.size() + 1 + name.size();
    if (size > static_cast<size_t>(kMaxDescriptorNameBytes)) {
      return Invalid(absl::StrCat("declares a name longer than ", kMaxDescriptorNameBytes,
                                  " bytes: ", Quoted(scope.empty() ? name : scope + "." + name)));
    }
    std::string full_name = scope.empty() ? name : absl::StrCat(scope, ".", name);
    if (IsInProtobufPackage(full_name)) {
      return Invalid(absl::StrCat("declares ", Quoted(full_name),
                                  ", in package google.protobuf, which is protobuf's own"));
    }
    return full_name;
  }

  // Enum values are declared beside their enum, in its scope, as in C++.
  absl::Status CheckEnum(const std::string& scope, const EnumDescriptorProto& declared) const {
    RENKEI_RETURN_IF_ERROR(FullName(scope, declared.name()).status());
    for (const auto& value : declared.value()) {
      RENKEI_RETURN_IF_ERROR(FullName(scope, value.name()).status());
    }
    return absl::OkStatus();
  }

  absl::Status Invalid(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("file ", Quoted(file_.name()), " ", what));
  }

  const FileDescriptorProto& file_;
};

// What a pool is built from: the files of a set other than protobuf's, each checked by
// DeclarationCheck, and this binary's own copy of each of protobuf's files that the set holds
// or that any of these imports.
class FilesToBuild {
 public:
  absl::Status Collect(const FileDescriptorSet& set) {
    std::set<std::string> names;
    std::vector<std::string> wanted;  // protobuf's files to copy
    for (int i = 0; i < set.file_size(); ++i) {
      const FileDescriptorProto& file = set.file(i);
      if (file.name().empty()) {
        return absl::InvalidArgumentError(absl::StrCat("file ", i, " of the set has no name"));
      }
      if (file.name().size() > static_cast<size_t>(kMaxDescriptorNameBytes)) {
        return absl::InvalidArgumentError(absl::StrCat("file ", Quoted(file.name()),
                                                       " has a name longer than ",
                                                       kMaxDescriptorNameBytes, " bytes"));
      }
      if (!names.insert(file.name()).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("file ", Quoted(file.name()), " appears twice"));
      }
      if (IsProtobufFile(file.name())) {
        wanted.push_back(file.name());  // what the set holds under that name does not matter
        continue;
      }
      RENKEI_RETURN_IF_ERROR(DeclarationCheck(file).Run());
      files_.push_back(&file);
      for (const std::string& import : file.dependency()) {
        if (IsProtobufFile(import)) wanted.push_back(import);
      }
    }
    std::set<std::string> copied;
    while (!wanted.empty()) {  // protobuf's files import only protobuf's files
      const std::string name = std::move(wanted.back());
      wanted.pop_back();
      if (!copied.insert(name).second) continue;
      const google::protobuf::FileDescriptor* own =
          DescriptorPool::generated_pool()->FindFileByName(name);
      if (own == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("file ", Quoted(name),
                                                       " is named as one of protobuf's own, "
                                                       "which this binary does not have"));
      }
      own_copies_.push_back(std::make_unique<FileDescriptorProto>());
      own->CopyTo(own_copies_.back().get());
      files_.push_back(own_copies_.back().get());
      for (int i = 0; i < own->dependency_count(); ++i) {
        wanted.push_back(own->dependency(i)->name());
      }
    }
    return absl::OkStatus();
  }

  const std::vector<const FileDescriptorProto*>& files() const { return files_; }

 private:
  std::vector<const FileDescriptorProto*> files_;  // into the set or own_copies_
  std::vector<std::unique_ptr<FileDescriptorProto>> own_copies_;
};

// Whether a file of `files` declares the service of full name `service`.
bool DeclaresService(const FileDescriptorSet& files, const std::string& service) {
  for (const FileDescriptorProto& file : files.file()) {
    for (const auto& declared : file.service()) {
      const std::string full_name = file.package().empty()
                                        ? declared.name()
                                        : absl::StrCat(file.package(), ".", declared.name());
      if (full_name == service) return true;
    }
  }
  return false;
}

// The files a backend sent on one reflection stream, each once, in arrival order, within the
// limits of kMaxBackendDescriptorFiles and kMaxBackendDescriptorBytes.
class ReceivedFiles {
 public:
  explicit ReceivedFiles(const std::string& backend) : backend_(backend) {}

  // Keeps the files of `response` not received before. INVALID_ARGUMENT when one does not
  // parse, has no name, differs from an earlier one of the same name, or is over a limit.
  absl::Status Add(const FileDescriptorResponse& response) {
    for (const std::string& bytes : response.file_descriptor_proto()) {
      FileDescriptorProto file;
      if (!file.ParseFromString(bytes)) return Invalid("a file descriptor that does not parse");
      if (file.name().empty()) return Invalid("a file descriptor without a name");
      auto [earlier, inserted] = bytes_by_name_.emplace(file.name(), bytes);
      if (!inserted) {
        if (earlier->second != bytes) {
          return Invalid(absl::StrCat("two different files named ", Quoted(file.name())));
        }
        continue;
      }
      total_bytes_ += bytes.size();
      if (files_.file_size() == kMaxBackendDescriptorFiles) {
        return Invalid(absl::StrCat("more than ", kMaxBackendDescriptorFiles, " files"));
      }
      if (total_bytes_ > static_cast<size_t>(kMaxBackendDescriptorBytes)) {
        return Invalid(absl::StrCat("more than ", kMaxBackendDescriptorBytes, " bytes of files"));
      }
      *files_.add_file() = std::move(file);
    }
    return absl::OkStatus();
  }

  bool Has(const std::string& name) const { return bytes_by_name_.count(name) > 0; }
  const FileDescriptorSet& files() const { return files_; }

 private:
  absl::Status Invalid(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("backend at ", backend_, " sent ", what));
  }

  const std::string& backend_;
  FileDescriptorSet files_;
  std::map<std::string, std::string> bytes_by_name_;
  size_t total_bytes_ = 0;
};

// The backend's answer to `request`: its files; NOT_FOUND when it does not know what was asked
// for; UNAVAILABLE when the stream broke or it answered with another error.
absl::StatusOr<FileDescriptorResponse> AskForFiles(ReflectionStream& stream,
                                                   const std::string& backend,
                                                   const ServerReflectionRequest& request) {
  ServerReflectionResponse response;
  if (!stream.Ask(request, &response)) {
    const absl::Status status = stream.Finish();
    if (absl::IsUnimplemented(status)) {
      return absl::UnavailableError(absl::StrCat(
          "backend at ", backend, " has no gRPC server reflection (UNIMPLEMENTED: ",
          Printable(status.message()), "); name a descriptor set file for it instead"));
    }
    if (status.ok()) {
      return absl::UnavailableError(
          absl::StrCat("backend at ", backend, " ended the reflection stream without answering"));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot ask backend at ", backend, " by reflection: ",
                     absl::StatusCodeToString(status.code()), ": ", Printable(status.message())));
  }
  switch (response.message_response_case()) {
    case ServerReflectionResponse::kFileDescriptorResponse:
      return std::move(*response.mutable_file_descriptor_response());
    case ServerReflectionResponse::kErrorResponse: {
      const auto& error = response.error_response();
      if (error.error_code() == static_cast<int>(absl::StatusCode::kNotFound)) {
        return absl::NotFoundError(Printable(error.error_message()));
      }
      return absl::UnavailableError(
          absl::StrCat("backend at ", backend, " refused a reflection request: error ",
                       error.error_code(), ": ", Printable(error.error_message())));
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("backend at ", backend,
                       " answered a reflection request with neither files nor an error"));
  }
}

}  // namespace

absl::StatusOr<FileDescriptorSet> FetchDescriptorsByReflection(
    const std::string& backend_address, const std::vector<std::string>& service_names,
    absl::Duration timeout) {
  if (service_names.empty()) {
    return absl::InvalidArgumentError("no service to fetch the descriptors of");
  }
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxBackendDescriptorBytes);
  ReflectionStream stream(
      grpc::CreateCustomChannel(backend_address, grpc::InsecureChannelCredentials(), arguments),
      absl::Now() + timeout);
  ReceivedFiles received(backend_address);

  for (const std::string& service : service_names) {
    ServerReflectionRequest request;
    request.set_file_containing_symbol(service);
    auto files = AskForFiles(stream, backend_address, request);
    if (absl::IsNotFound(files.status())) {
      return absl::NotFoundError(absl::StrCat("backend at ", backend_address,
                                              " does not know service ", Quoted(service), " (",
                                              files.status().message(), ")"));
    }
    RENKEI_RETURN_IF_ERROR(files.status());
    RENKEI_RETURN_IF_ERROR(received.Add(*files));
  }

  // A reflection server may leave out the files it sent earlier on the stream, or send only
  // the file asked for: ask for each import still missing. Every answer must bring the file
  // asked for, so this ends within kMaxBackendDescriptorFiles requests.
  for (int i = 0; i < received.files().file_size(); ++i) {  // the set grows as files arrive
    const FileDescriptorProto& importer = received.files().file(i);
    const std::vector<std::string> imports(importer.dependency().begin(),
                                           importer.dependency().end());
    const std::string importer_name = importer.name();
    for (const std::string& import : imports) {
      if (received.Has(import)) continue;
      ServerReflectionRequest request;
      request.set_file_by_filename(import);
      auto files = AskForFiles(stream, backend_address, request);
      if (absl::IsNotFound(files.status())) {
        return absl::InvalidArgumentError(absl::StrCat("backend at ", backend_address,
                                                       " does not have file ", Quoted(import),
                                                       ", imported by ", Quoted(importer_name)));
      }
      RENKEI_RETURN_IF_ERROR(files.status());
      RENKEI_RETURN_IF_ERROR(received.Add(*files));
      if (!received.Has(import)) {
        return absl::InvalidArgumentError(absl::StrCat("backend at ", backend_address,
                                                       " answered a request for file ",
                                                       Quoted(import), " without it"));
      }
    }
  }

  // A symbol of another kind (a message) also has a file: the backend knows no such service.
  for (const std::string& service : service_names) {
    if (!DeclaresService(received.files(), service)) {
      return absl::NotFoundError(
          absl::StrCat("backend at ", backend_address, " has no service ", Quoted(service)));
    }
  }

  auto order = DependencyOrder(FilesOf(received.files()));
  if (!order.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("backend at ", backend_address, " sent: ", order.status().message()));
  }
  FileDescriptorSet files;
  for (int i : *order) *files.add_file() = received.files().file(i);
  absl::Status check = CheckDescriptorSet(files, service_names);
  if (!check.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("backend at ", backend_address, " sent: ", check.message()));
  }
  return files;
}

absl::StatusOr<FileDescriptorSet> LoadDescriptorSetFile(const std::string& path) {
  RENKEI_ASSIGN_OR_RETURN(const std::string bytes, ReadFile(path));
  FileDescriptorSet files;
  if (!files.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "descriptor set file ", path,
        " is not a FileDescriptorSet (protoc --include_imports --descriptor_set_out)"));
  }
  return files;
}

absl::StatusOr<std::unique_ptr<DescriptorPool>> BuildDescriptorPool(
    const FileDescriptorSet& files, const std::vector<std::string>& service_names) {
  if (files.file_size() > kMaxBackendDescriptorFiles) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxBackendDescriptorFiles, " files in the set"));
  }
  if (files.ByteSizeLong() > static_cast<size_t>(kMaxBackendDescriptorBytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxBackendDescriptorBytes, " bytes of files in the set"));
  }
  FilesToBuild to_build;
  RENKEI_RETURN_IF_ERROR(to_build.Collect(files));
  RENKEI_ASSIGN_OR_RETURN(const std::vector<int> order, DependencyOrder(to_build.files()));
  // Built file by file, imports first, rather than through a DescriptorDatabase: every
  // problem, a conflict between files included, reaches the collector instead of the log, and
  // no import is built by recursing into it.
  auto pool = std::make_unique<DescriptorPool>();
  for (int i : order) {
    const FileDescriptorProto& file = *to_build.files()[i];
    FirstError error;
    if (pool->BuildFileCollectingErrors(file, &error) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("file ", Quoted(file.name()), " does not build: ", error.error()));
    }
  }
  for (const std::string& service : service_names) {
    if (pool->FindServiceByName(service) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("no file of the set defines service ", Quoted(service)));
    }
  }
  return pool;
}

absl::Status CheckDescriptorSet(const FileDescriptorSet& files,
                                const std::vector<std::string>& service_names) {
  return BuildDescriptorPool(files, service_names).status();
}

}  // namespace renkei
