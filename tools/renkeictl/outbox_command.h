// What a security server's outbox holds for operators and auditors, read from its message log
// while it runs: `renkeictl quarantine list|export` (access records the ledger refused, or that
// could not be shipped at all) and `renkeictl receipt show` (the broker's signed receipt for a
// record, the provider's proof that the ledger accepted it).
#ifndef RENKEI_TOOLS_RENKEICTL_OUTBOX_COMMAND_H_
#define RENKEI_TOOLS_RENKEICTL_OUTBOX_COMMAND_H_

#include <string>
#include <vector>

namespace renkei {

int RunQuarantineCommand(const std::vector<std::string>& args);
int RunReceiptCommand(const std::vector<std::string>& args);

}  // namespace renkei

#endif  // RENKEI_TOOLS_RENKEICTL_OUTBOX_COMMAND_H_
