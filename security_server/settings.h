// Settings: a security server's configuration file, loaded, validated and with its key
// material read, ready for the server to use. Immutable after loading; thread-safe.
#ifndef RENKEI_SECURITY_SERVER_SETTINGS_H_
#define RENKEI_SECURITY_SERVER_SETTINGS_H_

#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/pseudonym.h"
#include "renkei/v1/config.pb.h"
#include "renkei/v1/identifiers.pb.h"
#include "security_server/access_rights.h"
#include "common/envelope.h"
#include "common/transport_security.h"

namespace renkei {


struct Settings {
  v1::SecurityServerConfig config;  // as written, paths resolved

  // Where the global configuration comes from: the broker (anchor set) or a fixed file.
  bool follows_broker = false;
  v1::ConfigurationAnchor anchor;
  std::string configuration_cache_file;
  absl::Duration configuration_refresh_interval;
  v1::SecurityServerId server_id;
  std::string server_id_text;

  // Local endpoint: TLS material and client CA, absent in plaintext loopback mode.
  bool local_plaintext = false;
  TlsIdentity local_tls;
  std::string local_client_ca_pem;
  // client subsystem → fingerprints of the local callers' certificates allowed to act as it
  // (an empty set in plaintext loopback mode).
  std::map<std::string, std::set<std::string>> local_clients;

  TlsIdentity peer_tls;
  // member id text → signing identity
  std::map<std::string, SigningIdentity> signing_identities;
  // provided subsystem id text → backend address
  std::map<std::string, std::string> backends;
  AccessRights access_rights;
  // Present when the server provides services (access records need pseudonyms).
  std::optional<Pseudonymizer> pseudonymizer;
};

// Reads `path` (protobuf text format) and everything it refers to. INVALID_ARGUMENT naming
// the field and the problem (or NOT_FOUND naming a missing file) on any error.
absl::StatusOr<std::unique_ptr<const Settings>> LoadSettings(const std::string& path);


}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_SETTINGS_H_
