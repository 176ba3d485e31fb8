// The signed service schema of the JSON entry (schemas/renkei/v1/metadata.proto ServiceSchema):
// what a provider member states about a provided service, checked by the consumer's security
// server before it transcodes anything with it.
//
// Thread-safe: a ServiceSchemaView is immutable once made (its pool is built eagerly; lookups
// lock internally).
#ifndef RENKEI_SECURITY_SERVER_SERVICE_SCHEMA_H_
#define RENKEI_SECURITY_SERVER_SERVICE_SCHEMA_H_

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "common/envelope.h"
#include "common/federation.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/type_resolver.h"
#include "renkei/v1/metadata.pb.h"

namespace renkei {

// A verified schema, ready to transcode with.
class ServiceSchemaView {
 public:
  // INVALID_ARGUMENT when `schema.files()` does not build or lacks a service of its methods.
  static absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> Create(v1::ServiceSchema schema);

  const std::string& service() const { return schema_.service(); }
  const std::string& client() const { return schema_.client(); }
  int64_t configuration_version() const { return schema_.configuration_version(); }
  bool Allows(const std::string& method) const { return allowed_.count(method) > 0; }
  const std::set<std::string>& allowed_methods() const { return allowed_; }
  const google::protobuf::DescriptorPool& pool() const { return *pool_; }
  // The descriptor of an offered method that can be called with JSON ("/package.Service/
  // Method"): NOT_FOUND when the service does not offer it, UNIMPLEMENTED for a streaming
  // method or one whose messages hold google.protobuf.Any (its JSON form names types by URL,
  // and a nest of them can be made to cost without bound when printed).
  absl::StatusOr<const google::protobuf::MethodDescriptor*> FindMethod(
      const std::string& method) const;
  // Resolves the pool's types by "type.googleapis.com/<full name>" (thread-safe; owned here).
  google::protobuf::util::TypeResolver* resolver() const { return resolver_.get(); }

 private:
  explicit ServiceSchemaView(v1::ServiceSchema schema);

  v1::ServiceSchema schema_;
  std::set<std::string> allowed_;
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;  // built eagerly: nothing lazy later
  std::unique_ptr<google::protobuf::util::TypeResolver> resolver_;
  // Every offered method: its descriptor, or why it cannot be called with JSON.
  std::map<std::string, absl::StatusOr<const google::protobuf::MethodDescriptor*>> callable_;
};

// The type URL of `type` for the view's resolver.
std::string TypeUrlOf(const google::protobuf::Descriptor& type);

// The provider's statement about `service` for `client`, signed by the service's member.
absl::StatusOr<v1::SignedHeader> SignServiceSchema(const v1::ServiceSchema& schema,
                                                   const SigningIdentity& signer);

// Checks what a provider's security server answered to DescribeSchema: a ServiceSchema signed
// (as that type) by the member that owns `service`, with a certificate the federation accepts,
// about `service` and `client` (under whatever configuration version the provider has: they
// roll out at each server's own time). UNAUTHENTICATED for a bad signature or signer,
// INVALID_ARGUMENT when it says something else than was asked or its descriptors do not build.
absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> VerifyServiceSchema(
    const v1::SignedHeader& signed_schema, const Federation& federation,
    const std::string& client, const std::string& service);

// "renkei.municipal.v1.ResidentRegistry" of "/renkei.municipal.v1.ResidentRegistry/GetResident";
// empty when `method` is not a full method name.
std::string ServiceNameOf(const std::string& method);

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_SERVICE_SCHEMA_H_
