#include "tools/renkeictl/pki_command.h"

#include <iostream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/certificates.h"
#include "common/files.h"
#include "common/identifiers.h"
#include "tools/renkeictl/pki.h"

namespace renkei {
namespace {

constexpr char kPkiUsage[] = R"(usage: renkeictl pki COMMAND [--flag value ...]

Commands:
  create-ca      Create a CA (federation CA, or an agency's CA for local clients).
  issue-auth     Issue a security server's TLS authentication certificate.
  issue-signing  Issue a member's message-signing certificate.
  issue-tls      Issue a TLS certificate for a local endpoint or a local client system.
  fingerprint    Print the SHA-256 fingerprint of a certificate (as the configuration uses).

Every command takes --help. Private keys are written with mode 0600.
)";

struct Command {
  const char* usage;
  std::vector<std::string> required;
  std::vector<std::string> optional;
};

const std::map<std::string, Command>& Commands() {
  static const auto* commands = new std::map<std::string, Command>{
      {"create-ca",
       {R"(usage: renkeictl pki create-ca --name NAME --out PREFIX [--days N]
Creates a self-signed ECDSA P-256 CA: PREFIX.pem (certificate) and PREFIX.key (0600).
  --name   common name, e.g. "Renkei Federation CA"
  --out    output prefix
  --days   validity in days (default 3650))",
        {"name", "out"}, {"days"}}},
      {"issue-auth",
       {R"(usage: renkeictl pki issue-auth --ca PREFIX --server-id ID --out PREFIX [--days N]
Issues the TLS authentication certificate of security server ID (INSTANCE/CLASS/CODE/SERVER),
with the DNS name peers check at the handshake. Writes PREFIX.pem and PREFIX.key (0600).
  --ca         prefix of the issuing CA's .pem/.key
  --server-id  security server identifier, e.g. JP/MUNI/131016/ss1
  --out        output prefix
  --days       validity in days (default 365))",
        {"ca", "server-id", "out"}, {"days"}}},
      {"issue-signing",
       {R"(usage: renkeictl pki issue-signing --ca PREFIX --member ID --out PREFIX [--days N]
Issues the message-signing certificate of member ID (INSTANCE/CLASS/CODE).
Writes PREFIX.pem and PREFIX.key (0600).
  --ca      prefix of the issuing CA's .pem/.key
  --member  member identifier, e.g. JP/GOV/MHLW
  --out     output prefix
  --days    validity in days (default 365; negative with --not-before-days for tests)
  --not-before-days  start of validity relative to today (default 0))",
        {"ca", "member", "out"}, {"days", "not-before-days"}}},
      {"issue-tls",
       {R"(usage: renkeictl pki issue-tls --ca PREFIX --name NAME --out PREFIX [--dns a,b] [--ip a,b]
Issues a TLS certificate (server and client use) for a local endpoint or a local system.
  --ca    prefix of the issuing CA's .pem/.key
  --name  common name
  --dns   comma-separated DNS subject alternative names
  --ip    comma-separated IP subject alternative names
  --out   output prefix
  --days  validity in days (default 365))",
        {"ca", "name", "out"}, {"dns", "ip", "days"}}},
      {"fingerprint",
       {R"(usage: renkeictl pki fingerprint --cert FILE
Prints the lowercase hex SHA-256 of the certificate's DER encoding.)",
        {"cert"}, {}}},
  };
  return *commands;
}

int Fail(const std::string& message) {
  std::cerr << "renkeictl pki: " << message << "\n";
  return 1;
}

absl::Status WriteCertificateAndKey(const std::string& prefix, const Certificate& certificate,
                                    const PrivateKey& key) {
  absl::Status status = WriteFileAtomically(prefix + ".key", key.Pem(), 0600);
  if (!status.ok()) return status;
  return WriteFileAtomically(prefix + ".pem", certificate.Pem(), 0644);
}

int Issue(const std::map<std::string, std::string>& flags, CertificateRequest request) {
  auto ca_certificate = Certificate::FromPemFile(flags.at("ca") + ".pem");
  if (!ca_certificate.ok()) return Fail(std::string(ca_certificate.status().message()));
  auto ca_key = PrivateKey::FromPemFile(flags.at("ca") + ".key");
  if (!ca_key.ok()) return Fail(std::string(ca_key.status().message()));
  PrivateKey key = PrivateKey::GenerateP256();
  auto certificate = IssueCertificate(request, key, &*ca_certificate, *ca_key);
  if (!certificate.ok()) return Fail(std::string(certificate.status().message()));
  absl::Status status = WriteCertificateAndKey(flags.at("out"), *certificate, key);
  if (!status.ok()) return Fail(std::string(status.message()));
  std::cout << flags.at("out") << ".pem  sha256=" << certificate->fingerprint() << "\n";
  return 0;
}

std::vector<std::string> List(const std::map<std::string, std::string>& flags,
                              const std::string& name) {
  auto it = flags.find(name);
  if (it == flags.end()) return {};
  return absl::StrSplit(it->second, ',', absl::SkipEmpty());
}

}  // namespace

int RunPkiCommand(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kPkiUsage;
    return args.empty() ? 1 : 0;
  }
  auto found = Commands().find(args[0]);
  if (found == Commands().end()) {
    std::cerr << "renkeictl pki: unknown command \"" << args[0] << "\"\n" << kPkiUsage;
    return 1;
  }
  const Command& command = found->second;
  std::map<std::string, std::string> flags;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << command.usage << "\n";
      return 0;
    }
    if (args[i].rfind("--", 0) != 0 || i + 1 >= args.size()) {
      return Fail(absl::StrCat("expected --flag value, got \"", args[i], "\"\n", command.usage));
    }
    std::string name = args[i].substr(2);
    bool known = false;
    for (const auto& list : {command.required, command.optional}) {
      for (const auto& allowed : list) known = known || allowed == name;
    }
    if (!known) return Fail(absl::StrCat("unknown flag --", name, "\n", command.usage));
    flags[name] = args[++i];
  }
  for (const auto& name : command.required) {
    if (flags.count(name) == 0) {
      return Fail(absl::StrCat("missing --", name, "\n", command.usage));
    }
  }

  CertificateRequest request;
  request.validity_days = args[0] == "create-ca" ? 3650 : 365;
  if (flags.count("days") && !absl::SimpleAtoi(flags["days"], &request.validity_days)) {
    return Fail("--days must be an integer");
  }
  if (flags.count("not-before-days") &&
      !absl::SimpleAtoi(flags["not-before-days"], &request.not_before_days)) {
    return Fail("--not-before-days must be an integer");
  }

  if (args[0] == "fingerprint") {
    auto certificate = Certificate::FromPemFile(flags["cert"]);
    if (!certificate.ok()) return Fail(std::string(certificate.status().message()));
    std::cout << certificate->fingerprint() << "\n";
    return 0;
  }
  if (args[0] == "create-ca") {
    request.kind = CertificateKind::kCertificateAuthority;
    request.common_name = flags["name"];
    PrivateKey key = PrivateKey::GenerateP256();
    auto certificate = IssueCertificate(request, key, nullptr, key);
    if (!certificate.ok()) return Fail(std::string(certificate.status().message()));
    absl::Status status = WriteCertificateAndKey(flags["out"], *certificate, key);
    if (!status.ok()) return Fail(std::string(status.message()));
    std::cout << flags["out"] << ".pem  sha256=" << certificate->fingerprint() << "\n";
    return 0;
  }
  if (args[0] == "issue-auth") {
    auto server = ParseSecurityServerId(flags["server-id"]);
    if (!server.ok()) return Fail(std::string(server.status().message()));
    request.kind = CertificateKind::kTls;
    request.common_name = ToString(*server);
    request.organization = ToString(server->member());
    request.dns_names = {SecurityServerTlsName(*server)};
    return Issue(flags, request);
  }
  if (args[0] == "issue-signing") {
    auto member = ParseMemberId(flags["member"]);
    if (!member.ok()) return Fail(std::string(member.status().message()));
    request.kind = CertificateKind::kSigning;
    request.common_name = ToString(*member);
    request.organization = ToString(*member);
    return Issue(flags, request);
  }
  // issue-tls
  request.kind = CertificateKind::kTls;
  request.common_name = flags["name"];
  request.dns_names = List(flags, "dns");
  request.ip_addresses = List(flags, "ip");
  return Issue(flags, request);
}

}  // namespace renkei
