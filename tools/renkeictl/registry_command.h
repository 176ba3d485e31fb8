// `renkeictl registry …`: change and inspect the broker's registry through its admin API.
#ifndef RENKEI_TOOLS_RENKEICTL_REGISTRY_COMMAND_H_
#define RENKEI_TOOLS_RENKEICTL_REGISTRY_COMMAND_H_

#include <string>
#include <vector>

namespace renkei {

// Runs `renkeictl registry ARGS…`; returns the process exit code.
int RunRegistryCommand(const std::vector<std::string>& args);

}  // namespace renkei

#endif  // RENKEI_TOOLS_RENKEICTL_REGISTRY_COMMAND_H_
