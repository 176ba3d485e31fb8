// Flag parsing for renkeictl subcommands: "--name value" pairs checked against a spec.
#ifndef RENKEI_TOOLS_RENKEICTL_COMMAND_LINE_H_
#define RENKEI_TOOLS_RENKEICTL_COMMAND_LINE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace renkei {

struct CommandSpec {
  const char* usage;
  std::vector<std::string> required;
  std::vector<std::string> optional;
};

using Flags = std::map<std::string, std::string>;

// Parses `args` (after the subcommand name). On --help prints the usage and returns exit
// code 0; on an unknown, missing or valueless flag prints why and the usage to stderr and
// returns 1; otherwise fills `flags` and returns nullopt.
std::optional<int> ParseFlags(const std::string& prefix, const CommandSpec& spec,
                              const std::vector<std::string>& args, Flags& flags);

// Runs a group of subcommands: "GROUP COMMAND --flags"; handles --help and unknown commands.
// `run` is called with the command name and parsed flags.
template <typename Run>
int RunGroup(const std::string& group, const char* group_usage,
             const std::map<std::string, CommandSpec>& commands,
             const std::vector<std::string>& args, Run run);

}  // namespace renkei

#include "tools/renkeictl/command_line_inl.h"

#endif  // RENKEI_TOOLS_RENKEICTL_COMMAND_LINE_H_
