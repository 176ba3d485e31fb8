#include "common/pseudonym.h"

#include "common/digest.h"
#include "gtest/gtest.h"

namespace renkei {
namespace {

TEST(Pseudonym, IsHmacSha256OfTheIdWithThePepper) {
  auto a = Pseudonymizer::FromHex(std::string(64, '0'));
  auto b = Pseudonymizer::FromHex(std::string(63, '0') + "1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->Pseudonym("131016-0001").size(), 32u);
  EXPECT_EQ(a->Pseudonym("131016-0001"), a->Pseudonym("131016-0001"));
  EXPECT_NE(a->Pseudonym("131016-0001"), a->Pseudonym("131016-0002"));
  EXPECT_NE(a->Pseudonym("131016-0001"), b->Pseudonym("131016-0001"));
  // HMAC-SHA256(key = 32 zero bytes, "abc"), computed independently with
  // `printf abc | openssl dgst -sha256 -mac HMAC -macopt hexkey:00…00`.
  EXPECT_EQ(ToHex(a->Pseudonym("abc")),
            "fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351");
}

TEST(Pseudonym, RejectsMalformedPepper) {
  EXPECT_FALSE(Pseudonymizer::FromHex("abcd").ok());
  EXPECT_FALSE(Pseudonymizer::FromHex(std::string(64, 'g')).ok());
  EXPECT_FALSE(Pseudonymizer::FromFile("/nonexistent").ok());
}

}  // namespace
}  // namespace renkei
