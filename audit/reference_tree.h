// Brute-force RFC 6962 definitions (MTH, PATH, PROOF) straight from the RFC's recursive
// text, over all leaves in memory. Test-only: the reference the real log is checked against.
#ifndef RENKEI_AUDIT_REFERENCE_TREE_H_
#define RENKEI_AUDIT_REFERENCE_TREE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace renkei::audit {

std::string ReferenceRoot(const std::vector<std::string>& entries);
std::vector<std::string> ReferenceInclusionProof(const std::vector<std::string>& entries,
                                                 uint64_t index);
std::vector<std::string> ReferenceConsistencyProof(const std::vector<std::string>& entries,
                                                   uint64_t size1);

}  // namespace renkei::audit

#endif  // RENKEI_AUDIT_REFERENCE_TREE_H_
