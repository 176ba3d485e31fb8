#include "common/federation.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/identifiers.h"
#include "common/status_macros.h"

namespace renkei {
namespace {

constexpr int64_t kDefaultMaxMessageBytes = 4 << 20;
// Servers size gRPC limits as max_message_bytes plus an envelope allowance in an int: a
// bound far below INT_MAX keeps that sum from overflowing.
constexpr int64_t kLargestMaxMessageBytes = 64 << 20;
constexpr int64_t kDefaultMaxClockSkewSeconds = 60;
// Beyond an hour the replay cache would have to remember message ids for hours, and a
// clock that far off is broken rather than skewed.
constexpr int64_t kLargestMaxClockSkewSeconds = 3600;

// `fingerprint` as it may appear in a message: it came from an operator or a peer.
std::string Quoted(const std::string& fingerprint) {
  constexpr size_t kShown = 80;
  if (fingerprint.size() <= kShown) return absl::StrCat("\"", absl::CEscape(fingerprint), "\"");
  return absl::StrCat("\"", absl::CEscape(fingerprint.substr(0, kShown)), "\"... (",
                      fingerprint.size(), " bytes)");
}

// `owner` names the server or member ("security server JP/GOV/MHLW/ss1"), `field` the
// configuration field, so that an operator can find the entry to fix.
absl::Status CheckFingerprint(absl::string_view owner, absl::string_view field,
                              const std::string& fingerprint) {
  bool ok = fingerprint.size() == 64;
  for (char c : fingerprint) ok = ok && (absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'));
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(owner, ": ", field, " ", Quoted(fingerprint),
                     " is not a SHA-256 fingerprint (64 lowercase hex digits)"));
  }
  return absl::OkStatus();
}

absl::Status CheckLimits(const v1::Limits& limits) {
  if (limits.max_message_bytes() < 0 || limits.max_message_bytes() > kLargestMaxMessageBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "global configuration: limits.max_message_bytes is ", limits.max_message_bytes(),
        "; it must be between 1 and ", kLargestMaxMessageBytes, " (64 MiB), or 0 for the ",
        "default ", kDefaultMaxMessageBytes, " (4 MiB)"));
  }
  if (limits.max_clock_skew_seconds() < 0 ||
      limits.max_clock_skew_seconds() > kLargestMaxClockSkewSeconds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "global configuration: limits.max_clock_skew_seconds is ",
        limits.max_clock_skew_seconds(), "; it must be between 1 and ",
        kLargestMaxClockSkewSeconds, ", or 0 for the default ", kDefaultMaxClockSkewSeconds));
  }
  return absl::OkStatus();
}

absl::Status CheckInstance(const std::string& instance, const v1::MemberId& member,
                           absl::string_view text) {
  if (member.instance() != instance) {
    return absl::InvalidArgumentError(absl::StrCat(
        "identifier ", text, " belongs to instance ", member.instance(), ", not ", instance));
  }
  return absl::OkStatus();
}

// True when `address` is an IP literal with port: "127.0.0.1:80" or "[::1]:80".
bool IsIpLiteralAddress(const std::string& address) {
  if (!address.empty() && address[0] == '[') return address.find("]:") != std::string::npos;
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    if (!absl::ascii_isdigit(address[i]) && address[i] != '.') return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const SignerCertificateCache::Entry> SignerCertificateCache::Find(
    absl::string_view der) const {
  absl::ReaderMutexLock lock(&mu_);  // every verification looks up; few ever insert
  auto it = entries_.find(der);
  return it == entries_.end() ? nullptr : it->second;
}

void SignerCertificateCache::Insert(Entry entry) {
  std::string der = entry.certificate.der();
  auto shared = std::make_shared<const Entry>(std::move(entry));
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(der);
  if (it != entries_.end()) {
    it->second = std::move(shared);
  } else if (entries_.size() < kMaxEntries) {
    entries_.emplace(std::move(der), std::move(shared));
  }
}

size_t SignerCertificateCache::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return entries_.size();
}

Federation::Federation(v1::GlobalConfiguration configuration, TrustStore trust)
    : configuration_(std::move(configuration)), trust_(std::move(trust)) {}

absl::StatusOr<std::shared_ptr<const Federation>> Federation::Create(
    v1::GlobalConfiguration configuration) {
  if (configuration.instance().empty()) {
    return absl::InvalidArgumentError("global configuration: instance is empty");
  }
  std::vector<std::string> ca_pems(configuration.trusted_ca_pem().begin(),
                                   configuration.trusted_ca_pem().end());
  auto trust = TrustStore::FromPems(ca_pems);
  if (!trust.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("global configuration: ", trust.status().message()));
  }
  std::shared_ptr<Federation> federation(new Federation(std::move(configuration), *trust));
  Federation& f = *federation;
  const v1::GlobalConfiguration& c = f.configuration_;
  const std::string& instance = c.instance();
  for (const std::string& pem : c.trusted_ca_pem()) f.trusted_ca_pem_ += pem;

  RENKEI_RETURN_IF_ERROR(CheckLimits(c.limits()));
  f.max_message_bytes_ =
      c.limits().max_message_bytes() > 0 ? c.limits().max_message_bytes() : kDefaultMaxMessageBytes;
  f.max_clock_skew_ = absl::Seconds(c.limits().max_clock_skew_seconds() > 0
                                        ? c.limits().max_clock_skew_seconds()
                                        : kDefaultMaxClockSkewSeconds);

  for (const v1::Member& member : c.members()) {
    RENKEI_ASSIGN_OR_RETURN(v1::MemberId id, ParseMemberId(member.id()));
    RENKEI_RETURN_IF_ERROR(CheckInstance(instance, id, member.id()));
    if (!f.members_.emplace(member.id(), &member).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate member ", member.id()));
    }
    for (const std::string& code : member.subsystems()) {
      std::string full = absl::StrCat(member.id(), "/", code);
      RENKEI_RETURN_IF_ERROR(ParseSubsystemId(full).status());
      if (!f.subsystems_.insert(full).second) {
        return absl::InvalidArgumentError(absl::StrCat("duplicate subsystem ", full));
      }
    }
    for (const std::string& fingerprint : member.signing_certificate_sha256()) {
      RENKEI_RETURN_IF_ERROR(CheckFingerprint(absl::StrCat("member ", member.id()),
                                              "signing_certificate_sha256", fingerprint));
      f.signing_certificates_.emplace(member.id(), fingerprint);
    }
  }
  // TLS name → the server id that has it. Peers check a provider's certificate against its
  // TLS name, which folds case, '_' and label boundaries (identifiers.h): two servers with
  // one name could pass each other's handshake check.
  std::map<std::string, std::string> tls_names;
  for (const v1::SecurityServer& server : c.security_servers()) {
    RENKEI_ASSIGN_OR_RETURN(v1::SecurityServerId id, ParseSecurityServerId(server.id()));
    RENKEI_RETURN_IF_ERROR(CheckInstance(instance, id.member(), server.id()));
    const std::string tls_name = SecurityServerTlsName(id);
    auto [named, unique] = tls_names.emplace(tls_name, server.id());
    if (!unique && named->second != server.id()) {  // the same id twice is reported below
      return absl::InvalidArgumentError(absl::StrCat(
          "security servers ", named->second, " and ", server.id(), " would share the TLS name ",
          tls_name, " (TLS names ignore case, read '_' as '-' and '.' as a label boundary); ",
          "rename one of them"));
    }
    if (f.members_.count(ToString(id.member())) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "security server ", server.id(), " belongs to unknown member ", ToString(id.member())));
    }
    if (server.addresses().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("security server ", server.id(), " has no address"));
    }
    if (server.addresses_size() > 1) {
      // Several addresses are handed to gRPC's pick_first policy, which takes IP literals;
      // a host name with several addresses belongs in DNS instead.
      for (const std::string& address : server.addresses()) {
        if (!IsIpLiteralAddress(address)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "security server ", server.id(), ": with several addresses each must be an IP ",
              "literal with port, got \"", address, "\""));
        }
      }
    }
    RENKEI_RETURN_IF_ERROR(CheckFingerprint(absl::StrCat("security server ", server.id()),
                                            "authentication_certificate_sha256",
                                            server.authentication_certificate_sha256()));
    FederationServer entry{id, server.id(),
                           {server.addresses().begin(), server.addresses().end()},
                           server.authentication_certificate_sha256()};
    if (!f.servers_.emplace(server.id(), entry).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate security server ", server.id()));
    }
    if (!f.server_by_fingerprint_.emplace(server.authentication_certificate_sha256(), server.id())
             .second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "authentication certificate of ", server.id(), " is also registered for another server"));
    }
    for (const std::string& provided : server.provides()) {
      RENKEI_RETURN_IF_ERROR(ParseSubsystemId(provided).status());
      if (f.subsystems_.count(provided) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "security server ", server.id(), " provides unknown subsystem ", provided));
      }
      f.providers_[provided].push_back(server.id());
    }
  }
  for (const std::string& fingerprint : c.revoked_certificate_sha256()) {
    RENKEI_RETURN_IF_ERROR(
        CheckFingerprint("global configuration", "revoked_certificate_sha256", fingerprint));
    f.revoked_.insert(fingerprint);
  }
  return std::shared_ptr<const Federation>(federation);
}

bool Federation::HasMember(const v1::MemberId& member) const {
  return members_.count(ToString(member)) > 0;
}

bool Federation::HasSubsystem(const v1::SubsystemId& subsystem) const {
  return subsystems_.count(ToString(subsystem)) > 0;
}

bool Federation::IsRegisteredSigningCertificate(const v1::MemberId& member,
                                                const std::string& fingerprint) const {
  return signing_certificates_.count({ToString(member), fingerprint}) > 0;
}

bool Federation::IsRevoked(const std::string& fingerprint) const {
  return revoked_.count(fingerprint) > 0;
}

std::vector<const FederationServer*> Federation::ProvidersOf(
    const v1::SubsystemId& subsystem) const {
  std::vector<const FederationServer*> result;
  auto it = providers_.find(ToString(subsystem));
  if (it == providers_.end()) return result;
  for (const std::string& id : it->second) result.push_back(&servers_.at(id));
  return result;
}

const FederationServer* Federation::ServerByAuthenticationCertificate(
    const std::string& fingerprint) const {
  auto it = server_by_fingerprint_.find(fingerprint);
  return it == server_by_fingerprint_.end() ? nullptr : &servers_.at(it->second);
}

const FederationServer* Federation::ServerById(const std::string& id_text) const {
  auto it = servers_.find(id_text);
  return it == servers_.end() ? nullptr : &it->second;
}

}  // namespace renkei
