// The example configurations in deploy/examples/ use only fields that exist: they parse.
#include "common/text_proto.h"
#include "gtest/gtest.h"
#include "renkei/v1/config.pb.h"
#include "tests/process.h"

namespace renkei {
namespace {

TEST(Examples, SecurityServerConfigurationParses) {
  v1::SecurityServerConfig config;
  absl::Status status =
      LoadTextProtoFile(testing::Runfile("deploy/examples/security-server.textproto"), &config);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(config.server_id(), "JP/MUNI/131016/ss1");
  EXPECT_FALSE(config.local().plaintext_loopback_only());
}

TEST(Examples, BrokerConfigurationParses) {
  v1::BrokerConfig config;
  absl::Status status = LoadTextProtoFile(testing::Runfile("deploy/examples/broker.textproto"), &config);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(config.instance(), "JP");
  // Production: TLS everywhere, no development plaintext.
  EXPECT_FALSE(config.tls_certificate_file().empty());
  EXPECT_FALSE(config.plaintext_loopback_only());
  EXPECT_FALSE(config.portal_plaintext_loopback_only());
}

}  // namespace
}  // namespace renkei
