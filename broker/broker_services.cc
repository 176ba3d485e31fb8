#include "broker/broker_services.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_glue.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "google/protobuf/text_format.h"

namespace renkei {
namespace {

grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context,
                                     const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

std::string OneLine(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  printer.SetUseUtf8StringEscaping(true);
  printer.PrintToString(message, &text);
  return text;
}

}  // namespace

grpc::ServerUnaryReactor* DistributionService::GetConfiguration(
    grpc::CallbackServerContext* context, const v1::GetConfigurationRequest* /*request*/,
    v1::GetConfigurationResponse* response) {
  auto current = publisher_.Current();
  if (current.ok()) *response->mutable_configuration() = *std::move(current);
  return FinishWith(context, current.status());
}

absl::StatusOr<OperatorIdentity> AdminService::Authenticate(
    grpc::CallbackServerContext* context) const {
  std::string fingerprint = PeerCertificateSha256(context->auth_context());
  auto it = operators_.find(fingerprint);
  if (fingerprint.empty() || it == operators_.end()) {
    Log(LogLevel::kWarning, "admin",
        absl::StrCat("refused admin call from ", context->peer(), " with certificate sha256 ",
                     fingerprint.empty() ? "(none)" : fingerprint));
    return absl::PermissionDeniedError(
        absl::StrCat("client certificate sha256 ", fingerprint.empty() ? "(none)" : fingerprint,
                     " is not a registered operator certificate"));
  }
  return OperatorIdentity{it->second, fingerprint};
}

grpc::ServerUnaryReactor* AdminService::ApplyChange(grpc::CallbackServerContext* context,
                                                    const v1::RegistryChange* change,
                                                    v1::ApplyChangeResponse* response) {
  auto who = Authenticate(context);
  if (!who.ok()) return FinishWith(context, who.status());
  auto version = store_.Apply(*change, *who, clock_.Now());
  metrics_.admin_changes.With({absl::StatusCodeToString(version.status().code())}).Increment();
  if (!version.ok()) {
    Log(LogLevel::kWarning, "admin",
        absl::StrCat("operator ", who->name, " change refused: ", version.status().ToString()));
    return FinishWith(context, version.status());
  }
  // Certificates are public; the change is logged as the admin log stores it.
  Log(LogLevel::kInfo, "admin",
      absl::StrCat("operator ", who->name, " changed the registry to version ", *version, ": ",
                   OneLine(*change).substr(0, 300)));
  response->set_version(*version);
  return FinishWith(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* AdminService::EnrollResident(grpc::CallbackServerContext* context,
                                                       const v1::EnrollResidentRequest* request,
                                                       v1::EnrollResidentResponse* /*response*/) {
  auto who = Authenticate(context);
  if (!who.ok()) return FinishWith(context, who.status());
  return FinishWith(context, Enroll(*request, *who));
}

absl::Status AdminService::Enroll(const v1::EnrollResidentRequest& request,
                                  const OperatorIdentity& who) {
  if (request.resident_id().empty() || request.resident_id().size() > 64) {
    return absl::InvalidArgumentError("resident id must be 1 to 64 bytes");
  }
  auto key = PublicKey::FromPem(request.public_key_pem());
  if (!key.ok()) return key.status();
  const std::string pseudonym = pseudonymizer_.Pseudonym(request.resident_id());
  // The resident id itself is never logged; the pseudonym's start identifies the enrollment.
  const std::string prefix = absl::BytesToHexString(pseudonym.substr(0, 8));

  absl::MutexLock lock(&enroll_mu_);
  auto existing = ledger_.EnrolledKey(pseudonym);
  // An unreadable stored key counts as a key: only an explicit replacement overwrites it.
  const bool has_key = existing.status().code() != absl::StatusCode::kNotFound;
  if (has_key && !request.replace_existing()) {
    Log(LogLevel::kWarning, "admin",
        absl::StrCat("operator ", who.name, " refused: resident ", prefix,
                     " already has a key and replacement was not asked for"));
    return absl::AlreadyExistsError(
        "this resident already has an enrolled key; to replace it (a lost or renewed card), "
        "enroll again with replace_existing set (renkeictl registry enroll-resident --replace)");
  }
  // The admin log first: a key binding the log does not show must never exist. If the
  // enrollment then fails, the log shows an attempt the operator was told had failed.
  v1::AdminLogEntry::ResidentEnrollment enrollment;
  enrollment.set_subject_pseudonym_prefix(prefix);
  enrollment.set_replaced_existing_key(has_key);
  RENKEI_RETURN_IF_ERROR(store_.LogResidentEnrollment(enrollment, who, clock_.Now()));
  RENKEI_RETURN_IF_ERROR(ledger_.Enroll(pseudonym, *key));
  Log(LogLevel::kInfo, "admin",
      absl::StrCat("operator ", who.name, has_key ? " replaced the key of resident "
                                                  : " enrolled a key for resident ",
                   prefix));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminService::GetRegistry(grpc::CallbackServerContext* context,
                                                    const v1::GetRegistryRequest* /*request*/,
                                                    v1::GlobalConfiguration* response) {
  auto who = Authenticate(context);
  if (!who.ok()) return FinishWith(context, who.status());
  *response = store_.Current();
  return FinishWith(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* AdminService::ListAdminLog(grpc::CallbackServerContext* context,
                                                     const v1::ListAdminLogRequest* request,
                                                     v1::ListAdminLogResponse* response) {
  auto who = Authenticate(context);
  if (!who.ok()) return FinishWith(context, who.status());
  int limit = request->limit() > 0 ? std::min(request->limit(), 10000) : 100;
  auto entries = store_.ListAdminLog(limit);
  if (!entries.ok()) return FinishWith(context, entries.status());
  for (auto& entry : *entries) *response->add_entries() = std::move(entry);
  return FinishWith(context, absl::OkStatus());
}

}  // namespace renkei
