#include "common/typed_signature.h"

#include "gtest/gtest.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

TEST(TypedSignature, InputNamesTheTypeThenAZeroByteThenTheBytes) {
  EXPECT_EQ(SigningInput(SignedType::kRequestHeader, "abc"),
            std::string("renkei/v1 request-header\0abc", 28));
}

TEST(TypedSignature, EveryTypeHasItsOwnContext) {
  const SignedType all[] = {SignedType::kRequestHeader, SignedType::kResponseHeader,
                            SignedType::kRecordBatch,   SignedType::kTreeHead,
                            SignedType::kConfiguration, SignedType::kLedgerReceipt,
                            SignedType::kKeyCheck,      SignedType::kServiceSchema};
  for (SignedType a : all) {
    for (SignedType b : all) {
      if (a != b) EXPECT_NE(SignedTypeName(a), SignedTypeName(b));
    }
  }
}

TEST(TypedSignature, AValidSignatureOfOneTypeNeverVerifiesAsAnother) {
  TestFederation pki;
  const SigningIdentity& signer = pki.provider_signer;
  auto signature = SignTyped(signer.key, SignedType::kResponseHeader, "same bytes");
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(VerifyTyped(signer.certificate, SignedType::kResponseHeader, "same bytes", *signature));
  EXPECT_FALSE(VerifyTyped(signer.certificate, SignedType::kRecordBatch, "same bytes", *signature));
  EXPECT_FALSE(VerifyTyped(signer.certificate, SignedType::kRequestHeader, "same bytes", *signature));
  // Nor does a raw signature over the bytes alone.
  auto raw = signer.key.Sign("same bytes");
  ASSERT_TRUE(raw.ok());
  EXPECT_FALSE(VerifyTyped(signer.certificate, SignedType::kResponseHeader, "same bytes", *raw));
}

TEST(TypedSignature, KeyCheckFindsAKeyOfAnotherCertificate) {
  TestFederation pki;
  EXPECT_TRUE(CheckKeyMatchesCertificate(pki.provider_signer.key, pki.provider_signer.certificate).ok());
  EXPECT_FALSE(CheckKeyMatchesCertificate(pki.consumer_signer.key, pki.provider_signer.certificate).ok());
}

}  // namespace
}  // namespace renkei
