// child-allowance: the sample consumer system of the child-allowance agency (厚生労働省).
// It reads an applicant's registry record from another municipality through its own
// security server, with an ordinary typed gRPC stub plus renkei-* metadata, and decides
// eligibility.
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/files.h"
#include "deploy/demo/child_allowance.h"
#include "grpcpp/grpcpp.h"
#include "municipal/v1/resident_registry.grpc.pb.h"

ABSL_FLAG(std::string, security_server, "127.0.0.1:7200",
          "Local endpoint of this agency's security server.");
ABSL_FLAG(std::string, client, "JP/GOV/MHLW/child-allowance", "Our client subsystem.");
ABSL_FLAG(std::string, service, "JP/MUNI/131016/resident-registry",
          "The provider's resident registry subsystem.");
ABSL_FLAG(std::string, applicant, "", "Applicant's resident code at that municipality.");
ABSL_FLAG(std::string, purpose, "child-allowance-act/art7/eligibility",
          "Legal basis or business code of the access (printable ASCII: gRPC metadata).");
ABSL_FLAG(std::string, user, "", "The official handling the case.");
ABSL_FLAG(int, deadline_ms, 5000, "Deadline of the call.");
ABSL_FLAG(std::string, tls_ca, "", "CA of the security server's local TLS certificate.");
ABSL_FLAG(std::string, tls_cert, "", "Our client certificate (with --tls_ca).");
ABSL_FLAG(std::string, tls_key, "", "Our client key (with --tls_ca).");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Sample child-allowance system: checks eligibility with registry data fetched through "
      "the security server.\nusage: child-allowance --applicant CODE [--security_server ADDR]");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_applicant).empty()) {
    std::cerr << "child-allowance: --applicant is required\n";
    return 2;
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!absl::GetFlag(FLAGS_tls_ca).empty()) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = renkei::ReadFile(absl::GetFlag(FLAGS_tls_ca)).value_or("");
    tls.pem_cert_chain = renkei::ReadFile(absl::GetFlag(FLAGS_tls_cert)).value_or("");
    tls.pem_private_key = renkei::ReadFile(absl::GetFlag(FLAGS_tls_key)).value_or("");
    credentials = grpc::SslCredentials(tls);
  }
  auto stub = renkei::municipal::v1::ResidentRegistry::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_security_server), credentials));

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(absl::GetFlag(FLAGS_deadline_ms)));
  context.AddMetadata("renkei-client", absl::GetFlag(FLAGS_client));
  context.AddMetadata("renkei-service", absl::GetFlag(FLAGS_service));
  context.AddMetadata("renkei-subject", absl::GetFlag(FLAGS_applicant));
  context.AddMetadata("renkei-purpose", absl::GetFlag(FLAGS_purpose));
  if (!absl::GetFlag(FLAGS_user).empty()) context.AddMetadata("renkei-user", absl::GetFlag(FLAGS_user));

  renkei::municipal::v1::GetResidentRequest request;
  request.set_resident_code(absl::GetFlag(FLAGS_applicant));
  renkei::municipal::v1::GetResidentResponse response;
  grpc::Status status = stub->GetResident(&context, request, &response);
  std::string message_id;
  auto trailer = context.GetServerTrailingMetadata().find("renkei-message-id");
  if (trailer != context.GetServerTrailingMetadata().end()) {
    message_id = std::string(trailer->second.data(), trailer->second.size());
  }
  if (!status.ok()) {
    std::cout << "REFUSED  code=" << status.error_code() << " message=\"" << status.error_message()
              << "\"" << (message_id.empty() ? "" : " message-id=" + message_id) << "\n";
    return 3;
  }
  const auto& r = response.resident();
  absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::LocalTimeZone());
  renkei::municipal::v1::Date as_of;
  as_of.set_year(static_cast<int>(today.year()));
  as_of.set_month(today.month());
  as_of.set_day(today.day());
  auto decision = renkei::demo::DecideEligibility(r, as_of);
  std::cout << "OK  message-id=" << message_id << "\n"
            << "    applicant " << r.family_name_kanji() << " " << r.given_name_kanji() << " ("
            << r.family_name_kana() << " " << r.given_name_kana() << "), household "
            << r.household_id() << ", " << r.address().prefecture() << r.address().municipality()
            << "\n    eligible: " << (decision.eligible() ? "yes" : "no") << " — " << decision.reason()
            << "\n";
  for (const auto& child : decision.children()) {
    std::cout << "      " << child.name_kanji() << "  born " << child.birth_date().year() << "-"
              << child.birth_date().month() << "-" << child.birth_date().day() << "  ¥"
              << child.monthly_amount_yen() << "/month\n";
  }
  if (decision.eligible()) std::cout << "    monthly total ¥" << decision.monthly_total_yen() << "\n";
  return 0;
}
