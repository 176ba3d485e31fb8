#include "audit/reference_tree.h"

#include "audit/merkle.h"

namespace renkei::audit {
namespace {

using Entries = std::vector<std::string>;

Entries Slice(const Entries& d, uint64_t from, uint64_t to) {
  return Entries(d.begin() + from, d.begin() + to);
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::string& b) {
  a.push_back(b);
  return a;
}

std::vector<std::string> SubProof(uint64_t m, const Entries& d, bool b) {
  uint64_t n = d.size();
  if (m == n) return b ? std::vector<std::string>{} : std::vector<std::string>{ReferenceRoot(d)};
  uint64_t k = SplitPoint(n);
  if (m <= k) return Concat(SubProof(m, Slice(d, 0, k), b), ReferenceRoot(Slice(d, k, n)));
  return Concat(SubProof(m - k, Slice(d, k, n), false), ReferenceRoot(Slice(d, 0, k)));
}

}  // namespace

std::string ReferenceRoot(const Entries& d) {
  if (d.empty()) return EmptyTreeRoot();
  if (d.size() == 1) return LeafHash(d[0]);
  uint64_t k = SplitPoint(d.size());
  return NodeHash(ReferenceRoot(Slice(d, 0, k)), ReferenceRoot(Slice(d, k, d.size())));
}

std::vector<std::string> ReferenceInclusionProof(const Entries& d, uint64_t m) {
  uint64_t n = d.size();
  if (n <= 1) return {};
  uint64_t k = SplitPoint(n);
  if (m < k) return Concat(ReferenceInclusionProof(Slice(d, 0, k), m), ReferenceRoot(Slice(d, k, n)));
  return Concat(ReferenceInclusionProof(Slice(d, k, n), m - k), ReferenceRoot(Slice(d, 0, k)));
}

std::vector<std::string> ReferenceConsistencyProof(const Entries& d, uint64_t m) {
  if (m == 0 || m == d.size()) return {};
  return SubProof(m, d, true);
}

}  // namespace renkei::audit
