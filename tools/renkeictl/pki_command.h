// `renkeictl pki …`: create a federation CA and issue certificates into files.
#ifndef RENKEI_TOOLS_RENKEICTL_PKI_COMMAND_H_
#define RENKEI_TOOLS_RENKEICTL_PKI_COMMAND_H_

#include <string>
#include <vector>

namespace renkei {

// Runs `renkeictl pki ARGS…` (ARGS without "pki"); returns the process exit code.
int RunPkiCommand(const std::vector<std::string>& args);

}  // namespace renkei

#endif  // RENKEI_TOOLS_RENKEICTL_PKI_COMMAND_H_
