#include "common/envelope.h"

#include "gtest/gtest.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

class EnvelopeTest : public ::testing::Test {
 protected:
  v1::SignedHeader Signed(const std::string& bytes = "header bytes") {
    auto signed_header = SignHeader(SignedType::kRequestHeader, bytes, test_.consumer_signer);
    EXPECT_TRUE(signed_header.ok());
    return *signed_header;
  }
  absl::Status Verify(const v1::SignedHeader& header,
                      SignedType type = SignedType::kRequestHeader) {
    return VerifySignedHeader(type, header, *test_.Build());
  }
  TestFederation test_;
};

TEST_F(EnvelopeTest, SignedHeaderVerifies) {
  v1::SignedHeader header = Signed();
  EXPECT_EQ(header.algorithm(), v1::ECDSA_P256_SHA256);
  EXPECT_TRUE(Verify(header).ok()) << Verify(header);
}

// A response header whose message id the consumer chose to be a serialized AccessRecord
// parses as a RecordBatch (both field 1, length-delimited): signed as a response header,
// it must never verify as a record batch (issue 8, item 1).
TEST_F(EnvelopeTest, AHeaderSignedAsOneTypeIsRefusedAsAnother) {
  v1::SignedHeader header = Signed();
  for (SignedType other : {SignedType::kResponseHeader, SignedType::kRecordBatch,
                           SignedType::kLedgerReceipt, SignedType::kConfiguration}) {
    absl::Status status = Verify(header, other);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_NE(std::string(status.message()).find(std::string(SignedTypeName(other))),
              std::string::npos)
        << status;
  }
}

TEST_F(EnvelopeTest, TamperedHeaderIsRejected) {
  v1::SignedHeader header = Signed();
  header.mutable_header()->back() ^= 1;
  absl::Status status = Verify(header);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(status.message()).find("does not verify"), std::string::npos) << status;
}

TEST_F(EnvelopeTest, TamperedSignatureIsRejected) {
  v1::SignedHeader header = Signed();
  header.mutable_signature()->back() ^= 1;
  EXPECT_EQ(Verify(header).code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(EnvelopeTest, WrongKeyIsRejected) {
  // The registered certificate, but a signature by another key.
  SigningIdentity impostor = test_.consumer_signer;
  impostor.key = PrivateKey::GenerateP256();
  auto header = SignHeader(SignedType::kRequestHeader, "header bytes", impostor);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(Verify(*header).code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(EnvelopeTest, CertificateOfAnotherMemberIsRejected) {
  // Signed correctly by the provider's key, but claiming to be the consumer member.
  SigningIdentity claimed = test_.provider_signer;
  claimed.member = test_.consumer_signer.member;
  auto header = SignHeader(SignedType::kRequestHeader, "header bytes", claimed);
  ASSERT_TRUE(header.ok());
  absl::Status status = Verify(*header);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(status.message()).find("not a registered signing certificate"),
            std::string::npos)
      << status;
}

TEST_F(EnvelopeTest, CertificateFromAnotherCaIsRejectedEvenIfRegistered) {
  TestCredentials rogue_ca = test_.MakeCa("Rogue CA");
  TestCredentials rogue = test_.IssueSigning(TestFederation::kConsumerMember, rogue_ca);
  test_.configuration.mutable_members(0)->add_signing_certificate_sha256(
      rogue.certificate.fingerprint());
  SigningIdentity identity{test_.consumer_signer.member, rogue.certificate, rogue.key};
  auto header = SignHeader(SignedType::kRequestHeader, "header bytes", identity);
  ASSERT_TRUE(header.ok());
  absl::Status status = Verify(*header);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(status.message()).find("trusted CA"), std::string::npos) << status;
}

TEST_F(EnvelopeTest, WrongAlgorithmIsRejected) {
  v1::SignedHeader header = Signed();
  header.set_algorithm(v1::SIGNATURE_ALGORITHM_UNSPECIFIED);
  absl::Status status = Verify(header);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(status.message()).find("unsupported signature algorithm"),
            std::string::npos);
  header.set_algorithm(static_cast<v1::SignatureAlgorithm>(7));
  EXPECT_EQ(Verify(header).code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(EnvelopeTest, RevokedSigningCertificateIsRejected) {
  test_.configuration.add_revoked_certificate_sha256(
      test_.consumer_signer.certificate.fingerprint());
  absl::Status status = Verify(Signed());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(status.message()).find("revoked"), std::string::npos);
}

TEST_F(EnvelopeTest, UnknownSignerAndMalformedCertificateAreRejected) {
  v1::SignedHeader header = Signed();
  header.mutable_signer()->set_member_code("999999");
  EXPECT_EQ(Verify(header).code(), absl::StatusCode::kUnauthenticated);
  header = Signed();
  header.set_signer_certificate("garbage");
  EXPECT_EQ(Verify(header).code(), absl::StatusCode::kUnauthenticated);
}

TEST(Freshness, AcceptsWithinSkewAndRejectsOutside) {
  absl::Time now = absl::FromUnixSeconds(1795000000);
  absl::Duration skew = absl::Seconds(60);
  EXPECT_TRUE(CheckFreshness(ToTimestamp(now - absl::Seconds(59)), now, skew).ok());
  EXPECT_TRUE(CheckFreshness(ToTimestamp(now + absl::Seconds(59)), now, skew).ok());
  EXPECT_EQ(CheckFreshness(ToTimestamp(now - absl::Seconds(61)), now, skew).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CheckFreshness(ToTimestamp(now + absl::Hours(1)), now, skew).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(MessageIds, AreRandomHex) {
  std::string a = NewMessageId(), b = NewMessageId();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace renkei
