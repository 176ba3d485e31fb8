#include "tools/renkeictl/command_line.h"

#include <algorithm>
#include <iostream>

namespace renkei {

std::optional<int> ParseFlags(const std::string& prefix, const CommandSpec& spec,
                              const std::vector<std::string>& args, Flags& flags) {
  auto fail = [&](const std::string& why) {
    std::cerr << prefix << ": " << why << "\n" << spec.usage << "\n";
    return std::optional<int>(1);
  };
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << spec.usage << "\n";
      return 0;
    }
    if (args[i].rfind("--", 0) != 0) return fail("expected --flag value, got \"" + args[i] + "\"");
    std::string name = args[i].substr(2);
    bool known = std::count(spec.required.begin(), spec.required.end(), name) +
                     std::count(spec.optional.begin(), spec.optional.end(), name) >
                 0;
    if (!known) return fail("unknown flag --" + name);
    if (i + 1 >= args.size()) return fail("--" + name + " needs a value");
    flags[name] = args[++i];
  }
  for (const std::string& name : spec.required) {
    if (flags.count(name) == 0) return fail("missing --" + name);
  }
  return std::nullopt;
}

}  // namespace renkei
