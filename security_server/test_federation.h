// TestFederation: an in-memory federation for unit tests: a CA, two members with signing
// identities and one security server each, and the GlobalConfiguration describing them.
#ifndef RENKEI_SECURITY_SERVER_TEST_FEDERATION_H_
#define RENKEI_SECURITY_SERVER_TEST_FEDERATION_H_

#include <memory>
#include <string>

#include "common/certificates.h"
#include "renkei/v1/config.pb.h"
#include "common/envelope.h"
#include "common/federation.h"
#include "security_server/configuration_source.h"

namespace renkei {

struct TestCredentials {
  Certificate certificate;
  PrivateKey key;
};

class TestFederation {
 public:
  static constexpr char kConsumerMember[] = "JP/GOV/MHLW";
  static constexpr char kProviderMember[] = "JP/MUNI/131016";
  static constexpr char kClient[] = "JP/GOV/MHLW/child-allowance";
  static constexpr char kService[] = "JP/MUNI/131016/resident-registry";
  static constexpr char kConsumerServer[] = "JP/GOV/MHLW/ss1";
  static constexpr char kProviderServer[] = "JP/MUNI/131016/ss1";

  TestFederation();

  TestCredentials IssueSigning(const std::string& member, const TestCredentials& ca) const;
  TestCredentials IssueAuthentication(const std::string& server, const TestCredentials& ca) const;
  TestCredentials MakeCa(const std::string& name) const;
  SigningIdentity MakeSigner(const std::string& member) const;

  std::shared_ptr<const Federation> Build() const;

  TestCredentials ca;
  SigningIdentity consumer_signer;
  SigningIdentity provider_signer;
  TestCredentials consumer_server;
  TestCredentials provider_server;
  v1::GlobalConfiguration configuration;
};

// One federation, current for ever: for tests and benchmarks of the two sides.
class FixedConfiguration final : public ConfigurationSource {
 public:
  explicit FixedConfiguration(std::shared_ptr<const Federation> federation)
      : federation_(std::move(federation)) {}
  std::shared_ptr<const Federation> Current() const override { return federation_; }
  absl::Time last_refreshed() const override { return absl::Now(); }

 private:
  std::shared_ptr<const Federation> federation_;
};

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_TEST_FEDERATION_H_
