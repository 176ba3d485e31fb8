#include "security_server/service_schema.h"

#include "absl/strings/str_cat.h"
#include "common/identifiers.h"
#include "common/status_macros.h"
#include "security_server/backend_descriptors.h"

namespace renkei {

std::string ServiceNameOf(const std::string& method) {
  if (method.size() < 4 || method[0] != '/') return "";
  const size_t slash = method.find('/', 1);
  if (slash == std::string::npos || slash == 1 || slash + 1 == method.size()) return "";
  return method.substr(1, slash - 1);
}

ServiceSchemaView::ServiceSchemaView(v1::ServiceSchema schema) : schema_(std::move(schema)) {
  methods_.insert(schema_.methods().begin(), schema_.methods().end());
  allowed_.insert(schema_.allowed_methods().begin(), schema_.allowed_methods().end());
}

absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> ServiceSchemaView::Create(
    v1::ServiceSchema schema) {
  std::vector<std::string> services;
  for (const std::string& method : schema.methods()) {
    const std::string service = ServiceNameOf(method);
    if (service.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("\"", method, "\" is not a full method name"));
    }
    services.push_back(service);
  }
  for (const std::string& method : schema.allowed_methods()) {
    if (std::find(schema.methods().begin(), schema.methods().end(), method) ==
        schema.methods().end()) {
      return absl::InvalidArgumentError(absl::StrCat("allowed method ", method, " is not offered"));
    }
  }
  RENKEI_RETURN_IF_ERROR(CheckDescriptorSet(schema.files(), services));
  std::shared_ptr<ServiceSchemaView> view(new ServiceSchemaView(std::move(schema)));
  for (const google::protobuf::FileDescriptorProto& file : view->schema_.files().file()) {
    view->database_.Add(file);  // CheckDescriptorSet found no duplicate or conflict
  }
  view->pool_ = std::make_unique<google::protobuf::DescriptorPool>(&view->database_);
  view->factory_ = std::make_unique<google::protobuf::DynamicMessageFactory>(view->pool_.get());
  return std::shared_ptr<const ServiceSchemaView>(std::move(view));
}

absl::StatusOr<const google::protobuf::MethodDescriptor*> ServiceSchemaView::FindMethod(
    const std::string& method) const {
  const google::protobuf::ServiceDescriptor* service =
      Offers(method) ? pool_->FindServiceByName(ServiceNameOf(method)) : nullptr;
  const google::protobuf::MethodDescriptor* found =
      service == nullptr ? nullptr
                         : service->FindMethodByName(method.substr(method.rfind('/') + 1));
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("service subsystem ", schema_.service(),
                                            " offers no method ", method));
  }
  if (found->client_streaming() || found->server_streaming()) {
    return absl::UnimplementedError(absl::StrCat(method, " is a streaming method: only unary "
                                                 "methods can be called with JSON"));
  }
  return found;
}

std::unique_ptr<google::protobuf::Message> ServiceSchemaView::NewMessage(
    const google::protobuf::Descriptor& type) const {
  return std::unique_ptr<google::protobuf::Message>(factory_->GetPrototype(&type)->New());
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
  if (schema.configuration_version() != federation.configuration().version()) {
    return absl::UnavailableError(absl::StrCat(
        "the provider's schema of ", service, " was made under configuration version ",
        schema.configuration_version(), ", this server has ",
        federation.configuration().version()));
  }
  return ServiceSchemaView::Create(std::move(schema));
}

}  // namespace renkei
