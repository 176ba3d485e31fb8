#include "broker/registry_store.h"

#include <cstdlib>

#include "broker/configuration_publisher.h"
#include "common/signed_configuration.h"
#include "gtest/gtest.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

std::string FreshDirectory(const std::string& name) {
  std::string directory = std::string(getenv("TEST_TMPDIR")) + "/" + name;
  rocksdb::DestroyDB(directory, rocksdb::Options());
  return directory;
}

v1::RegistryChange AddCa(const TestFederation& pki) {
  v1::RegistryChange change;
  change.mutable_add_trusted_ca()->set_certificate_pem(pki.ca.certificate.Pem());
  return change;
}

v1::RegistryChange AddMember(const std::string& id) {
  v1::RegistryChange change;
  change.mutable_add_member()->set_id(id);
  return change;
}

TEST(RegistryStore, ChangesAndAdminLogSurviveReopen) {
  TestFederation pki;
  std::string directory = FreshDirectory("store");
  const absl::Time now = absl::FromUnixSeconds(1795000000);
  const OperatorIdentity alice{"alice", std::string(64, 'a')};
  {
    auto store = RegistryStore::Open(directory, "JP", v1::Limits());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(*(*store)->Apply(AddCa(pki), alice, now), 1);
    EXPECT_EQ(*(*store)->Apply(AddMember("JP/GOV/MHLW"), alice, now), 2);
    // A refused change leaves no trace in the registry or the log.
    EXPECT_EQ((*store)->Apply(AddMember("JP/GOV/MHLW"), alice, now).status().code(),
              absl::StatusCode::kAlreadyExists);
  }
  auto store = RegistryStore::Open(directory, "JP", v1::Limits());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Current().version(), 2);
  EXPECT_EQ((*store)->Current().members(0).id(), "JP/GOV/MHLW");
  auto log = (*store)->ListAdminLog(10);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].change().add_member().id(), "JP/GOV/MHLW");  // newest first
  EXPECT_EQ((*log)[0].operator_name(), "alice");
  EXPECT_EQ((*log)[0].resulting_version(), 2);
  EXPECT_EQ((*log)[1].sequence(), 0u);
  EXPECT_EQ(*(*store)->Apply(AddMember("JP/GOV/MOJ"), alice, now), 3);
  EXPECT_EQ((*(*store)->ListAdminLog(1))[0].sequence(), 2u);
}

TEST(RegistryStore, RefusesAStoreOfAnotherInstance) {
  std::string directory = FreshDirectory("instance");
  TestFederation pki;
  {
    auto store = RegistryStore::Open(directory, "JP", v1::Limits());
    ASSERT_TRUE((*store)->Apply(AddCa(pki), {"a", ""}, absl::Now()).ok());
  }
  EXPECT_EQ(RegistryStore::Open(directory, "EE", v1::Limits()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ConfigurationPublisher, SignsTheCurrentVersionAndRenewsExpiry) {
  TestFederation pki;
  auto store = RegistryStore::Open(FreshDirectory("publisher"), "JP", v1::Limits());
  ASSERT_TRUE(store.ok());
  FakeClock clock(absl::FromUnixSeconds(1795000000));
  TestCredentials signer = pki.IssueSigning("JP/BROKER/config", pki.ca);
  const Certificate& certificate = signer.certificate;
  ConfigurationPublisher publisher(**store, signer.key, absl::Minutes(10), clock);

  EXPECT_EQ(publisher.Current().status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE((*store)->Apply(AddCa(pki), {"a", ""}, clock.Now()).ok());
  auto first = publisher.Current();
  ASSERT_TRUE(first.ok());
  auto verified = VerifyConfiguration(*first, certificate, "JP", clock.Now());
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->version(), 1);

  clock.Advance(absl::Minutes(6));  // past half the validity: re-signed with a later expiry
  auto renewed = VerifyConfiguration(*publisher.Current(), certificate, "JP", clock.Now());
  ASSERT_TRUE(renewed.ok());
  EXPECT_TRUE(CheckSupersedes(*renewed, *verified).ok());

  ASSERT_TRUE((*store)->Apply(AddMember("JP/GOV/MHLW"), {"a", ""}, clock.Now()).ok());
  auto next = VerifyConfiguration(*publisher.Current(), certificate, "JP", clock.Now());
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->version(), 2);
}

}  // namespace
}  // namespace renkei
