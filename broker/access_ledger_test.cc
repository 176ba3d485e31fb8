#include "broker/access_ledger.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "audit/merkle.h"
#include "audit/tree_head.h"
#include "common/digest.h"
#include "gtest/gtest.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

const std::string kAlice(32, 'a');
const std::string kBob(32, 'b');

constexpr int64_t kEpoch = 1790000000;  // records are stamped in the ledger's lifetime

// A message id (32 lowercase hex) named by a short test name.
std::string Id(const std::string& name) { return ToHex(Sha256(name)).substr(0, 32); }

v1::AccessRecord Record(const std::string& name, const std::string& subject, int64_t seconds,
                        const std::string& client = "JP/GOV/MHLW/child-allowance") {
  v1::AccessRecord record;
  record.set_message_id(Id(name));
  record.mutable_time()->set_seconds(kEpoch + seconds);
  record.set_recorded_by("JP/MUNI/131016/ss1");
  record.set_client(client);
  record.set_service("JP/MUNI/131016/resident-registry");
  record.set_method("/renkei.municipal.v1.ResidentRegistry/GetResident");
  record.add_subject_pseudonyms(subject);
  return record;
}

std::vector<std::string> Entries(const std::vector<v1::AccessRecord>& records) {
  std::vector<std::string> entries;
  for (const v1::AccessRecord& record : records) entries.push_back(record.SerializeAsString());
  return entries;
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

  absl::StatusOr<std::vector<AccessLedger::Outcome>> Append(
      const std::vector<v1::AccessRecord>& records) {
    return ledger_->Append(Entries(records));
  }
};

TEST_F(AccessLedgerTest, TheSameBytesAgainAreTheRecordAlreadyThere) {
  auto first = Append({Record("m1", kAlice, 10), Record("m2", kAlice, 11)});
  ASSERT_TRUE(first.ok());
  auto again = Append({Record("m2", kAlice, 11), Record("m3", kBob, 12), Record("m3", kBob, 12)});
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 3u);
  for (const auto& outcome : *again) EXPECT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ((*again)[0].leaf_index, (*first)[1].leaf_index);  // m2 where it was
  EXPECT_EQ((*again)[1].leaf_index, 2u);
  EXPECT_EQ((*again)[2].leaf_index, 2u);  // the second m3 is the first
  EXPECT_EQ(ledger_->size(), 3u);
}

// Issue 8, item 2: the first writer of a message id must not win over another server's
// record, and a different record under an existing key is refused, never acknowledged.
TEST_F(AccessLedgerTest, RecordsAreKeyedByRecordingServerAndMessageId) {
  v1::AccessRecord at_replica_a = Record("shared", kAlice, 10);
  v1::AccessRecord at_replica_b = at_replica_a;
  at_replica_b.set_recorded_by("JP/MUNI/131016/ss2");
  auto both = Append({at_replica_a, at_replica_b});
  ASSERT_TRUE(both.ok());
  EXPECT_TRUE((*both)[0].status.ok());
  EXPECT_TRUE((*both)[1].status.ok());
  EXPECT_EQ(ledger_->size(), 2u);

  v1::AccessRecord rewritten = at_replica_a;
  rewritten.set_purpose("something else");
  for (const auto& batch : {std::vector<v1::AccessRecord>{rewritten},
                            std::vector<v1::AccessRecord>{Record("x", kBob, 1), Record("x", kAlice, 1)}}) {
    auto refused = Append(batch);
    ASSERT_TRUE(refused.ok());
    EXPECT_EQ(refused->back().status.code(), absl::StatusCode::kAlreadyExists);
  }
  EXPECT_EQ(ledger_->size(), 3u);  // only the first "x"
}

TEST_F(AccessLedgerTest, RefusesRecordsItCannotIndexAndKeepsTheOthers) {
  std::vector<v1::AccessRecord> bad(6, Record("ok", kAlice, 1));
  bad[0].set_message_id("not-hex");
  bad[1].clear_subject_pseudonyms();
  bad[2].set_subject_pseudonyms(0, std::string(33, 'a'));  // would decode a foreign index
  bad[3].set_subject_pseudonyms(0, std::string(23, 'a'));
  bad[4].mutable_time()->set_seconds(100);                 // 1970
  bad[5].clear_recorded_by();
  std::vector<std::string> entries = Entries(bad);
  entries.push_back("\xff\xff garbage");
  entries.push_back(Record("fine", kAlice, 2).SerializeAsString());
  auto outcomes = ledger_->Append(entries);
  ASSERT_TRUE(outcomes.ok());
  for (size_t i = 0; i + 1 < entries.size(); ++i) {
    EXPECT_EQ((*outcomes)[i].status.code(), absl::StatusCode::kInvalidArgument) << i;
  }
  EXPECT_TRUE(outcomes->back().status.ok());
  EXPECT_EQ(ledger_->size(), 1u);
}

TEST_F(AccessLedgerTest, MalformedPageTokensAreRefusedNotThrown) {
  ASSERT_TRUE(Append({Record("a", kAlice, 1)}).ok());
  RecordQuery query;
  query.subject_pseudonym = kAlice;
  for (const char* token : {"zz", "abc", "00", "0123456789abcdef0123456789abcdefff"}) {
    query.page_token = token;
    EXPECT_EQ(ledger_->List(query).status().code(), absl::StatusCode::kInvalidArgument) << token;
  }
}

TEST_F(AccessLedgerTest, ListsOnlyTheSubjectsRecordsNewestFirstWithVerifyingProofs) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Append({Record(absl::StrCat("a", i), kAlice, 100 + i),
                                 Record(absl::StrCat("b", i), kBob, 100 + i)}).ok());
  }
  RecordQuery query;
  query.subject_pseudonym = kAlice;
  auto page = ledger_->List(query);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->records_size(), 5);
  EXPECT_EQ(page->records(0).record().message_id(), Id("a4"));
  EXPECT_EQ(page->records(4).record().message_id(), Id("a0"));
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
    ASSERT_TRUE(Append({Record(absl::StrCat("a", i), kAlice, 100 + i,
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
  EXPECT_EQ(seen, (std::vector<std::string>{Id("a6"), Id("a5"), Id("a4"), Id("a3"), Id("a2"),
                                             Id("a1"), Id("a0")}));

  RecordQuery mhlw;
  mhlw.subject_pseudonym = kAlice;
  mhlw.client_member = "JP/GOV/MHLW";
  mhlw.from = absl::FromUnixSeconds(kEpoch + 102);
  mhlw.to = absl::FromUnixSeconds(kEpoch + 105);
  auto page = ledger_->List(mhlw);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records_size(), 2);
  EXPECT_EQ(page->records(0).record().message_id(), Id("a4"));
  EXPECT_EQ(page->records(1).record().message_id(), Id("a2"));
}

TEST_F(AccessLedgerTest, NewRecordsWaitForTheNextTreeHeadAndHeadsAreConsistent) {
  ASSERT_TRUE(Append({Record(Id("a0"), kAlice, 100)}).ok());
  auto first = ledger_->CurrentTreeHead();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(Append({Record("a1", kAlice, 101), Record("b1", kBob, 101)}).ok());
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
