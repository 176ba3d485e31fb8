#include "audit/merkle.h"

#include "absl/strings/str_cat.h"
#include "common/digest.h"

namespace renkei::audit {
namespace {

bool Lsb(uint64_t x) { return (x & 1) != 0; }

absl::Status Mismatch(absl::string_view what) {
  return absl::DataLossError(absl::StrCat(what, " does not verify"));
}

}  // namespace

std::string LeafHash(absl::string_view entry) {
  std::string input(1, '\x00');
  input.append(entry.data(), entry.size());
  return Sha256(input);
}

std::string NodeHash(absl::string_view left, absl::string_view right) {
  std::string input(1, '\x01');
  input.append(left.data(), left.size());
  input.append(right.data(), right.size());
  return Sha256(input);
}

std::string EmptyTreeRoot() { return Sha256(""); }

uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

absl::Status VerifyInclusion(absl::string_view leaf_hash, uint64_t index, uint64_t tree_size,
                             const std::vector<std::string>& proof, absl::string_view root) {
  if (index >= tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", index, " is outside a tree of ", tree_size));
  }
  uint64_t fn = index;
  uint64_t sn = tree_size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0 || p.size() != kHashSize) return Mismatch("inclusion proof");
    if (Lsb(fn) || fn == sn) {
      r = NodeHash(p, r);
      if (!Lsb(fn)) {
        while (!Lsb(fn) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0 || !ConstantTimeEquals(r, root)) return Mismatch("inclusion proof");
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, absl::string_view root1,
                               absl::string_view root2, const std::vector<std::string>& proof) {
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree of ", size1, " cannot be a prefix of a tree of ", size2));
  }
  if (size1 == size2) {
    if (!proof.empty() || !ConstantTimeEquals(root1, root2)) return Mismatch("consistency proof");
    return absl::OkStatus();
  }
  if (size1 == 0) {
    // Every tree extends the empty one.
    if (!proof.empty()) return Mismatch("consistency proof");
    return absl::OkStatus();
  }
  if (proof.empty()) return Mismatch("consistency proof");
  for (const std::string& p : proof) {
    if (p.size() != kHashSize) return Mismatch("consistency proof");
  }
  std::vector<std::string> path;
  if ((size1 & (size1 - 1)) == 0) path.emplace_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while (Lsb(fn)) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0];
  std::string sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) return Mismatch("consistency proof");
    if (Lsb(fn) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if (!Lsb(fn)) {
        while (!Lsb(fn) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0 || !ConstantTimeEquals(fr, root1) || !ConstantTimeEquals(sr, root2)) {
    return Mismatch("consistency proof");
  }
  return absl::OkStatus();
}

}  // namespace renkei::audit
