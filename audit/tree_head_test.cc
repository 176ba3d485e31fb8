#include "audit/tree_head.h"

#include "gtest/gtest.h"
#include "security_server/test_federation.h"

namespace renkei::audit {
namespace {

TEST(TreeHead, SignedHeadVerifiesAndAnyChangeBreaksIt) {
  TestFederation pki;
  TestCredentials signer = pki.IssueSigning("JP/BROKER/ledger", pki.ca);
  std::string root(32, '\x5a');
  auto head = SignTreeHead(42, 1795000000123, root, signer.key);
  ASSERT_TRUE(head.ok());
  EXPECT_TRUE(VerifyTreeHead(*head, signer.certificate).ok());

  v1::SignedTreeHead bigger = *head;
  bigger.set_tree_size(43);
  EXPECT_EQ(VerifyTreeHead(bigger, signer.certificate).code(), absl::StatusCode::kUnauthenticated);
  v1::SignedTreeHead later = *head;
  later.set_timestamp_ms(head->timestamp_ms() + 1);
  EXPECT_FALSE(VerifyTreeHead(later, signer.certificate).ok());
  v1::SignedTreeHead other_root = *head;
  other_root.mutable_root_hash()->back() ^= 1;
  EXPECT_FALSE(VerifyTreeHead(other_root, signer.certificate).ok());
  TestCredentials stranger = pki.IssueSigning("JP/BROKER/ledger", pki.ca);
  EXPECT_FALSE(VerifyTreeHead(*head, stranger.certificate).ok());
}

TEST(TreeHead, SigningInputHasAFixedLayout) {
  std::string input = TreeHeadSigningInput(1, 2, std::string(32, '\x01'));
  EXPECT_EQ(input.size(), 20u + 8u + 8u + 32u);
  EXPECT_EQ(input.substr(0, 20), std::string("renkei/v1 tree-head\0", 20));
  EXPECT_EQ(input.substr(20, 8), std::string("\0\0\0\0\0\0\0\1", 8));
  EXPECT_EQ(input.substr(28, 8), std::string("\0\0\0\0\0\0\0\2", 8));
}

}  // namespace
}  // namespace renkei::audit
