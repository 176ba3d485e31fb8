#include "security_server/test_federation.h"

#include <cstdlib>

#include "common/identifiers.h"
#include "tools/renkeictl/pki.h"

namespace renkei {
namespace {

template <typename T>
T OrDie(absl::StatusOr<T> value) {
  if (!value.ok()) std::abort();
  return *std::move(value);
}

}  // namespace

TestCredentials TestFederation::MakeCa(const std::string& name) const {
  PrivateKey key = PrivateKey::GenerateP256();
  CertificateRequest request;
  request.kind = CertificateKind::kCertificateAuthority;
  request.common_name = name;
  return {OrDie(IssueCertificate(request, key, nullptr, key)), key};
}

TestCredentials TestFederation::IssueSigning(const std::string& member,
                                             const TestCredentials& issuer) const {
  PrivateKey key = PrivateKey::GenerateP256();
  CertificateRequest request;
  request.kind = CertificateKind::kSigning;
  request.common_name = member;
  return {OrDie(IssueCertificate(request, key, &issuer.certificate, issuer.key)), key};
}

TestCredentials TestFederation::IssueAuthentication(const std::string& server,
                                                    const TestCredentials& issuer) const {
  PrivateKey key = PrivateKey::GenerateP256();
  CertificateRequest request;
  request.kind = CertificateKind::kTls;
  request.common_name = server;
  request.dns_names = {SecurityServerTlsName(OrDie(ParseSecurityServerId(server)))};
  return {OrDie(IssueCertificate(request, key, &issuer.certificate, issuer.key)), key};
}

TestFederation::TestFederation()
    : ca(MakeCa("Test Federation CA")),
      consumer_signer(MakeSigner(kConsumerMember)),
      provider_signer(MakeSigner(kProviderMember)),
      consumer_server(IssueAuthentication(kConsumerServer, ca)),
      provider_server(IssueAuthentication(kProviderServer, ca)) {

  configuration.set_instance("JP");
  configuration.set_version(1);
  configuration.add_trusted_ca_pem(ca.certificate.Pem());
  v1::Member* mhlw = configuration.add_members();
  mhlw->set_id(kConsumerMember);
  mhlw->set_name("厚生労働省");
  mhlw->add_subsystems("child-allowance");
  mhlw->add_signing_certificate_sha256(consumer_signer.certificate.fingerprint());
  v1::Member* chiyoda = configuration.add_members();
  chiyoda->set_id(kProviderMember);
  chiyoda->set_name("千代田区");
  chiyoda->add_subsystems("resident-registry");
  chiyoda->add_signing_certificate_sha256(provider_signer.certificate.fingerprint());
  v1::SecurityServer* consumer_ss = configuration.add_security_servers();
  consumer_ss->set_id(kConsumerServer);
  consumer_ss->add_addresses("127.0.0.1:1");
  consumer_ss->set_authentication_certificate_sha256(consumer_server.certificate.fingerprint());
  v1::SecurityServer* provider_ss = configuration.add_security_servers();
  provider_ss->set_id(kProviderServer);
  provider_ss->add_addresses("127.0.0.1:2");
  provider_ss->set_authentication_certificate_sha256(provider_server.certificate.fingerprint());
  provider_ss->add_provides(kService);
}

SigningIdentity TestFederation::MakeSigner(const std::string& member) const {
  TestCredentials credentials = IssueSigning(member, ca);
  return {OrDie(ParseMemberId(member)), credentials.certificate, credentials.key};
}

std::shared_ptr<const Federation> TestFederation::Build() const {
  return OrDie(Federation::Create(configuration));
}

}  // namespace renkei
