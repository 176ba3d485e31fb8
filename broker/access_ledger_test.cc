#include "broker/access_ledger.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "audit/merkle.h"
#include "audit/tree_head.h"
#include "gtest/gtest.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

const std::string kAlice(32, 'a');
const std::string kBob(32, 'b');

v1::AccessRecord Record(const std::string& id, const std::string& subject, int64_t seconds,
                        const std::string& client = "JP/GOV/MHLW/child-allowance") {
  v1::AccessRecord record;
  record.set_message_id(id);
  record.mutable_time()->set_seconds(seconds);
  record.set_client(client);
  record.set_service("JP/MUNI/131016/resident-registry");
  record.set_method("/renkei.municipal.v1.ResidentRegistry/GetResident");
  record.add_subject_pseudonyms(subject);
  return record;
}

class AccessLedgerTest : public ::testing::Test {
 protected:
  AccessLedgerTest()
      : signer_(pki_.IssueSigning("JP/BROKER/ledger", pki_.ca)),
        clock_(absl::FromUnixSeconds(1795000000)) {
    std::string directory = absl::StrCat(getenv("TEST_TMPDIR"), "/",
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    rocksdb::DestroyDB(directory, rocksdb::Options());
    ledger_ = *AccessLedger::Open(directory, signer_.key, absl::Seconds(1), clock_);
  }

  TestFederation pki_;
  TestCredentials signer_;
  FakeClock clock_;
  std::unique_ptr<AccessLedger> ledger_;
};

TEST_F(AccessLedgerTest, AppendIsIdempotentByMessageId) {
  ASSERT_TRUE(ledger_->Append({Record("m1", kAlice, 10), Record("m2", kAlice, 11)}).ok());
  auto again = ledger_->Append({Record("m2", kAlice, 11), Record("m3", kBob, 12), Record("m3", kBob, 12)});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 3u);  // every id acknowledged
  EXPECT_EQ(ledger_->size(), 3u);  // m2 and the second m3 not added again
  EXPECT_EQ(ledger_->Append({v1::AccessRecord()}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AccessLedgerTest, ListsOnlyTheSubjectsRecordsNewestFirstWithVerifyingProofs) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(ledger_->Append({Record(absl::StrCat("a", i), kAlice, 100 + i),
                                 Record(absl::StrCat("b", i), kBob, 100 + i)}).ok());
  }
  RecordQuery query;
  query.subject_pseudonym = kAlice;
  auto page = ledger_->List(query);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->records_size(), 5);
  EXPECT_EQ(page->records(0).record().message_id(), "a4");
  EXPECT_EQ(page->records(4).record().message_id(), "a0");
  const v1::SignedTreeHead& head = page->tree_head();
  EXPECT_EQ(head.tree_size(), 10u);
  EXPECT_TRUE(audit::VerifyTreeHead(head, signer_.certificate).ok());
  for (const v1::ProvenRecord& proven : page->records()) {
    EXPECT_EQ(proven.record().subject_pseudonyms(0), kAlice);
    std::vector<std::string> proof(proven.inclusion_proof().begin(), proven.inclusion_proof().end());
    EXPECT_TRUE(audit::VerifyInclusion(audit::LeafHash(proven.entry()), proven.leaf_index(),
                                       head.tree_size(), proof, head.root_hash())
                    .ok());
  }
  query.subject_pseudonym = std::string(32, 'z');
  EXPECT_EQ(ledger_->List(query)->records_size(), 0);
}

TEST_F(AccessLedgerTest, PaginatesAndFilters) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(ledger_->Append({Record(absl::StrCat("a", i), kAlice, 100 + i,
                                        i % 2 ? "JP/GOV/MOJ/family-register"
                                              : "JP/GOV/MHLW/child-allowance")}).ok());
  }
  RecordQuery query;
  query.subject_pseudonym = kAlice;
  query.page_size = 3;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 5; ++pages) {
    auto page = ledger_->List(query);
    ASSERT_TRUE(page.ok());
    for (const auto& proven : page->records()) seen.push_back(proven.record().message_id());
    if (page->next_page_token().empty()) break;
    query.page_token = page->next_page_token();
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a6", "a5", "a4", "a3", "a2", "a1", "a0"}));

  RecordQuery mhlw;
  mhlw.subject_pseudonym = kAlice;
  mhlw.client_member = "JP/GOV/MHLW";
  mhlw.from = absl::FromUnixSeconds(102);
  mhlw.to = absl::FromUnixSeconds(105);
  auto page = ledger_->List(mhlw);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records_size(), 2);
  EXPECT_EQ(page->records(0).record().message_id(), "a4");
  EXPECT_EQ(page->records(1).record().message_id(), "a2");
}

TEST_F(AccessLedgerTest, NewRecordsWaitForTheNextTreeHeadAndHeadsAreConsistent) {
  ASSERT_TRUE(ledger_->Append({Record("a0", kAlice, 100)}).ok());
  auto first = ledger_->CurrentTreeHead();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(ledger_->Append({Record("a1", kAlice, 101), Record("b1", kBob, 101)}).ok());
  RecordQuery query;
  query.subject_pseudonym = kAlice;
  auto page = ledger_->List(query);
  EXPECT_EQ(page->records_size(), 1);
  EXPECT_EQ(page->pending(), 1);
  clock_.Advance(absl::Seconds(1));
  page = ledger_->List(query);
  EXPECT_EQ(page->records_size(), 2);
  const v1::SignedTreeHead& second = page->tree_head();
  auto proof = ledger_->ConsistencyProof(first->tree_size(), second.tree_size());
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(audit::VerifyConsistency(first->tree_size(), second.tree_size(), first->root_hash(),
                                       second.root_hash(), *proof)
                  .ok());
}

TEST_F(AccessLedgerTest, EnrolmentStoresTheResidentsKey) {
  PrivateKey key = PrivateKey::GenerateP256();
  EXPECT_EQ(ledger_->EnrolledKey(kAlice).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(ledger_->Enroll(kAlice, *PublicKey::FromPem(key.PublicKeyPem())).ok());
  auto enrolled = ledger_->EnrolledKey(kAlice);
  ASSERT_TRUE(enrolled.ok());
  EXPECT_TRUE(enrolled->VerifySignature("x", *key.Sign("x")));
}

}  // namespace
}  // namespace renkei
