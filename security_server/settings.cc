#include "security_server/settings.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/identifiers.h"
#include "common/status_macros.h"
#include "common/text_proto.h"

namespace renkei {
namespace {

absl::Status Invalid(absl::string_view path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

absl::StatusOr<TlsIdentity> ReadTls(const std::string& path, absl::string_view what,
                                    const std::string& certificate_file,
                                    const std::string& key_file) {
  if (certificate_file.empty() || key_file.empty()) {
    return Invalid(path, absl::StrCat(what, ": certificate and key files are required"));
  }
  RENKEI_ASSIGN_OR_RETURN(Certificate certificate, Certificate::FromPemFile(certificate_file));
  // Read once, with the owner-only check, and used as read.
  RENKEI_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::FromPemFile(key_file));
  return TlsIdentity{certificate.Pem(), key.Pem()};
}

}  // namespace

absl::StatusOr<std::unique_ptr<const Settings>> LoadSettings(const std::string& path) {
  auto settings = std::make_unique<Settings>();
  v1::SecurityServerConfig& c = settings->config;
  RENKEI_RETURN_IF_ERROR(LoadTextProtoFile(path, &c));

  auto server_id = ParseSecurityServerId(c.server_id());
  if (!server_id.ok()) return Invalid(path, absl::StrCat("server_id: ", server_id.status().message()));
  settings->server_id = *server_id;
  settings->server_id_text = c.server_id();

  auto resolve = [&](std::string* file) { *file = ResolvePath(path, *file); };
  if (c.global_configuration_file().empty() == c.configuration_anchor_file().empty()) {
    return Invalid(path,
                   "set exactly one of configuration_anchor_file (follow the broker) and "
                   "global_configuration_file (a fixed file)");
  }
  resolve(c.mutable_global_configuration_file());
  if (!c.configuration_anchor_file().empty()) {
    settings->follows_broker = true;
    resolve(c.mutable_configuration_anchor_file());
    RENKEI_RETURN_IF_ERROR(LoadTextProtoFile(c.configuration_anchor_file(), &settings->anchor));
    if (c.configuration_cache_file().empty()) {
      c.set_configuration_cache_file("global-configuration.cache");
    }
    resolve(c.mutable_configuration_cache_file());
    settings->configuration_cache_file = c.configuration_cache_file();
    if (c.configuration_refresh_seconds() < 0) {
      return Invalid(path, "configuration_refresh_seconds must be positive");
    }
    settings->configuration_refresh_interval =
        absl::Seconds(c.configuration_refresh_seconds() > 0 ? c.configuration_refresh_seconds() : 60);
  }

  // Local endpoint.
  const v1::LocalEndpoint& local = c.local();
  if (local.listen_address().empty()) return Invalid(path, "local.listen_address is required");
  settings->local_plaintext = local.plaintext_loopback_only();
  if (settings->local_plaintext) {
    if (!IsLoopbackAddress(local.listen_address())) {
      return Invalid(path, absl::StrCat("local.plaintext_loopback_only needs a loopback "
                                        "listen_address, not ",
                                        local.listen_address()));
    }
    if (!local.rest_listen_address().empty() && !IsLoopbackAddress(local.rest_listen_address())) {
      return Invalid(path, absl::StrCat("local.plaintext_loopback_only needs a loopback "
                                        "rest_listen_address, not ",
                                        local.rest_listen_address()));
    }
  } else {
    resolve(c.mutable_local()->mutable_tls_certificate_file());
    resolve(c.mutable_local()->mutable_tls_key_file());
    resolve(c.mutable_local()->mutable_client_ca_file());
    RENKEI_ASSIGN_OR_RETURN(settings->local_tls,
                            ReadTls(path, "local", local.tls_certificate_file(), local.tls_key_file()));
    if (local.client_ca_file().empty()) {
      return Invalid(path, "local.client_ca_file is required for TLS (or set plaintext_loopback_only)");
    }
    RENKEI_ASSIGN_OR_RETURN(Certificate ca, Certificate::FromPemFile(local.client_ca_file()));
    settings->local_client_ca_pem = ca.Pem();
  }

  // Peer endpoint.
  if (c.peer().listen_address().empty()) return Invalid(path, "peer.listen_address is required");
  resolve(c.mutable_peer()->mutable_authentication_certificate_file());
  resolve(c.mutable_peer()->mutable_authentication_key_file());
  RENKEI_ASSIGN_OR_RETURN(settings->peer_tls,
                          ReadTls(path, "peer", c.peer().authentication_certificate_file(),
                                  c.peer().authentication_key_file()));

  for (v1::MemberSigningKey& key : *c.mutable_signing_keys()) {
    auto member = ParseMemberId(key.member());
    if (!member.ok()) return Invalid(path, absl::StrCat("signing_keys: ", member.status().message()));
    resolve(key.mutable_certificate_file());
    resolve(key.mutable_key_file());
    RENKEI_ASSIGN_OR_RETURN(Certificate certificate, Certificate::FromPemFile(key.certificate_file()));
    RENKEI_ASSIGN_OR_RETURN(PrivateKey private_key, PrivateKey::FromPemFile(key.key_file()));
    if (!certificate.HasP256Key()) {
      return Invalid(path, absl::StrCat("signing key of ", key.member(), " is not ECDSA P-256"));
    }
    // A key that does not match its certificate would sign messages nobody can verify.
    if (!CheckKeyMatchesCertificate(private_key, certificate).ok()) {
      return Invalid(path, absl::StrCat("signing key of ", key.member(),
                                        " does not match its certificate"));
    }
    SigningIdentity identity{*member, certificate, private_key};
    if (!settings->signing_identities.emplace(key.member(), identity).second) {
      return Invalid(path, absl::StrCat("two signing keys for member ", key.member()));
    }
  }

  for (const v1::LocalClient& client : c.local_clients()) {
    auto subsystem = ParseSubsystemId(client.subsystem());
    if (!subsystem.ok()) {
      return Invalid(path, absl::StrCat("local_clients: ", subsystem.status().message()));
    }
    if (settings->signing_identities.count(ToString(subsystem->member())) == 0) {
      return Invalid(path, absl::StrCat("local client ", client.subsystem(),
                                        ": no signing key for member ",
                                        ToString(subsystem->member())));
    }
    std::set<std::string>& fingerprints = settings->local_clients[client.subsystem()];
    if (client.certificate_sha256().empty()) {
      if (!settings->local_plaintext) {
        return Invalid(path, absl::StrCat("local client ", client.subsystem(),
                                          ": certificate_sha256 is required with TLS"));
      }
    } else {
      fingerprints.insert(client.certificate_sha256());
    }
  }

  for (v1::ProvidedService& service : *c.mutable_provided_services()) {
    if (!service.descriptor_set_file().empty()) resolve(service.mutable_descriptor_set_file());
    auto subsystem = ParseSubsystemId(service.subsystem());
    if (!subsystem.ok()) {
      return Invalid(path, absl::StrCat("provided_services: ", subsystem.status().message()));
    }
    if (service.backend_address().empty()) {
      return Invalid(path, absl::StrCat("provided service ", service.subsystem(),
                                        ": backend_address is required"));
    }
    if (settings->signing_identities.count(ToString(subsystem->member())) == 0) {
      return Invalid(path, absl::StrCat("provided service ", service.subsystem(),
                                        ": no signing key for member ",
                                        ToString(subsystem->member())));
    }
    for (const std::string& method : service.methods()) {
      if (!IsFullMethodName(method)) {
        return Invalid(path, absl::StrCat("provided service ", service.subsystem(), ": \"", method,
                                          "\" is not a full method name"));
      }
    }
    if (!settings->backends.emplace(service.subsystem(), service.backend_address()).second) {
      return Invalid(path, absl::StrCat("service ", service.subsystem(), " provided twice"));
    }
  }

  auto rights = AccessRights::Create(c.access_rights());
  if (!rights.ok()) return Invalid(path, rights.status().message());
  settings->access_rights = *std::move(rights);

  if (!c.provided_services().empty()) {
    if (c.pseudonym_pepper_file().empty()) {
      return Invalid(path, "pseudonym_pepper_file is required when services are provided");
    }
    resolve(c.mutable_pseudonym_pepper_file());
    auto pseudonymizer = Pseudonymizer::FromFile(c.pseudonym_pepper_file());
    if (!pseudonymizer.ok()) return pseudonymizer.status();
    settings->pseudonymizer = *std::move(pseudonymizer);
  }

  if (c.message_log().directory().empty()) return Invalid(path, "message_log.directory is required");
  resolve(c.mutable_message_log()->mutable_directory());
  return std::unique_ptr<const Settings>(std::move(settings));
}

}  // namespace renkei
