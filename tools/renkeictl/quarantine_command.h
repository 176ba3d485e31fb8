// `renkeictl quarantine list|export`: the access records a security server could not get into
// the ledger (refused by it, or not shippable), read from its message log while it runs.
#ifndef RENKEI_TOOLS_RENKEICTL_QUARANTINE_COMMAND_H_
#define RENKEI_TOOLS_RENKEICTL_QUARANTINE_COMMAND_H_

#include <string>
#include <vector>

namespace renkei {

int RunQuarantineCommand(const std::vector<std::string>& args);

}  // namespace renkei

#endif  // RENKEI_TOOLS_RENKEICTL_QUARANTINE_COMMAND_H_
