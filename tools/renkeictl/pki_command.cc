#include "tools/renkeictl/pki_command.h"

#include <iostream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/certificates.h"
#include "common/digest.h"
#include "common/files.h"
#include "common/identifiers.h"
#include "tools/renkeictl/command_line.h"
#include "tools/renkeictl/pki.h"

namespace renkei {
namespace {

constexpr char kPkiUsage[] = R"(usage: renkeictl pki COMMAND [--flag value ...]

Commands:
  create-ca      Create a CA (federation CA, or an agency's CA for local clients).
  issue-auth     Issue a security server's TLS authentication certificate.
  issue-signing  Issue a member's message-signing certificate.
  issue-config-signing  Issue the broker's configuration-signing certificate.
  issue-tls      Issue a TLS certificate for a local endpoint or a local client system.
  create-pepper  Create the federation's pseudonym pepper.
  create-resident-key  Create a resident's sign-in key pair.
  fingerprint    Print the SHA-256 fingerprint of a certificate (as the configuration uses).

Every command takes --help. Private keys are written with mode 0600.
)";

const std::map<std::string, CommandSpec>& Commands() {
  static const auto* commands = new std::map<std::string, CommandSpec>{
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
with a DNS name derived from its id; peers check its fingerprint against the registry at the
handshake. Writes PREFIX.pem and PREFIX.key (0600).
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
      {"issue-config-signing",
       {R"(usage: renkeictl pki issue-config-signing --ca PREFIX --out PREFIX [--name NAME] [--days N]
Issues the broker's configuration-signing certificate (the security servers' anchor trusts it).
Writes PREFIX.pem and PREFIX.key (0600).
  --ca    prefix of the issuing CA's .pem/.key
  --out   output prefix
  --name  common name (default "Renkei broker configuration signing")
  --days  validity in days (default 365))",
        {"ca", "out"}, {"name", "days"}}},
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
      {"create-pepper",
       {R"(usage: renkeictl pki create-pepper --out FILE
Writes a new federation pseudonym pepper (32 random bytes as 64 hex digits, mode 0600).
Every security server that provides services and the broker need the same pepper.)",
        {"out"}, {}}},
      {"create-resident-key",
       {R"(usage: renkeictl pki create-resident-key --out PREFIX
Creates a resident's ECDSA P-256 key pair (as on a My Number card): PREFIX.key (PKCS#8,
0600) to sign in with, and PREFIX.pub.pem to enrol at the broker.)",
        {"out"}, {}}},
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

int Issue(const Flags& flags, CertificateRequest request) {
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

std::vector<std::string> List(const Flags& flags,
                              const std::string& name) {
  auto it = flags.find(name);
  if (it == flags.end()) return {};
  return absl::StrSplit(it->second, ',', absl::SkipEmpty());
}

int RunPki(const std::string& command, Flags& flags) {
  CertificateRequest request;
  request.validity_days = command == "create-ca" ? 3650 : 365;
  if (flags.count("days") && !absl::SimpleAtoi(flags["days"], &request.validity_days)) {
    return Fail("--days must be an integer");
  }
  if (flags.count("not-before-days") &&
      !absl::SimpleAtoi(flags["not-before-days"], &request.not_before_days)) {
    return Fail("--not-before-days must be an integer");
  }

  if (command == "create-pepper") {
    std::string hex = ToHex(RandomBytes(32));
    absl::Status status = WriteFileAtomically(flags["out"], hex + "\n", 0600);
    if (!status.ok()) return Fail(std::string(status.message()));
    std::cout << flags["out"] << "  (pseudonym pepper, mode 0600)\n";
    return 0;
  }
  if (command == "create-resident-key") {
    PrivateKey key = PrivateKey::GenerateP256();
    absl::Status status = WriteFileAtomically(flags["out"] + ".key", key.Pem(), 0600);
    if (status.ok()) status = WriteFileAtomically(flags["out"] + ".pub.pem", key.PublicKeyPem(), 0644);
    if (!status.ok()) return Fail(std::string(status.message()));
    std::cout << flags["out"] << ".key, " << flags["out"] << ".pub.pem\n";
    return 0;
  }
  if (command == "fingerprint") {
    auto certificate = Certificate::FromPemFile(flags["cert"]);
    if (!certificate.ok()) return Fail(std::string(certificate.status().message()));
    std::cout << certificate->fingerprint() << "\n";
    return 0;
  }
  if (command == "create-ca") {
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
  if (command == "issue-auth") {
    auto server = ParseSecurityServerId(flags["server-id"]);
    if (!server.ok()) return Fail(std::string(server.status().message()));
    request.kind = CertificateKind::kTls;
    request.common_name = ToString(*server);
    request.organization = ToString(server->member());
    request.dns_names = {SecurityServerTlsName(*server)};
    return Issue(flags, request);
  }
  if (command == "issue-signing") {
    auto member = ParseMemberId(flags["member"]);
    if (!member.ok()) return Fail(std::string(member.status().message()));
    request.kind = CertificateKind::kSigning;
    request.common_name = ToString(*member);
    request.organization = ToString(*member);
    return Issue(flags, request);
  }
  if (command == "issue-config-signing") {
    request.kind = CertificateKind::kSigning;
    request.common_name =
        flags.count("name") ? flags["name"] : "Renkei broker configuration signing";
    return Issue(flags, request);
  }
  // issue-tls
  request.kind = CertificateKind::kTls;
  request.common_name = flags["name"];
  request.dns_names = List(flags, "dns");
  request.ip_addresses = List(flags, "ip");
  return Issue(flags, request);
}

}  // namespace

int RunPkiCommand(const std::vector<std::string>& args) {
  return RunGroup("pki", kPkiUsage, Commands(), args, RunPki);
}

}  // namespace renkei
