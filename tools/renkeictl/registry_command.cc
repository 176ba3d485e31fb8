#include "tools/renkeictl/registry_command.h"

#include <iostream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/certificates.h"
#include "common/files.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "renkei/v1/broker.grpc.pb.h"
#include "tools/renkeictl/command_line.h"

namespace renkei {
namespace {

constexpr char kUsage[] = R"(usage: renkeictl registry COMMAND --broker HOST:PORT --operator PREFIX --broker-ca FILE [...]

Changes the broker's registry through its admin API (mutual TLS with an operator certificate:
PREFIX.pem and PREFIX.key; --broker-ca is the CA of the broker's admin certificate). Each
change makes a new global configuration version that security servers pick up at their next
refresh, and is recorded in the admin log.

Commands:
  add-ca               trust a CA (--cert FILE)
  add-member           --id INSTANCE/CLASS/CODE [--name NAME]
  remove-member        --id ID
  add-subsystem        --id MEMBER/SUBSYSTEM
  remove-subsystem     --id ID
  put-server           --id MEMBER/SERVER --address A[,B...] --auth-cert FILE [--provides S1,S2]
  remove-server        --id ID
  add-signing-cert     --member ID --cert FILE
  remove-signing-cert  --member ID (--cert FILE | --sha256 HEX)
  remove-ca            --cert FILE | --sha256 HEX
  revoke               --cert FILE | --sha256 HEX
  enroll-resident      --resident-id ID --public-key FILE [--replace] (a resident's sign-in key)
  show                 print the current registry (text format)
  log                  print the admin log, newest first [--limit N]

Every command takes --help.
)";

#define RENKEI_CONNECTION_FLAGS "\n  --broker     admin address of the broker\n  --operator   prefix of the operator's .pem/.key\n  --broker-ca  CA of the broker's admin TLS certificate"

const std::map<std::string, CommandSpec>& Commands() {
  const std::vector<std::string> connection = {"broker", "operator", "broker-ca"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.end(), connection.begin(), connection.end());
    return more;
  };
  static const auto* commands = new std::map<std::string, CommandSpec>{
      {"add-ca", {"usage: renkeictl registry add-ca --cert FILE" RENKEI_CONNECTION_FLAGS,
                  with({"cert"}), {}}},
      {"add-member", {"usage: renkeictl registry add-member --id ID [--name NAME]" RENKEI_CONNECTION_FLAGS,
                      with({"id"}), {"name"}}},
      {"remove-member", {"usage: renkeictl registry remove-member --id ID" RENKEI_CONNECTION_FLAGS,
                         with({"id"}), {}}},
      {"add-subsystem", {"usage: renkeictl registry add-subsystem --id MEMBER/SUBSYSTEM" RENKEI_CONNECTION_FLAGS,
                         with({"id"}), {}}},
      {"remove-subsystem", {"usage: renkeictl registry remove-subsystem --id ID" RENKEI_CONNECTION_FLAGS,
                            with({"id"}), {}}},
      {"put-server",
       {"usage: renkeictl registry put-server --id MEMBER/SERVER --address A[,B] --auth-cert FILE "
        "[--provides S1,S2]\nAdds the security server, or replaces its entry." RENKEI_CONNECTION_FLAGS,
        with({"id", "address", "auth-cert"}), {"provides"}}},
      {"remove-server", {"usage: renkeictl registry remove-server --id ID" RENKEI_CONNECTION_FLAGS,
                         with({"id"}), {}}},
      {"add-signing-cert",
       {"usage: renkeictl registry add-signing-cert --member ID --cert FILE" RENKEI_CONNECTION_FLAGS,
        with({"member", "cert"}), {}}},
      {"revoke", {"usage: renkeictl registry revoke (--cert FILE | --sha256 HEX)" RENKEI_CONNECTION_FLAGS,
                  with({}), {"cert", "sha256"}}},
      {"remove-signing-cert",
       {"usage: renkeictl registry remove-signing-cert --member ID (--cert FILE | --sha256 HEX)"
        RENKEI_CONNECTION_FLAGS,
        with({"member"}), {"cert", "sha256"}}},
      {"remove-ca", {"usage: renkeictl registry remove-ca (--cert FILE | --sha256 HEX)" RENKEI_CONNECTION_FLAGS,
                     with({}), {"cert", "sha256"}}},
      {"enroll-resident",
       {"usage: renkeictl registry enroll-resident --resident-id ID --public-key FILE [--replace]\n"
        "Binds the resident's public key (renkeictl pki create-resident-key) to their id, after\n"
        "their identity was checked in person. The admin log records the operator and the start\n"
        "of the resident's pseudonym (never the id). A resident who already has a key is refused.\n"
        "  --replace    replace the resident's existing key (a lost or renewed card); takes no value"
        RENKEI_CONNECTION_FLAGS,
        with({"resident-id", "public-key"}), {"replace"}}},
      {"show", {"usage: renkeictl registry show" RENKEI_CONNECTION_FLAGS, with({}), {}}},
      {"log", {"usage: renkeictl registry log [--limit N]" RENKEI_CONNECTION_FLAGS, with({}),
               {"limit"}}},
  };
  return *commands;
}

int Fail(const std::string& message) {
  std::cerr << "renkeictl registry: " << message << "\n";
  return 1;
}

int FailRpc(const grpc::Status& status) {
  return Fail(absl::StrCat("broker refused (", status.error_code(), "): ", status.error_message()));
}

absl::StatusOr<std::unique_ptr<v1::RegistryAdmin::Stub>> Connect(const Flags& flags) {
  grpc::SslCredentialsOptions tls;
  auto ca = ReadFile(flags.at("broker-ca"));
  auto certificate = ReadFile(flags.at("operator") + ".pem");
  auto key = ReadFile(flags.at("operator") + ".key");
  for (const auto* read : {&ca, &certificate, &key}) {
    if (!read->ok()) return read->status();
  }
  tls.pem_root_certs = *ca;
  tls.pem_cert_chain = *certificate;
  tls.pem_private_key = *key;
  return v1::RegistryAdmin::NewStub(
      grpc::CreateChannel(flags.at("broker"), grpc::SslCredentials(tls)));
}

void WithDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

absl::StatusOr<std::string> CertificatePem(const std::string& file) {
  auto certificate = Certificate::FromPemFile(file);
  if (!certificate.ok()) return certificate.status();
  return certificate->Pem();
}

absl::StatusOr<v1::RegistryChange> BuildChange(const std::string& command, Flags& flags) {
  v1::RegistryChange change;
  if (command == "add-ca") {
    auto pem = CertificatePem(flags["cert"]);
    if (!pem.ok()) return pem.status();
    change.mutable_add_trusted_ca()->set_certificate_pem(*pem);
  } else if (command == "add-member") {
    change.mutable_add_member()->set_id(flags["id"]);
    change.mutable_add_member()->set_name(flags["name"]);
  } else if (command == "remove-member") {
    change.mutable_remove_member()->set_id(flags["id"]);
  } else if (command == "add-subsystem") {
    change.mutable_add_subsystem()->set_id(flags["id"]);
  } else if (command == "remove-subsystem") {
    change.mutable_remove_subsystem()->set_id(flags["id"]);
  } else if (command == "put-server") {
    auto certificate = Certificate::FromPemFile(flags["auth-cert"]);
    if (!certificate.ok()) return certificate.status();
    v1::SecurityServer* server = change.mutable_put_security_server()->mutable_server();
    server->set_id(flags["id"]);
    for (absl::string_view address : absl::StrSplit(flags["address"], ',', absl::SkipEmpty())) {
      server->add_addresses(std::string(address));
    }
    server->set_authentication_certificate_sha256(certificate->fingerprint());
    for (absl::string_view provided : absl::StrSplit(flags["provides"], ',', absl::SkipEmpty())) {
      server->add_provides(std::string(provided));
    }
  } else if (command == "remove-server") {
    change.mutable_remove_security_server()->set_id(flags["id"]);
  } else if (command == "add-signing-cert") {
    auto pem = CertificatePem(flags["cert"]);
    if (!pem.ok()) return pem.status();
    change.mutable_add_signing_certificate()->set_member(flags["member"]);
    change.mutable_add_signing_certificate()->set_certificate_pem(*pem);
  } else if (command == "revoke" || command == "remove-signing-cert" || command == "remove-ca") {
    if (flags.count("cert") == flags.count("sha256")) {
      return absl::InvalidArgumentError("give exactly one of --cert and --sha256");
    }
    std::string fingerprint = flags["sha256"];
    if (flags.count("cert")) {
      auto certificate = Certificate::FromPemFile(flags["cert"]);
      if (!certificate.ok()) return certificate.status();
      fingerprint = certificate->fingerprint();
    }
    if (command == "revoke") {
      change.mutable_revoke_certificate()->set_certificate_sha256(fingerprint);
    } else if (command == "remove-ca") {
      change.mutable_remove_trusted_ca()->set_certificate_sha256(fingerprint);
    } else {
      change.mutable_remove_signing_certificate()->set_member(flags["member"]);
      change.mutable_remove_signing_certificate()->set_certificate_sha256(fingerprint);
    }
  }
  return change;
}

int RunRegistry(const std::string& command, Flags& flags) {
  auto stub = Connect(flags);
  if (!stub.ok()) return Fail(std::string(stub.status().message()));
  grpc::ClientContext context;
  WithDeadline(context);
  if (command == "show") {
    v1::GlobalConfiguration registry;
    grpc::Status status = (*stub)->GetRegistry(&context, v1::GetRegistryRequest(), &registry);
    if (!status.ok()) return FailRpc(status);
    std::string text;
    google::protobuf::TextFormat::PrintToString(registry, &text);
    std::cout << text;
    return 0;
  }
  if (command == "log") {
    v1::ListAdminLogRequest request;
    if (flags.count("limit")) {
      int limit = 0;
      if (!absl::SimpleAtoi(flags["limit"], &limit)) return Fail("--limit must be an integer");
      request.set_limit(limit);
    }
    v1::ListAdminLogResponse response;
    grpc::Status status = (*stub)->ListAdminLog(&context, request, &response);
    if (!status.ok()) return FailRpc(status);
    google::protobuf::TextFormat::Printer printer;
    printer.SetSingleLineMode(true);
    printer.SetUseUtf8StringEscaping(true);
    for (const v1::AdminLogEntry& entry : response.entries()) {
      std::string change;
      if (entry.has_resident_enrollment()) {
        const auto& enrollment = entry.resident_enrollment();
        change = absl::StrCat("enroll-resident ", enrollment.subject_pseudonym_prefix(),
                              enrollment.replaced_existing_key() ? " (replaced the key)" : "");
      } else {
        printer.PrintToString(entry.change(), &change);
      }
      if (change.size() > 200) change = change.substr(0, 200) + "…";
      std::cout << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                    absl::FromUnixSeconds(entry.time().seconds()),
                                    absl::UTCTimeZone())
                << "  #" << entry.sequence() << "  v" << entry.resulting_version() << "  "
                << entry.operator_name() << "  " << change << "\n";
    }
    return 0;
  }
  if (command == "enroll-resident") {
    auto pem = ReadFile(flags["public-key"]);
    if (!pem.ok()) return Fail(std::string(pem.status().message()));
    v1::EnrollResidentRequest request;
    request.set_resident_id(flags["resident-id"]);
    request.set_public_key_pem(*pem);
    request.set_replace_existing(flags.count("replace") > 0);
    v1::EnrollResidentResponse response;
    grpc::Status status = (*stub)->EnrollResident(&context, request, &response);
    if (!status.ok()) return FailRpc(status);
    std::cout << "enroll-resident: done" << (request.replace_existing() ? ", key replaced" : "")
              << "\n";
    return 0;
  }
  auto change = BuildChange(command, flags);
  if (!change.ok()) return Fail(std::string(change.status().message()));
  v1::ApplyChangeResponse response;
  grpc::Status status = (*stub)->ApplyChange(&context, *change, &response);
  if (!status.ok()) return FailRpc(status);
  std::cout << command << ": done, configuration version " << response.version() << "\n";
  return 0;
}

// enroll-resident's --replace is a switch, while ParseFlags reads "--name value" pairs: give
// it a value here.
std::vector<std::string> WithSwitchValues(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "enroll-resident") return args;
  std::vector<std::string> out = {args[0]};
  for (size_t i = 1; i < args.size(); ++i) {
    out.push_back(args[i]);
    if (args[i] == "--replace") {
      out.push_back("yes");
    } else if (args[i] != "--help" && args[i] != "-h" && i + 1 < args.size()) {
      out.push_back(args[++i]);  // the flag's value
    }
  }
  return out;
}

}  // namespace

int RunRegistryCommand(const std::vector<std::string>& args) {
  return RunGroup("registry", kUsage, Commands(), WithSwitchValues(args), RunRegistry);
}

}  // namespace renkei
