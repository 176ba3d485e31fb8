// Template definitions of command_line.h.
#ifndef RENKEI_TOOLS_RENKEICTL_COMMAND_LINE_INL_H_
#define RENKEI_TOOLS_RENKEICTL_COMMAND_LINE_INL_H_

#include <iostream>

namespace renkei {

template <typename Run>
int RunGroup(const std::string& group, const char* group_usage,
             const std::map<std::string, CommandSpec>& commands,
             const std::vector<std::string>& args, Run run) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << group_usage;
    return args.empty() ? 1 : 0;
  }
  auto found = commands.find(args[0]);
  if (found == commands.end()) {
    std::cerr << "renkeictl " << group << ": unknown command \"" << args[0] << "\"\n"
              << group_usage;
    return 1;
  }
  Flags flags;
  std::optional<int> exit_code =
      ParseFlags("renkeictl " + group + " " + args[0], found->second,
                 std::vector<std::string>(args.begin() + 1, args.end()), flags);
  if (exit_code) return *exit_code;
  return run(args[0], flags);
}

}  // namespace renkei

#endif  // RENKEI_TOOLS_RENKEICTL_COMMAND_LINE_INL_H_
