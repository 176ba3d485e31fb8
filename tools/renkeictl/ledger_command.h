// `renkeictl history` (a resident reads and verifies their access history) and
// `renkeictl audit verify` (an auditor checks the ledger's tree heads and their consistency).
#ifndef RENKEI_TOOLS_RENKEICTL_LEDGER_COMMAND_H_
#define RENKEI_TOOLS_RENKEICTL_LEDGER_COMMAND_H_

#include <string>
#include <vector>

namespace renkei {

int RunHistoryCommand(const std::vector<std::string>& args);
int RunAuditCommand(const std::vector<std::string>& args);

}  // namespace renkei

#endif  // RENKEI_TOOLS_RENKEICTL_LEDGER_COMMAND_H_
