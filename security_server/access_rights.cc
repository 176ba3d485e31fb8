#include "security_server/access_rights.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/identifiers.h"

namespace renkei {

bool IsFullMethodName(const std::string& method) {
  if (method.size() < 4 || method[0] != '/') return false;
  size_t slash = method.find('/', 1);
  if (slash == std::string::npos || slash == 1 || slash + 1 == method.size()) return false;
  if (method.find('/', slash + 1) != std::string::npos) return false;
  for (char c : method) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

absl::StatusOr<AccessRights> AccessRights::Create(
    const google::protobuf::RepeatedPtrField<v1::AccessRight>& rights) {
  AccessRights result;
  for (const v1::AccessRight& right : rights) {
    auto client = ParseSubsystemId(right.client());
    if (!client.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("access right client: ", client.status().message()));
    }
    auto service = ParseSubsystemId(right.service());
    if (!service.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("access right service: ", service.status().message()));
    }
    if (right.method() != "*" && !IsFullMethodName(right.method())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "access right for ", right.client(), ": method \"", right.method(),
          "\" is neither \"*\" nor a full method name like /package.Service/Method"));
    }
    result.grants_.emplace(right.client(), right.service(), right.method());
  }
  return result;
}

absl::Status AccessRights::Check(const v1::SubsystemId& client, const v1::SubsystemId& service,
                                 const std::string& method) const {
  std::string client_text = ToString(client);
  std::string service_text = ToString(service);
  if (grants_.count({client_text, service_text, method}) > 0 ||
      grants_.count({client_text, service_text, "*"}) > 0) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat("client ", client_text,
                                                  " is not granted access to ", service_text,
                                                  method));
}

std::vector<std::string> AccessRights::AllowedMethods(const std::string& client,
                                                     const std::string& service,
                                                     const std::vector<std::string>& offered) const {
  bool all = grants_.count({client, service, "*"}) > 0;
  std::vector<std::string> allowed;
  for (const std::string& method : offered) {
    if (all || grants_.count({client, service, method}) > 0) allowed.push_back(method);
  }
  return allowed;
}

std::vector<std::string> AccessRights::MethodsNamed(const std::string& service) const {
  std::set<std::string> methods;
  for (const auto& [client, granted_service, method] : grants_) {
    if (granted_service == service && method != "*") methods.insert(method);
  }
  return {methods.begin(), methods.end()};
}

}  // namespace renkei
