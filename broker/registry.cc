#include "broker/registry.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/certificates.h"
#include "common/federation.h"
#include "common/identifiers.h"
#include "common/status_macros.h"

namespace renkei {
namespace {

v1::Member* FindMember(v1::GlobalConfiguration& c, const std::string& id) {
  for (v1::Member& member : *c.mutable_members()) {
    if (member.id() == id) return &member;
  }
  return nullptr;
}

int FindServer(const v1::GlobalConfiguration& c, const std::string& id) {
  for (int i = 0; i < c.security_servers_size(); ++i) {
    if (c.security_servers(i).id() == id) return i;
  }
  return -1;
}

template <typename Field, typename Predicate>
void RemoveIf(Field* field, Predicate predicate) {
  field->erase(std::remove_if(field->begin(), field->end(), predicate), field->end());
}

absl::Status AddMember(v1::GlobalConfiguration& c, const v1::RegistryChange::AddMember& add) {
  RENKEI_RETURN_IF_ERROR(ParseMemberId(add.id()).status());
  if (FindMember(c, add.id()) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("member ", add.id(), " already exists"));
  }
  v1::Member* member = c.add_members();
  member->set_id(add.id());
  member->set_name(add.name());
  return absl::OkStatus();
}

absl::Status RemoveMember(v1::GlobalConfiguration& c, const std::string& id) {
  v1::Member* member = FindMember(c, id);
  if (member == nullptr) return absl::NotFoundError(absl::StrCat("no member ", id));
  if (!member->subsystems().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("member ", id, " still has subsystems; remove them first"));
  }
  for (const v1::SecurityServer& server : c.security_servers()) {
    auto server_id = ParseSecurityServerId(server.id());
    if (server_id.ok() && ToString(server_id->member()) == id) {
      return absl::FailedPreconditionError(absl::StrCat(
          "member ", id, " still has security server ", server.id(), "; remove it first"));
    }
  }
  RemoveIf(c.mutable_members(), [&](const v1::Member& m) { return m.id() == id; });
  return absl::OkStatus();
}

absl::Status AddSubsystem(v1::GlobalConfiguration& c, const std::string& id) {
  RENKEI_ASSIGN_OR_RETURN(v1::SubsystemId subsystem, ParseSubsystemId(id));
  v1::Member* member = FindMember(c, ToString(subsystem.member()));
  if (member == nullptr) {
    return absl::NotFoundError(absl::StrCat("no member ", ToString(subsystem.member()),
                                            " for subsystem ", id));
  }
  for (const std::string& existing : member->subsystems()) {
    if (existing == subsystem.subsystem_code()) {
      return absl::AlreadyExistsError(absl::StrCat("subsystem ", id, " already exists"));
    }
  }
  member->add_subsystems(subsystem.subsystem_code());
  return absl::OkStatus();
}

absl::Status RemoveSubsystem(v1::GlobalConfiguration& c, const std::string& id) {
  RENKEI_ASSIGN_OR_RETURN(v1::SubsystemId subsystem, ParseSubsystemId(id));
  v1::Member* member = FindMember(c, ToString(subsystem.member()));
  bool found = member != nullptr &&
               std::count(member->subsystems().begin(), member->subsystems().end(),
                          subsystem.subsystem_code()) > 0;
  if (!found) return absl::NotFoundError(absl::StrCat("no subsystem ", id));
  for (const v1::SecurityServer& server : c.security_servers()) {
    for (const std::string& provided : server.provides()) {
      if (provided == id) {
        return absl::FailedPreconditionError(absl::StrCat(
            "subsystem ", id, " is still provided by security server ", server.id()));
      }
    }
  }
  RemoveIf(member->mutable_subsystems(),
           [&](const std::string& code) { return code == subsystem.subsystem_code(); });
  return absl::OkStatus();
}

absl::Status PutSecurityServer(v1::GlobalConfiguration& c, const v1::SecurityServer& server) {
  RENKEI_ASSIGN_OR_RETURN(v1::SecurityServerId id, ParseSecurityServerId(server.id()));
  if (FindMember(c, ToString(id.member())) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no member ", ToString(id.member()), " for security server ", server.id()));
  }
  int index = FindServer(c, server.id());
  if (index >= 0) {
    *c.mutable_security_servers(index) = server;
  } else {
    *c.add_security_servers() = server;
  }
  return absl::OkStatus();
}

absl::Status RemoveSecurityServer(v1::GlobalConfiguration& c, const std::string& id) {
  if (FindServer(c, id) < 0) return absl::NotFoundError(absl::StrCat("no security server ", id));
  RemoveIf(c.mutable_security_servers(), [&](const v1::SecurityServer& s) { return s.id() == id; });
  return absl::OkStatus();
}

absl::Status AddSigningCertificate(v1::GlobalConfiguration& c,
                                   const v1::RegistryChange::AddSigningCertificate& add) {
  v1::Member* member = FindMember(c, add.member());
  if (member == nullptr) return absl::NotFoundError(absl::StrCat("no member ", add.member()));
  RENKEI_ASSIGN_OR_RETURN(Certificate certificate, Certificate::FromPem(add.certificate_pem()));
  if (!certificate.HasP256Key()) {
    return absl::InvalidArgumentError("signing certificate does not hold an ECDSA P-256 key");
  }
  std::vector<std::string> cas(c.trusted_ca_pem().begin(), c.trusted_ca_pem().end());
  RENKEI_ASSIGN_OR_RETURN(TrustStore trust, TrustStore::FromPems(cas));
  absl::Status chain = trust.Verify(certificate);
  if (!chain.ok()) return absl::InvalidArgumentError(chain.message());
  for (const std::string& existing : member->signing_certificate_sha256()) {
    if (existing == certificate.fingerprint()) {
      return absl::AlreadyExistsError(absl::StrCat("certificate ", certificate.fingerprint(),
                                                   " is already registered for ", add.member()));
    }
  }
  member->add_signing_certificate_sha256(certificate.fingerprint());
  return absl::OkStatus();
}

absl::Status AddTrustedCa(v1::GlobalConfiguration& c, const std::string& pem) {
  RENKEI_ASSIGN_OR_RETURN(Certificate ca, Certificate::FromPem(pem));
  for (const std::string& existing : c.trusted_ca_pem()) {
    auto held = Certificate::FromPem(existing);
    if (held.ok() && held->fingerprint() == ca.fingerprint()) {
      return absl::AlreadyExistsError(absl::StrCat("CA ", ca.fingerprint(), " is already trusted"));
    }
  }
  c.add_trusted_ca_pem(ca.Pem());
  return absl::OkStatus();
}

absl::Status RemoveSigningCertificate(v1::GlobalConfiguration& c,
                                      const v1::RegistryChange::RemoveSigningCertificate& remove) {
  v1::Member* member = FindMember(c, remove.member());
  if (member == nullptr) return absl::NotFoundError(absl::StrCat("no member ", remove.member()));
  auto* fingerprints = member->mutable_signing_certificate_sha256();
  auto size = fingerprints->size();
  RemoveIf(fingerprints, [&](const std::string& f) { return f == remove.certificate_sha256(); });
  if (fingerprints->size() == size) {
    return absl::NotFoundError(absl::StrCat("certificate ", remove.certificate_sha256(),
                                            " is not registered for ", remove.member()));
  }
  return absl::OkStatus();
}

absl::Status RemoveTrustedCa(v1::GlobalConfiguration& c, const std::string& fingerprint) {
  auto size = c.trusted_ca_pem().size();
  RemoveIf(c.mutable_trusted_ca_pem(), [&](const std::string& pem) {
    auto ca = Certificate::FromPem(pem);
    return ca.ok() && ca->fingerprint() == fingerprint;
  });
  if (c.trusted_ca_pem().size() == size) {
    return absl::NotFoundError(absl::StrCat("CA ", fingerprint, " is not trusted"));
  }
  if (c.trusted_ca_pem().empty()) {
    return absl::FailedPreconditionError("the last trusted CA cannot be removed");
  }
  return absl::OkStatus();
}

absl::Status Revoke(v1::GlobalConfiguration& c, const std::string& fingerprint) {
  for (const std::string& existing : c.revoked_certificate_sha256()) {
    if (existing == fingerprint) {
      return absl::AlreadyExistsError(absl::StrCat("certificate ", fingerprint, " is already revoked"));
    }
  }
  c.add_revoked_certificate_sha256(fingerprint);
  return absl::OkStatus();
}

absl::Status Apply(v1::GlobalConfiguration& c, const v1::RegistryChange& change) {
  switch (change.change_case()) {
    case v1::RegistryChange::kAddMember: return AddMember(c, change.add_member());
    case v1::RegistryChange::kRemoveMember: return RemoveMember(c, change.remove_member().id());
    case v1::RegistryChange::kAddSubsystem: return AddSubsystem(c, change.add_subsystem().id());
    case v1::RegistryChange::kRemoveSubsystem:
      return RemoveSubsystem(c, change.remove_subsystem().id());
    case v1::RegistryChange::kPutSecurityServer:
      return PutSecurityServer(c, change.put_security_server().server());
    case v1::RegistryChange::kRemoveSecurityServer:
      return RemoveSecurityServer(c, change.remove_security_server().id());
    case v1::RegistryChange::kAddSigningCertificate:
      return AddSigningCertificate(c, change.add_signing_certificate());
    case v1::RegistryChange::kAddTrustedCa: return AddTrustedCa(c, change.add_trusted_ca().certificate_pem());
    case v1::RegistryChange::kRevokeCertificate:
      return Revoke(c, change.revoke_certificate().certificate_sha256());
    case v1::RegistryChange::kRemoveSigningCertificate:
      return RemoveSigningCertificate(c, change.remove_signing_certificate());
    case v1::RegistryChange::kRemoveTrustedCa:
      return RemoveTrustedCa(c, change.remove_trusted_ca().certificate_sha256());
    case v1::RegistryChange::CHANGE_NOT_SET: break;
  }
  return absl::InvalidArgumentError("empty registry change");
}

}  // namespace

absl::StatusOr<v1::GlobalConfiguration> ApplyRegistryChange(const v1::GlobalConfiguration& current,
                                                            const v1::RegistryChange& change) {
  if (current.trusted_ca_pem().empty() && !change.has_add_trusted_ca()) {
    return absl::FailedPreconditionError(
        "the registry has no trusted CA yet: add one first (renkeictl registry add-ca)");
  }
  v1::GlobalConfiguration next = current;
  RENKEI_RETURN_IF_ERROR(Apply(next, change));
  // The whole document must still be one a security server accepts.
  auto federation = Federation::Create(next);
  if (!federation.ok()) return absl::InvalidArgumentError(federation.status().message());
  return next;
}

}  // namespace renkei
