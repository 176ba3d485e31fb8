#include "common/signed_configuration.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/renkeictl/pki.h"

namespace renkei {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1795000000);

class SignedConfigurationTest : public ::testing::Test {
 protected:
  SignedConfigurationTest() : key_(PrivateKey::GenerateP256()), certificate_(Issue(key_)) {
    configuration_.set_instance("JP");
    configuration_.set_version(7);
    configuration_.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(kNow + absl::Minutes(10)));
    configuration_.add_members()->set_id("JP/GOV/MHLW");
  }
  static Certificate Issue(const PrivateKey& key) {
    CertificateRequest request;
    request.kind = CertificateKind::kSigning;
    request.common_name = "Renkei broker configuration signing";
    return *IssueCertificate(request, key, nullptr, key);
  }
  absl::StatusOr<v1::GlobalConfiguration> Verify(const v1::SignedGlobalConfiguration& signed_doc,
                                                 absl::Time now = kNow) {
    return VerifyConfiguration(signed_doc, certificate_, "JP", now);
  }

  PrivateKey key_;
  Certificate certificate_;
  v1::GlobalConfiguration configuration_;
};

TEST_F(SignedConfigurationTest, SignedDocumentVerifies) {
  auto signed_doc = SignConfiguration(configuration_, key_);
  ASSERT_TRUE(signed_doc.ok());
  auto verified = Verify(*signed_doc);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->version(), 7);
  EXPECT_EQ(verified->members(0).id(), "JP/GOV/MHLW");
}

TEST_F(SignedConfigurationTest, TamperedDocumentIsRejected) {
  auto signed_doc = SignConfiguration(configuration_, key_);
  v1::GlobalConfiguration altered = configuration_;
  altered.add_members()->set_id("JP/GOV/EVIL");
  signed_doc->set_configuration(altered.SerializeAsString());
  EXPECT_EQ(Verify(*signed_doc).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(SignedConfigurationTest, WrongKeyIsRejected) {
  auto signed_doc = SignConfiguration(configuration_, PrivateKey::GenerateP256());
  auto verified = Verify(*signed_doc);
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(verified.status().message()), HasSubstr("anchor's certificate"));
}

TEST_F(SignedConfigurationTest, WrongAlgorithmOrInstanceIsRejected) {
  auto signed_doc = SignConfiguration(configuration_, key_);
  signed_doc->set_algorithm(v1::SIGNATURE_ALGORITHM_UNSPECIFIED);
  EXPECT_EQ(Verify(*signed_doc).status().code(), absl::StatusCode::kUnauthenticated);
  configuration_.set_instance("EE");
  signed_doc = SignConfiguration(configuration_, key_);
  EXPECT_EQ(Verify(*signed_doc).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SignedConfigurationTest, ExpiredDocumentIsRejectedUnlessReadAsCache) {
  auto signed_doc = SignConfiguration(configuration_, key_);
  auto verified = Verify(*signed_doc, kNow + absl::Minutes(11));
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(verified.status().message()), HasSubstr("expired"));
  EXPECT_TRUE(Verify(*signed_doc, absl::InfinitePast()).ok());
}

TEST_F(SignedConfigurationTest, OlderVersionNeverSupersedes) {
  v1::GlobalConfiguration held = configuration_;
  v1::GlobalConfiguration older = configuration_;
  older.set_version(6);
  older.mutable_expires_at()->set_seconds(held.expires_at().seconds() + 3600);
  EXPECT_EQ(CheckSupersedes(older, held).code(), absl::StatusCode::kFailedPrecondition);

  v1::GlobalConfiguration newer = configuration_;
  newer.set_version(8);
  EXPECT_TRUE(CheckSupersedes(newer, held).ok());

  v1::GlobalConfiguration renewed = configuration_;
  renewed.mutable_expires_at()->set_seconds(held.expires_at().seconds() + 60);
  EXPECT_TRUE(CheckSupersedes(renewed, held).ok());
  EXPECT_EQ(CheckSupersedes(held, held).code(), absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace renkei
