// Hashing and proofs against the published RFC 6962 / Certificate Transparency test vectors
// (the leaves and expected hashes of CT's reference merkle_tree_test), and against the
// brute-force reference for every tree size 1..N.
#include "audit/merkle.h"

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "audit/merkle_log.h"
#include "audit/reference_tree.h"
#include "common/digest.h"
#include "gtest/gtest.h"

namespace renkei::audit {
namespace {

std::string Hex(const std::string& bytes) { return ToHex(bytes); }
std::string Unhex(const std::string& hex) { return absl::HexStringToBytes(hex); }
std::vector<std::string> Unhex(const std::vector<std::string>& hexes) {
  std::vector<std::string> out;
  for (const auto& h : hexes) out.push_back(Unhex(h));
  return out;
}

const std::vector<std::string>& VectorLeaves() {
  static const auto* leaves = new std::vector<std::string>{
      "", std::string(1, '\0'), "\x10", "\x20\x21", "\x30\x31", "\x40\x41\x42\x43",
      "\x50\x51\x52\x53\x54\x55\x56\x57",
      "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  return *leaves;
}

const char* const kVectorRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct InclusionVector {
  uint64_t index, size;
  std::vector<std::string> path;
};

const std::vector<InclusionVector>& InclusionVectors() {
  static const auto* vectors = new std::vector<InclusionVector>{
      {0, 1, {}},
      {0, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5, 8, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1, 5, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  return *vectors;
}

struct ConsistencyVector {
  uint64_t size1, size2;
  std::vector<std::string> proof;
};

const std::vector<ConsistencyVector>& ConsistencyVectors() {
  static const auto* vectors = new std::vector<ConsistencyVector>{
      {1, 1, {}},
      {1, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6, 8, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 5, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  return *vectors;
}

std::unique_ptr<MerkleLog> FreshLog(const std::string& name) {
  std::string directory = absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
  rocksdb::DestroyDB(directory, rocksdb::Options());
  auto log = MerkleLog::Open(directory);
  EXPECT_TRUE(log.ok()) << log.status();
  return *std::move(log);
}

std::vector<std::string> Prefix(const std::vector<std::string>& all, uint64_t n) {
  return {all.begin(), all.begin() + n};
}

TEST(MerkleHashing, MatchesPublishedRootsForEverySize) {
  EXPECT_EQ(Hex(EmptyTreeRoot()), kVectorRoots[0]);
  for (uint64_t n = 1; n <= 8; ++n) {
    EXPECT_EQ(Hex(ReferenceRoot(Prefix(VectorLeaves(), n))), kVectorRoots[n]) << n;
  }
}

TEST(MerkleHashing, DomainSeparatesLeavesFromNodes) {
  // A node can never be passed off as a leaf of the same bytes.
  std::string a = LeafHash("a"), b = LeafHash("b");
  EXPECT_NE(NodeHash(a, b), LeafHash(a + b));
}

TEST(MerkleLog, ProducesPublishedRootsAndProofs) {
  auto log = FreshLog("vectors");
  ASSERT_TRUE(log->Append(VectorLeaves()).ok());
  for (uint64_t n = 0; n <= 8; ++n) EXPECT_EQ(Hex(*log->Root(n)), kVectorRoots[n]) << n;
  for (const InclusionVector& v : InclusionVectors()) {
    auto proof = log->InclusionProof(v.index, v.size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, Unhex(v.path)) << v.index << "/" << v.size;
    EXPECT_TRUE(VerifyInclusion(LeafHash(VectorLeaves()[v.index]), v.index, v.size, *proof,
                                Unhex(kVectorRoots[v.size]))
                    .ok());
  }
  for (const ConsistencyVector& v : ConsistencyVectors()) {
    auto proof = log->ConsistencyProof(v.size1, v.size2);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, Unhex(v.proof)) << v.size1 << "→" << v.size2;
    EXPECT_TRUE(VerifyConsistency(v.size1, v.size2, Unhex(kVectorRoots[v.size1]),
                                  Unhex(kVectorRoots[v.size2]), *proof)
                    .ok());
  }
}

TEST(MerkleLog, AgreesWithTheReferenceForEverySizeAndIndex) {
  constexpr uint64_t kMax = 70;
  std::vector<std::string> entries;
  for (uint64_t i = 0; i < kMax; ++i) entries.push_back(absl::StrCat("record-", i));
  auto log = FreshLog("reference");
  // Uneven batches, so nodes completed inside one batch and across batches are both covered.
  for (uint64_t i = 0; i < kMax;) {
    uint64_t n = std::min<uint64_t>(1 + i % 5, kMax - i);
    ASSERT_TRUE(log->Append(Prefix(std::vector<std::string>(entries.begin() + i, entries.end()), n)).ok());
    i += n;
  }
  for (uint64_t size = 1; size <= kMax; ++size) {
    std::vector<std::string> tree = Prefix(entries, size);
    std::string root = ReferenceRoot(tree);
    ASSERT_EQ(*log->Root(size), root) << size;
    for (uint64_t index = 0; index < size; ++index) {
      auto proof = log->InclusionProof(index, size);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, ReferenceInclusionProof(tree, index)) << index << "/" << size;
      ASSERT_TRUE(VerifyInclusion(LeafHash(entries[index]), index, size, *proof, root).ok());
    }
    for (uint64_t size1 = 0; size1 <= size; ++size1) {
      auto proof = log->ConsistencyProof(size1, size);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, ReferenceConsistencyProof(tree, size1)) << size1 << "→" << size;
      ASSERT_TRUE(
          VerifyConsistency(size1, size, ReferenceRoot(Prefix(entries, size1)), root, *proof).ok())
          << size1 << "→" << size;
    }
  }
}

TEST(MerkleProofs, TamperedProofsFail) {
  auto log = FreshLog("tamper");
  std::vector<std::string> entries;
  for (int i = 0; i < 13; ++i) entries.push_back(absl::StrCat("r", i));
  ASSERT_TRUE(log->Append(entries).ok());
  std::string root = *log->Root(13);
  auto proof = *log->InclusionProof(6, 13);
  for (size_t j = 0; j < proof.size(); ++j) {
    auto bad = proof;
    bad[j][0] ^= 1;
    EXPECT_FALSE(VerifyInclusion(LeafHash(entries[6]), 6, 13, bad, root).ok());
  }
  EXPECT_FALSE(VerifyInclusion(LeafHash(entries[6]), 7, 13, proof, root).ok());
  EXPECT_FALSE(VerifyInclusion(LeafHash(entries[6]), 6, 7, proof, root).ok());
  EXPECT_FALSE(VerifyInclusion(LeafHash("forged"), 6, 13, proof, root).ok());
  auto shorter = proof;
  shorter.pop_back();
  EXPECT_FALSE(VerifyInclusion(LeafHash(entries[6]), 6, 13, shorter, root).ok());
  EXPECT_EQ(VerifyInclusion(LeafHash(entries[6]), 13, 13, proof, root).code(),
            absl::StatusCode::kInvalidArgument);

  auto consistency = *log->ConsistencyProof(5, 13);
  std::string root5 = *log->Root(5);
  for (size_t j = 0; j < consistency.size(); ++j) {
    auto bad = consistency;
    bad[j][31] ^= 1;
    EXPECT_FALSE(VerifyConsistency(5, 13, root5, root, bad).ok());
  }
  EXPECT_FALSE(VerifyConsistency(5, 13, *log->Root(6), root, consistency).ok());
  EXPECT_FALSE(VerifyConsistency(5, 13, root5, *log->Root(12), consistency).ok());
  EXPECT_FALSE(VerifyConsistency(13, 5, root, root5, consistency).ok());
  EXPECT_FALSE(VerifyConsistency(5, 13, root5, root, {}).ok());
}

TEST(MerkleLog, SurvivesReopenAndReadsLogarithmically) {
  std::string directory = absl::StrCat(getenv("TEST_TMPDIR"), "/reopen");
  rocksdb::DestroyDB(directory, rocksdb::Options());
  std::vector<std::string> entries;
  for (int i = 0; i < 1000; ++i) entries.push_back(absl::StrCat("record-", i));
  {
    auto log = MerkleLog::Open(directory);
    ASSERT_TRUE((*log)->Append(entries).ok());
  }
  auto log = MerkleLog::Open(directory);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->size(), 1000u);
  EXPECT_EQ(*(*log)->Entry(999), "record-999");
  uint64_t before = (*log)->node_reads();
  auto proof = (*log)->InclusionProof(777, 1000);
  ASSERT_TRUE(proof.ok());
  // A proof in a tree of 1000 touches at most ~2·log2(1000) stored nodes, not 1000.
  EXPECT_LE((*log)->node_reads() - before, 2u * 10u);
  EXPECT_TRUE(VerifyInclusion(LeafHash(entries[777]), 777, 1000, *proof, *(*log)->Root(1000)).ok());
}

TEST(MerkleLog, AnnotationsAreWrittenAtomicallyWithTheEntries) {
  auto log = FreshLog("annotate");
  auto first = log->Append({"a", "b"}, [](uint64_t first_index, rocksdb::WriteBatch& batch) {
    batch.Put("Xindex", absl::StrCat(first_index));
  });
  ASSERT_TRUE(first.ok());
  std::string value;
  ASSERT_TRUE(log->db()->Get(rocksdb::ReadOptions(), "Xindex", &value).ok());
  EXPECT_EQ(value, "0");
  EXPECT_EQ(*log->Append({"c"}), 2u);
}

}  // namespace
}  // namespace renkei::audit
