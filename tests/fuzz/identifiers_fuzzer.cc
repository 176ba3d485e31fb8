// Identifier parsing (common/identifiers.h) on arbitrary text: never crashes, and what parses
// prints back to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/identifiers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto member = renkei::ParseMemberId(text); member.ok()) {
    if (renkei::ToString(*member) != text) std::abort();
  }
  if (auto subsystem = renkei::ParseSubsystemId(text); subsystem.ok()) {
    if (renkei::ToString(*subsystem) != text) std::abort();
  }
  if (auto server = renkei::ParseSecurityServerId(text); server.ok()) {
    if (renkei::ToString(*server) != text) std::abort();
    (void)renkei::SecurityServerTlsName(*server);
  }
  return 0;
}
