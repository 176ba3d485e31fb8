// Strict parsing and formatting of federation identifiers (DESIGN.md "Identifiers").
//
//   member:          INSTANCE/CLASS/CODE              JP/MUNI/131016
//   subsystem:       member/SUBSYSTEM                 JP/MUNI/131016/resident-registry
//   security server: member/SERVER                    JP/MUNI/131016/ss1
//
// Each part is 1..64 characters of [A-Za-z0-9._-]. Anything else is INVALID_ARGUMENT
// naming the offending part; nothing is trimmed, lower-cased or otherwise guessed.
// All functions are thread-safe (pure).
#ifndef RENKEI_COMMON_IDENTIFIERS_H_
#define RENKEI_COMMON_IDENTIFIERS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "renkei/v1/identifiers.pb.h"

namespace renkei {

absl::StatusOr<v1::MemberId> ParseMemberId(absl::string_view text);
absl::StatusOr<v1::SubsystemId> ParseSubsystemId(absl::string_view text);
absl::StatusOr<v1::SecurityServerId> ParseSecurityServerId(absl::string_view text);

std::string ToString(const v1::MemberId& id);
std::string ToString(const v1::SubsystemId& id);
std::string ToString(const v1::SecurityServerId& id);

// The DNS name a security server's authentication certificate carries and that peers
// check at the TLS handshake: JP/MUNI/131016/ss1 → ss1.131016.muni.jp.renkei.internal
// ('_' becomes '-': DNS allows neither '_' nor upper case).
//
// Not injective, for exactly three reasons: case is folded, '_' and '-' are one, and a '.'
// inside a part is read as a label boundary (JP/d/b.c/a and JP/d/c/a.b both give
// a.b.c.d.jp.renkei.internal). Apart from these the parts are joined in a fixed order under
// a fixed suffix, so ids that differ otherwise give different names. Federation::Create
// refuses a configuration in which two security servers share a name, so within one
// federation the name identifies one server. The name is not checked to be a valid DNS
// name (a 64-character part exceeds DNS's 63-octet label limit; a part starting or ending
// in '.' gives an empty label): such a server only fails its own handshakes.
std::string SecurityServerTlsName(const v1::SecurityServerId& id);

bool operator==(const v1::MemberId& a, const v1::MemberId& b);
bool operator==(const v1::SubsystemId& a, const v1::SubsystemId& b);
inline bool operator!=(const v1::MemberId& a, const v1::MemberId& b) { return !(a == b); }

}  // namespace renkei

#endif  // RENKEI_COMMON_IDENTIFIERS_H_
