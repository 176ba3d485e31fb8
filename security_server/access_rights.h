// AccessRights: the provider's decision which client subsystems may call which of its
// methods. Deny by default. Immutable after construction; thread-safe.
#ifndef RENKEI_SECURITY_SERVER_ACCESS_RIGHTS_H_
#define RENKEI_SECURITY_SERVER_ACCESS_RIGHTS_H_

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "renkei/v1/config.pb.h"
#include "renkei/v1/identifiers.pb.h"

namespace renkei {

class AccessRights {
 public:
  // Validates each right: client and service are subsystem ids, method is "*" or a gRPC
  // full method name "/package.Service/Method". INVALID_ARGUMENT naming the bad entry.
  static absl::StatusOr<AccessRights> Create(
      const google::protobuf::RepeatedPtrField<v1::AccessRight>& rights);

  // OK when granted; PERMISSION_DENIED saying who may not call what otherwise.
  absl::Status Check(const v1::SubsystemId& client, const v1::SubsystemId& service,
                     const std::string& method) const;

  // Methods of `service` granted to `client`, out of `offered`; "*" grants all of them.
  std::vector<std::string> AllowedMethods(const std::string& client, const std::string& service,
                                          const std::vector<std::string>& offered) const;
  // Methods of `service` named in any right (not "*").
  std::vector<std::string> MethodsNamed(const std::string& service) const;

 private:
  // (client, service, method-or-*)
  std::set<std::tuple<std::string, std::string, std::string>> grants_;
};

// True for "/package.Service/Method" shapes.
bool IsFullMethodName(const std::string& method);

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_ACCESS_RIGHTS_H_
