// Federation: an indexed, validated view of one GlobalConfiguration.
//
// Built once per configuration version and then immutable, so it is shared between threads
// as std::shared_ptr<const Federation> and swapped whole when a new version arrives. The one
// thing that changes is its thread-safe SignerCertificateCache, which dies with the version.
#ifndef RENKEI_COMMON_FEDERATION_H_
#define RENKEI_COMMON_FEDERATION_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/certificates.h"
#include "renkei/v1/config.pb.h"
#include "renkei/v1/identifiers.pb.h"

namespace renkei {

struct FederationServer {
  v1::SecurityServerId id;
  std::string id_text;
  std::vector<std::string> addresses;
  std::string authentication_certificate_sha256;
};

// What a signer certificate's bytes alone decide, remembered per exact DER so that a signer
// seen before is not parsed and chained again on every message (issue 10): the parsed
// certificate (its key ready inside, ECDSA P-256) and the window in which its chain to the
// trusted CAs verified. Revocation and registration are not in it: callers
// check them on every use. Callers insert only certificates whose chain verified.
//
// Bounded: once kMaxEntries certificates are remembered, new ones are not (nothing is
// evicted, so a peer sending many certificates can neither grow memory nor push out the
// ones in use). Thread-safe.
class SignerCertificateCache {
 public:
  static constexpr size_t kMaxEntries = 1024;

  struct Entry {
    Certificate certificate;
    ValidityWindow chain_window;  // TrustStore::VerifyWithWindow verified for times in it
  };

  // The entry for exactly `der`, or null.
  std::shared_ptr<const Entry> Find(absl::string_view der) const;
  // Remembers `entry` under its certificate's DER, replacing an entry for the same DER (a
  // later window); when full, a new DER is dropped.
  void Insert(Entry entry);
  size_t size() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

class Federation {
 public:
  // Validates `configuration`: identifiers well-formed and of this instance, no duplicates,
  // every reference resolves, fingerprints are 64 lowercase hex digits, at least one trusted
  // CA, no two security servers with the same SecurityServerTlsName, limits.max_message_bytes
  // within 0..64 MiB and limits.max_clock_skew_seconds within 0..3600 (0: the default,
  // 4 MiB and 60 s). INVALID_ARGUMENT naming the first problem, its field and its server or
  // member otherwise.
  static absl::StatusOr<std::shared_ptr<const Federation>> Create(
      v1::GlobalConfiguration configuration);
  // The indexes point into the owned configuration: never copied.
  Federation(const Federation&) = delete;
  Federation& operator=(const Federation&) = delete;

  const v1::GlobalConfiguration& configuration() const { return configuration_; }
  const TrustStore& trust() const { return trust_; }
  // Mutable through a const Federation: a thread-safe cache of this configuration version.
  SignerCertificateCache& signer_certificate_cache() const { return signer_certificate_cache_; }
  int64_t max_message_bytes() const { return max_message_bytes_; }
  absl::Duration max_clock_skew() const { return max_clock_skew_; }
  // Concatenated PEM of the trusted CAs, for gRPC TLS credentials.
  const std::string& trusted_ca_pem() const { return trusted_ca_pem_; }

  bool HasMember(const v1::MemberId& member) const;
  bool HasSubsystem(const v1::SubsystemId& subsystem) const;
  bool IsRegisteredSigningCertificate(const v1::MemberId& member,
                                      const std::string& fingerprint) const;
  bool IsRevoked(const std::string& fingerprint) const;
  // The servers that provide `subsystem`, in configuration order; empty when none.
  std::vector<const FederationServer*> ProvidersOf(const v1::SubsystemId& subsystem) const;
  // The server whose authentication certificate has `fingerprint`, or null.
  const FederationServer* ServerByAuthenticationCertificate(const std::string& fingerprint) const;
  const FederationServer* ServerById(const std::string& id_text) const;

 private:
  Federation(v1::GlobalConfiguration configuration, TrustStore trust);

  v1::GlobalConfiguration configuration_;
  TrustStore trust_;
  std::string trusted_ca_pem_;
  int64_t max_message_bytes_ = 0;
  absl::Duration max_clock_skew_;
  std::map<std::string, const v1::Member*> members_;           // by member id text
  std::set<std::string> subsystems_;                           // full subsystem id text
  std::set<std::pair<std::string, std::string>> signing_certificates_;  // (member, sha256)
  std::set<std::string> revoked_;
  std::map<std::string, FederationServer> servers_;            // by server id text
  std::map<std::string, std::string> server_by_fingerprint_;   // sha256 → server id text
  std::map<std::string, std::vector<std::string>> providers_;  // subsystem → server ids
  mutable SignerCertificateCache signer_certificate_cache_;
};

}  // namespace renkei

#endif  // RENKEI_COMMON_FEDERATION_H_
