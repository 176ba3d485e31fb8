#include "common/envelope.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

// Issue 10: what depends only on the signer certificate's bytes is cached per
// configuration version; every other check still runs on every call.
TEST_F(EnvelopeTest, ASecondVerificationOfASignerUsesTheCacheAndAgrees) {
  auto federation = test_.Build();
  const SignerCertificateCache& cache = federation->signer_certificate_cache();
  v1::SignedHeader header = Signed();
  EXPECT_EQ(cache.size(), 0u);
  absl::Status first = VerifySignedHeader(SignedType::kRequestHeader, header, *federation);
  EXPECT_TRUE(first.ok()) << first;
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_NE(cache.Find(test_.consumer_signer.certificate.der()), nullptr);
  absl::Status second = VerifySignedHeader(SignedType::kRequestHeader, header, *federation);
  EXPECT_TRUE(second.ok()) << second;
  EXPECT_TRUE(
      VerifySignedHeader(SignedType::kRequestHeader, Signed("other bytes"), *federation).ok());
  EXPECT_EQ(cache.size(), 1u);

  // The signature and its type are checked on every call, cached signer or not.
  EXPECT_EQ(VerifySignedHeader(SignedType::kResponseHeader, header, *federation).code(),
            absl::StatusCode::kUnauthenticated);
  header.mutable_header()->back() ^= 1;
  for (int i = 0; i < 2; ++i) {
    absl::Status tampered = VerifySignedHeader(SignedType::kRequestHeader, header, *federation);
    EXPECT_EQ(tampered.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_NE(std::string(tampered.message()).find("does not verify"), std::string::npos)
        << tampered;
  }
}

// A Federation is immutable (its revoked and registered sets are built once in Create), so
// revocation arrives as a new configuration version with a cache of its own. Within one
// version a cache entry still never stands in for either check.
TEST_F(EnvelopeTest, RevocationAndRegistrationAreCheckedForACachedCertificate) {
  v1::SignedHeader header = Signed();
  auto before = test_.Build();
  ASSERT_TRUE(VerifySignedHeader(SignedType::kRequestHeader, header, *before).ok());

  test_.configuration.add_revoked_certificate_sha256(
      test_.consumer_signer.certificate.fingerprint());
  auto after = test_.Build();
  // Planted as if it had been cached: the revoked check must still refuse it.
  auto window = after->trust().VerifyWithWindow(test_.consumer_signer.certificate);
  ASSERT_TRUE(window.ok()) << window.status();
  after->signer_certificate_cache().Insert(
      {test_.consumer_signer.certificate, *window});
  for (int i = 0; i < 2; ++i) {
    absl::Status status = VerifySignedHeader(SignedType::kRequestHeader, header, *after);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_NE(std::string(status.message()).find("revoked"), std::string::npos) << status;
  }
  EXPECT_TRUE(VerifySignedHeader(SignedType::kRequestHeader, header, *before).ok());

  // The provider's certificate, cached by a genuine provider header, claimed by the consumer.
  auto provider_header =
      SignHeader(SignedType::kResponseHeader, "response bytes", test_.provider_signer);
  ASSERT_TRUE(provider_header.ok());
  ASSERT_TRUE(VerifySignedHeader(SignedType::kResponseHeader, *provider_header, *before).ok());
  ASSERT_NE(before->signer_certificate_cache().Find(test_.provider_signer.certificate.der()),
            nullptr);
  SigningIdentity claimed = test_.provider_signer;
  claimed.member = test_.consumer_signer.member;
  auto claimed_header = SignHeader(SignedType::kRequestHeader, "header bytes", claimed);
  ASSERT_TRUE(claimed_header.ok());
  absl::Status status = VerifySignedHeader(SignedType::kRequestHeader, *claimed_header, *before);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(status.message()).find("not a registered signing certificate"),
            std::string::npos)
      << status;
}

TEST_F(EnvelopeTest, ACachedChainIsReusedOnlyWithinItsValidityWindow) {
  auto federation = test_.Build();
  v1::SignedHeader header = Signed();
  const absl::Time now = absl::Now();
  ASSERT_TRUE(VerifySignedHeader(SignedType::kRequestHeader, header, *federation, now).ok());
  ASSERT_EQ(federation->signer_certificate_cache().size(), 1u);

  // TestFederation issues for 365 days from a minute ago.
  absl::Status late = VerifySignedHeader(SignedType::kRequestHeader, header, *federation,
                                         now + absl::Hours(24 * 400));
  EXPECT_EQ(late.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(late.message()).find("expired"), std::string::npos) << late;
  absl::Status early =
      VerifySignedHeader(SignedType::kRequestHeader, header, *federation, now - absl::Hours(48));
  EXPECT_EQ(early.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(early.message()).find("not yet valid"), std::string::npos) << early;

  EXPECT_TRUE(VerifySignedHeader(SignedType::kRequestHeader, header, *federation, now).ok());
  EXPECT_TRUE(VerifySignedHeader(SignedType::kRequestHeader, header, *federation).ok());
}

TEST_F(EnvelopeTest, MalformedCertificatesAreRefusedEveryTimeAndNeverCached) {
  auto federation = test_.Build();
  const SignerCertificateCache& cache = federation->signer_certificate_cache();
  ASSERT_TRUE(VerifySignedHeader(SignedType::kRequestHeader, Signed(), *federation).ok());
  ASSERT_EQ(cache.size(), 1u);
  v1::SignedHeader header = Signed();
  const std::string der = test_.consumer_signer.certificate.der();
  for (size_t i = 0; i < 2 * SignerCertificateCache::kMaxEntries; ++i) {
    header.set_signer_certificate(i % 2 == 0 ? absl::StrCat("garbage ", i)
                                             : der.substr(0, der.size() - 1 - i % 64));
    absl::Status status = VerifySignedHeader(SignedType::kRequestHeader, header, *federation);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_NE(std::string(status.message()).find("malformed"), std::string::npos) << status;
  }
  EXPECT_EQ(cache.size(), 1u);

  // A certificate that parses but does not chain is refused every time, and not cached.
  TestCredentials rogue = test_.IssueSigning(TestFederation::kConsumerMember,
                                             test_.MakeCa("Rogue CA"));
  test_.configuration.mutable_members(0)->add_signing_certificate_sha256(
      rogue.certificate.fingerprint());
  auto with_rogue = test_.Build();
  auto rogue_header = SignHeader(SignedType::kRequestHeader, "header bytes",
                                 {test_.consumer_signer.member, rogue.certificate, rogue.key});
  ASSERT_TRUE(rogue_header.ok());
  for (int i = 0; i < 2; ++i) {
    absl::Status status =
        VerifySignedHeader(SignedType::kRequestHeader, *rogue_header, *with_rogue);
    EXPECT_NE(std::string(status.message()).find("trusted CA"), std::string::npos) << status;
  }
  EXPECT_EQ(with_rogue->signer_certificate_cache().size(), 0u);
}

// When full the cache takes no more: what it holds stays, and the rest still verify.
TEST_F(EnvelopeTest, TheCacheIsBoundedAndKeepsWhatItHolds) {
  std::vector<SigningIdentity> signers;
  for (size_t i = 0; i < SignerCertificateCache::kMaxEntries + 10; ++i) {
    TestCredentials issued = test_.IssueSigning(TestFederation::kConsumerMember, test_.ca);
    test_.configuration.mutable_members(0)->add_signing_certificate_sha256(
        issued.certificate.fingerprint());
    signers.push_back({test_.consumer_signer.member, issued.certificate, issued.key});
  }
  auto federation = test_.Build();
  for (const SigningIdentity& signer : signers) {
    auto header = SignHeader(SignedType::kRequestHeader, "header bytes", signer);
    ASSERT_TRUE(header.ok());
    absl::Status status = VerifySignedHeader(SignedType::kRequestHeader, *header, *federation);
    ASSERT_TRUE(status.ok()) << status;
  }
  const SignerCertificateCache& cache = federation->signer_certificate_cache();
  EXPECT_EQ(cache.size(), SignerCertificateCache::kMaxEntries);
  EXPECT_NE(cache.Find(signers.front().certificate.der()), nullptr);
  EXPECT_EQ(cache.Find(signers.back().certificate.der()), nullptr);
  auto last = SignHeader(SignedType::kRequestHeader, "more bytes", signers.back());
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(VerifySignedHeader(SignedType::kRequestHeader, *last, *federation).ok());
  EXPECT_EQ(cache.size(), SignerCertificateCache::kMaxEntries);
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
