#include "common/certificates.h"

#include "gtest/gtest.h"
#include "tools/renkeictl/pki.h"

namespace renkei {
namespace {

struct Issued {
  Certificate certificate;
  PrivateKey key;
};

Issued MakeCa(const std::string& name) {
  PrivateKey key = PrivateKey::GenerateP256();
  CertificateRequest request;
  request.kind = CertificateKind::kCertificateAuthority;
  request.common_name = name;
  auto certificate = IssueCertificate(request, key, nullptr, key);
  EXPECT_TRUE(certificate.ok()) << certificate.status();
  return {*certificate, key};
}

Issued IssueSigning(const Issued& ca, int not_before_days = 0, int days = 365) {
  PrivateKey key = PrivateKey::GenerateP256();
  CertificateRequest request;
  request.kind = CertificateKind::kSigning;
  request.common_name = "JP/GOV/MHLW";
  request.not_before_days = not_before_days;
  request.validity_days = days;
  auto certificate = IssueCertificate(request, key, &ca.certificate, ca.key);
  EXPECT_TRUE(certificate.ok()) << certificate.status();
  return {*certificate, key};
}

TEST(Certificates, SignatureVerifiesOnlyForTheSignedBytesAndKey) {
  Issued ca = MakeCa("CA");
  Issued leaf = IssueSigning(ca);
  Issued other = IssueSigning(ca);
  auto signature = leaf.key.Sign("header bytes");
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(leaf.certificate.VerifySignature("header bytes", *signature));
  EXPECT_FALSE(leaf.certificate.VerifySignature("header bytez", *signature));
  EXPECT_FALSE(other.certificate.VerifySignature("header bytes", *signature));
  EXPECT_FALSE(leaf.certificate.VerifySignature("header bytes", "not a signature"));
  EXPECT_TRUE(leaf.certificate.HasP256Key());
}

TEST(Certificates, PemAndDerRoundTripKeepTheFingerprint) {
  Issued ca = MakeCa("CA");
  auto from_pem = Certificate::FromPem(ca.certificate.Pem());
  ASSERT_TRUE(from_pem.ok());
  auto from_der = Certificate::FromDer(ca.certificate.der());
  ASSERT_TRUE(from_der.ok());
  EXPECT_EQ(from_pem->fingerprint(), ca.certificate.fingerprint());
  EXPECT_EQ(from_der->fingerprint(), ca.certificate.fingerprint());
  EXPECT_EQ(ca.certificate.fingerprint().size(), 64u);
}

TEST(Certificates, FingerprintOfPemIsTheCertificatesFingerprint) {
  Issued ca = MakeCa("CA");
  Issued leaf = IssueSigning(ca);
  for (const Issued* issued : {&ca, &leaf}) {
    const std::string pem = issued->certificate.Pem();
    EXPECT_EQ(FingerprintOfPemCertificate(pem), issued->certificate.fingerprint());
    // Only the first block counts, as when parsing.
    EXPECT_EQ(FingerprintOfPemCertificate(pem + ca.certificate.Pem()),
              issued->certificate.fingerprint());
  }
  EXPECT_EQ(FingerprintOfPemCertificate(""), "");
  EXPECT_EQ(FingerprintOfPemCertificate("nonsense"), "");
  EXPECT_EQ(FingerprintOfPemCertificate(leaf.key.Pem()), "") << "a key is not a certificate";
  EXPECT_EQ(FingerprintOfPemCertificate("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
            "");
}

TEST(Certificates, RejectsGarbage) {
  EXPECT_FALSE(Certificate::FromPem("-----BEGIN CERTIFICATE-----\nAAAA\n").ok());
  EXPECT_FALSE(Certificate::FromDer("\x30\x03\x02\x01\x01").ok());
  EXPECT_FALSE(PrivateKey::FromPem("nonsense").ok());
  EXPECT_EQ(Certificate::FromPemFile("/nonexistent/cert.pem").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(Certificates, KeyPemRoundTrips) {
  PrivateKey key = PrivateKey::GenerateP256();
  auto reloaded = PrivateKey::FromPem(key.Pem());
  ASSERT_TRUE(reloaded.ok());
  Issued ca = MakeCa("CA");
  CertificateRequest request;
  request.common_name = "x";
  auto certificate = IssueCertificate(request, key, &ca.certificate, ca.key);
  ASSERT_TRUE(certificate.ok());
  auto signature = reloaded->Sign("data");
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(certificate->VerifySignature("data", *signature));
}

TEST(PublicKey, VerifiesDerAndRawSignatures) {
  PrivateKey key = PrivateKey::GenerateP256();
  auto public_key = PublicKey::FromPem(key.PublicKeyPem());
  ASSERT_TRUE(public_key.ok()) << public_key.status();
  std::string der = *key.Sign("challenge");
  std::string raw = EcdsaDerToRaw(der);
  ASSERT_EQ(raw.size(), 64u);
  EXPECT_EQ(EcdsaRawToDer(raw), der);
  EXPECT_TRUE(public_key->VerifySignature("challenge", der));
  EXPECT_TRUE(public_key->VerifySignature("challenge", raw));
  EXPECT_FALSE(public_key->VerifySignature("challengf", raw));
  EXPECT_FALSE(PublicKey::FromPem("garbage").ok());
}

TEST(TrustStore, AcceptsIssuedAndRejectsForeignOrExpired) {
  Issued ca = MakeCa("Federation CA");
  Issued foreign_ca = MakeCa("Other CA");
  auto trust = TrustStore::FromPems({ca.certificate.Pem()});
  ASSERT_TRUE(trust.ok());
  EXPECT_TRUE(trust->Verify(IssueSigning(ca).certificate).ok());

  absl::Status foreign = trust->Verify(IssueSigning(foreign_ca).certificate);
  EXPECT_EQ(foreign.code(), absl::StatusCode::kUnauthenticated);

  absl::Status expired = trust->Verify(IssueSigning(ca, -10, 5).certificate);
  EXPECT_EQ(expired.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(expired.message()).find("expired"), std::string::npos) << expired;
}

// Issue 10: a verified chain's verdict is reused while the time stays inside its window.
TEST(TrustStore, WindowIsWhereTheWholeChainIsValid) {
  const absl::Time issued = absl::Now();
  Issued ca = MakeCa("Federation CA");        // from a minute ago, for 365 days
  Issued leaf = IssueSigning(ca, -10, 20);   // from 10 days ago to 10 days ahead
  auto trust = TrustStore::FromPems({ca.certificate.Pem()});
  ASSERT_TRUE(trust.ok());
  auto window = trust->VerifyWithWindow(leaf.certificate);
  ASSERT_TRUE(window.ok()) << window.status();
  // The CA's start and the leaf's end.
  EXPECT_LE(absl::AbsDuration(window->not_before - (issued - absl::Minutes(1))), absl::Seconds(5));
  EXPECT_LE(absl::AbsDuration(window->not_after - (issued + absl::Hours(24 * 10))),
            absl::Seconds(5));
  EXPECT_TRUE(window->Contains(absl::InfiniteFuture()));  // now
  EXPECT_FALSE(window->Contains(issued + absl::Hours(24 * 11)));
  EXPECT_FALSE(window->Contains(issued - absl::Hours(24)));
  // The window never claims more than OpenSSL grants, to the second.
  EXPECT_TRUE(trust->Verify(leaf.certificate, window->not_before).ok());
  EXPECT_FALSE(trust->Verify(leaf.certificate, window->not_before - absl::Seconds(1)).ok());
  EXPECT_TRUE(trust->Verify(leaf.certificate, window->not_after - absl::Seconds(1)).ok());
  EXPECT_FALSE(trust->Verify(leaf.certificate, window->not_after).ok());
  EXPECT_FALSE(ValidityWindow().Contains(issued));

  auto foreign = trust->VerifyWithWindow(IssueSigning(MakeCa("Other CA")).certificate);
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(TrustStore, NeedsAtLeastOneValidCa) {
  EXPECT_FALSE(TrustStore::FromPems({}).ok());
  EXPECT_FALSE(TrustStore::FromPems({"not pem"}).ok());
}

}  // namespace
}  // namespace renkei
