#include "security_server/settings.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/renkeictl/pki.h"

namespace renkei {
namespace {

using ::testing::HasSubstr;

// Writes a valid configuration and its key files into the test's scratch folder.
class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(getenv("TEST_TMPDIR")) + "/";
    PrivateKey ca_key = PrivateKey::GenerateP256();
    CertificateRequest ca_request;
    ca_request.kind = CertificateKind::kCertificateAuthority;
    ca_request.common_name = "CA";
    Certificate ca = *IssueCertificate(ca_request, ca_key, nullptr, ca_key);
    for (const char* name : {"auth", "signing", "other"}) {
      PrivateKey key = PrivateKey::GenerateP256();
      CertificateRequest request;
      request.common_name = name;
      Certificate certificate = *IssueCertificate(request, key, &ca, ca_key);
      ASSERT_TRUE(WriteFileAtomically(dir_ + name + ".pem", certificate.Pem(), 0644).ok());
      ASSERT_TRUE(WriteFileAtomically(dir_ + name + ".key", key.Pem(), 0600).ok());
    }
    ASSERT_TRUE(WriteFileAtomically(dir_ + "pepper", std::string(64, 'a'), 0600).ok());
  }

  std::string Valid() const {
    return R"(
      server_id: "JP/MUNI/131016/ss1"
      global_configuration_file: "global.textproto"
      local { listen_address: "127.0.0.1:7110" plaintext_loopback_only: true }
      peer { listen_address: "127.0.0.1:7111"
             authentication_certificate_file: "auth.pem" authentication_key_file: "auth.key" }
      signing_keys { member: "JP/MUNI/131016" certificate_file: "signing.pem" key_file: "signing.key" }
      local_clients { subsystem: "JP/MUNI/131016/tax" }
      provided_services { subsystem: "JP/MUNI/131016/resident-registry" backend_address: "127.0.0.1:7101" }
      access_rights { client: "JP/GOV/MHLW/child-allowance" service: "JP/MUNI/131016/resident-registry"
                      method: "/renkei.municipal.v1.ResidentRegistry/GetResident" }
      message_log { directory: "log" }
      pseudonym_pepper_file: "pepper"
    )";
  }

  absl::StatusOr<std::unique_ptr<const Settings>> Load(const std::string& text) {
    std::string path = dir_ + "ss.textproto";
    EXPECT_TRUE(WriteFileAtomically(path, text, 0644).ok());
    return LoadSettings(path);
  }

  std::string ErrorOf(const std::string& text) {
    auto settings = Load(text);
    EXPECT_FALSE(settings.ok());
    return std::string(settings.status().message());
  }

  std::string dir_;
};

TEST_F(SettingsTest, LoadsAValidConfigurationAndResolvesPaths) {
  auto settings = Load(Valid());
  ASSERT_TRUE(settings.ok()) << settings.status();
  const Settings& s = **settings;
  EXPECT_EQ(s.server_id_text, "JP/MUNI/131016/ss1");
  EXPECT_TRUE(s.local_plaintext);
  EXPECT_EQ(s.config.global_configuration_file(), dir_ + "global.textproto");
  EXPECT_EQ(s.config.message_log().directory(), dir_ + "log");
  EXPECT_EQ(s.backends.at("JP/MUNI/131016/resident-registry"), "127.0.0.1:7101");
  EXPECT_EQ(s.signing_identities.count("JP/MUNI/131016"), 1u);
  EXPECT_EQ(s.local_clients.count("JP/MUNI/131016/tax"), 1u);
}

TEST_F(SettingsTest, SyntaxErrorNamesFileLineAndColumn) {
  std::string message = ErrorOf("server_id: \"JP/MUNI/131016/ss1\"\nbogus_field: 1\n");
  EXPECT_THAT(message, HasSubstr("ss.textproto:2:"));
  EXPECT_THAT(message, HasSubstr("bogus_field"));
}

TEST_F(SettingsTest, MalformedServerId) {
  std::string text = absl::StrReplaceAll(Valid(), {{"JP/MUNI/131016/ss1", "JP/MUNI/ss1"}});
  EXPECT_THAT(ErrorOf(text), HasSubstr("server_id: malformed security server identifier"));
}

TEST_F(SettingsTest, MissingKeyFileIsNamed) {
  std::string text = absl::StrReplaceAll(Valid(), {{"\"auth.key\"", "\"missing.key\""}});
  auto settings = Load(text);
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(settings.status().message()), HasSubstr("missing.key"));
}

TEST_F(SettingsTest, SigningKeyMustMatchItsCertificate) {
  std::string text = absl::StrReplaceAll(Valid(), {{"key_file: \"signing.key\"", "key_file: \"other.key\""}});
  EXPECT_THAT(ErrorOf(text), HasSubstr("does not match its certificate"));
}

TEST_F(SettingsTest, PlaintextOnlyOnLoopback) {
  std::string text = absl::StrReplaceAll(Valid(), {{"127.0.0.1:7110", "0.0.0.0:7110"}});
  EXPECT_THAT(ErrorOf(text), HasSubstr("needs a loopback listen_address"));
}

TEST_F(SettingsTest, PlaintextJsonEntryOnlyOnLoopback) {
  std::string text = absl::StrReplaceAll(
      Valid(), {{"listen_address: \"127.0.0.1:7110\"",
                 "listen_address: \"127.0.0.1:7110\" rest_listen_address: \"0.0.0.0:7111\""}});
  EXPECT_THAT(ErrorOf(text), HasSubstr("needs a loopback rest_listen_address, not 0.0.0.0:7111"));
  text = absl::StrReplaceAll(
      Valid(), {{"listen_address: \"127.0.0.1:7110\"",
                 "listen_address: \"127.0.0.1:7110\" rest_listen_address: \"127.0.0.1:7111\""}});
  EXPECT_TRUE(Load(text).ok());
}

TEST_F(SettingsTest, TlsLocalClientsNeedCertificateFingerprints) {
  std::string text = absl::StrReplaceAll(
      Valid(), {{"plaintext_loopback_only: true",
                 "tls_certificate_file: \"auth.pem\" tls_key_file: \"auth.key\" "
                 "client_ca_file: \"auth.pem\""}});
  EXPECT_THAT(ErrorOf(text), HasSubstr("certificate_sha256 is required with TLS"));
}

TEST_F(SettingsTest, ProvidedServiceNeedsASigningKeyOfItsMember) {
  std::string text = absl::StrReplaceAll(
      Valid(), {{"subsystem: \"JP/MUNI/131016/resident-registry\" backend_address",
                 "subsystem: \"JP/MUNI/131024/resident-registry\" backend_address"}});
  EXPECT_THAT(ErrorOf(text), HasSubstr("no signing key for member JP/MUNI/131024"));
}

TEST_F(SettingsTest, BadAccessRightIsNamed) {
  std::string text = absl::StrReplaceAll(
      Valid(), {{"method: \"/renkei.municipal.v1.ResidentRegistry/GetResident\"",
                 "method: \"GetResident\""}});
  EXPECT_THAT(ErrorOf(text), HasSubstr("full method name"));
}

TEST_F(SettingsTest, RequiredFieldsAreNamed) {
  EXPECT_THAT(ErrorOf(absl::StrReplaceAll(Valid(), {{"message_log { directory: \"log\" }", ""}})),
              HasSubstr("message_log.directory is required"));
  EXPECT_THAT(ErrorOf(absl::StrReplaceAll(
                  Valid(), {{"global_configuration_file: \"global.textproto\"", ""}})),
              HasSubstr("set exactly one of configuration_anchor_file"));
}

TEST_F(SettingsTest, ProvidersNeedThePseudonymPepper) {
  EXPECT_THAT(ErrorOf(absl::StrReplaceAll(Valid(), {{"pseudonym_pepper_file: \"pepper\"", ""}})),
              HasSubstr("pseudonym_pepper_file is required"));
}

TEST(LoopbackAddress, Recognised) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:1"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:1"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1:1"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:1"));
}

}  // namespace
}  // namespace renkei
