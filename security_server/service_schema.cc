#include "security_server/service_schema.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/identifiers.h"
#include "common/status_macros.h"
#include "google/protobuf/util/type_resolver_util.h"
#include "security_server/backend_descriptors.h"

namespace renkei {

std::string ServiceNameOf(const std::string& method) {
  // Exactly "/" service "/" method: a method name with another slash would be looked up as
  // one thing and listed as another.
  if (method.size() < 4 || method[0] != '/') return "";
  const size_t slash = method.find('/', 1);
  if (slash == std::string::npos || slash == 1 || slash + 1 == method.size() ||
      method.find('/', slash + 1) != std::string::npos) {
    return "";
  }
  return method.substr(1, slash - 1);
}

namespace {

constexpr char kTypeUrlPrefix[] = "type.googleapis.com";
// More than any real service has; bounds the work a schema can ask of Create.
constexpr int kMaxMethods = 10'000;

// True when `type` or any message it holds, however deep, is google.protobuf.Any or has a
// proto2 group (the JSON transcoder writes a group's start without its end).
bool ReachesAnyOrGroup(const google::protobuf::Descriptor& type) {
  std::set<const google::protobuf::Descriptor*> seen = {&type};
  std::vector<const google::protobuf::Descriptor*> waiting = {&type};
  while (!waiting.empty()) {
    const google::protobuf::Descriptor* next = waiting.back();
    waiting.pop_back();
    if (next->full_name() == "google.protobuf.Any") return true;
    for (int i = 0; i < next->field_count(); ++i) {
      if (next->field(i)->type() == google::protobuf::FieldDescriptor::TYPE_GROUP) return true;
      const google::protobuf::Descriptor* held = next->field(i)->message_type();
      if (held != nullptr && seen.insert(held).second) waiting.push_back(held);
    }
  }
  return false;
}

}  // namespace

std::string TypeUrlOf(const google::protobuf::Descriptor& type) {
  return absl::StrCat(kTypeUrlPrefix, "/", type.full_name());
}

ServiceSchemaView::ServiceSchemaView(v1::ServiceSchema schema) : schema_(std::move(schema)) {
  allowed_.insert(schema_.allowed_methods().begin(), schema_.allowed_methods().end());
}

absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> ServiceSchemaView::Create(
    v1::ServiceSchema schema) {
  if (schema.methods_size() > kMaxMethods) {
    return absl::InvalidArgumentError(absl::StrCat("more than ", kMaxMethods, " methods"));
  }
  std::set<std::string> services;
  for (const std::string& method : schema.methods()) {
    const std::string service = ServiceNameOf(method);
    if (service.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", absl::CHexEscape(method.substr(0, 200)), "\" is not a full method name"));
    }
    services.insert(service);
  }
  const std::set<std::string> offered(schema.methods().begin(), schema.methods().end());
  std::shared_ptr<ServiceSchemaView> view(new ServiceSchemaView(std::move(schema)));
  for (const std::string& method : view->allowed_) {
    if (offered.count(method) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "allowed method ", absl::CHexEscape(method.substr(0, 200)), " is not offered"));
    }
  }
  RENKEI_ASSIGN_OR_RETURN(view->pool_,
                          BuildDescriptorPool(view->schema_.files(), {services.begin(), services.end()}));
  view->resolver_.reset(
      google::protobuf::util::NewTypeResolverForDescriptorPool(kTypeUrlPrefix, view->pool_.get()));
  for (const std::string& method : offered) {
    const google::protobuf::ServiceDescriptor* service =
        view->pool_->FindServiceByName(ServiceNameOf(method));
    const google::protobuf::MethodDescriptor* found =
        service == nullptr ? nullptr
                           : service->FindMethodByName(method.substr(method.rfind('/') + 1));
    if (found == nullptr) {
      view->callable_.emplace(method, absl::NotFoundError(absl::StrCat(
                                          "service subsystem ", view->service(),
                                          " has no descriptor of its method ", method)));
    } else if (found->client_streaming() || found->server_streaming()) {
      view->callable_.emplace(method, absl::UnimplementedError(absl::StrCat(
                                          method, " is a streaming method: only unary methods "
                                          "can be called with JSON")));
    } else if (ReachesAnyOrGroup(*found->input_type()) ||
               ReachesAnyOrGroup(*found->output_type())) {
      view->callable_.emplace(method, absl::UnimplementedError(absl::StrCat(
                                          method, " carries google.protobuf.Any or a proto2 "
                                          "group, which the JSON entry does not transcode: call "
                                          "it with gRPC")));
    } else {
      view->callable_.emplace(method, found);
    }
  }
  return std::shared_ptr<const ServiceSchemaView>(std::move(view));
}

absl::StatusOr<const google::protobuf::MethodDescriptor*> ServiceSchemaView::FindMethod(
    const std::string& method) const {
  auto found = callable_.find(method);
  if (found == callable_.end()) {
    return absl::NotFoundError(absl::StrCat("service subsystem ", schema_.service(),
                                            " offers no method ", method));
  }
  return found->second;
}

absl::StatusOr<v1::SignedHeader> SignServiceSchema(const v1::ServiceSchema& schema,
                                                   const SigningIdentity& signer) {
  return SignHeader(SignedType::kServiceSchema, schema.SerializeAsString(), signer);
}

absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> VerifyServiceSchema(
    const v1::SignedHeader& signed_schema, const Federation& federation,
    const std::string& client, const std::string& service) {
  RENKEI_ASSIGN_OR_RETURN(v1::SubsystemId service_id, ParseSubsystemId(service));
  // Only the member that owns the service answers for its schema.
  if (ToString(signed_schema.signer()) != ToString(service_id.member())) {
    return absl::UnauthenticatedError(
        absl::StrCat("the schema of ", service, " is signed by ", ToString(signed_schema.signer()),
                     ", not by its provider ", ToString(service_id.member())));
  }
  RENKEI_RETURN_IF_ERROR(
      VerifySignedHeader(SignedType::kServiceSchema, signed_schema, federation));
  v1::ServiceSchema schema;
  if (!schema.ParseFromString(signed_schema.header())) {
    return absl::InvalidArgumentError("the signed service schema does not parse");
  }
  if (schema.service() != service || schema.client() != client) {
    return absl::InvalidArgumentError(
        absl::StrCat("asked for the schema of ", service, " for ", client, ", got one of ",
                     schema.service(), " for ", schema.client()));
  }
  // Its configuration version may differ from ours: servers pick a new one up at their own
  // times, and the provider checks the rights again on every exchange in any case.
  return ServiceSchemaView::Create(std::move(schema));
}

}  // namespace renkei
