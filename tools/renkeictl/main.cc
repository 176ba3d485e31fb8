// renkeictl: the operator's command-line tool. `renkeictl --help` lists the command groups.
#include <iostream>
#include <string>
#include <vector>

#include "tools/renkeictl/ledger_command.h"
#include "tools/renkeictl/pki_command.h"
#include "tools/renkeictl/outbox_command.h"
#include "tools/renkeictl/registry_command.h"

namespace {

constexpr char kUsage[] = R"(usage: renkeictl GROUP COMMAND [--flag value ...]

Groups:
  pki        create a federation CA and issue certificates (renkeictl pki --help)
  registry   change and inspect the broker's registry (renkeictl registry --help)
  history    a resident's verified access history (renkeictl history --help)
  audit      verify the ledger's signed tree heads and consistency (renkeictl audit --help)
  quarantine access records the ledger refused (renkeictl quarantine --help)
  receipt    the broker's signed receipt for a record (renkeictl receipt --help)
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 1 : 0;
  }
  if (args[0] == "pki") {
    return renkei::RunPkiCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "history") return renkei::RunHistoryCommand(rest);
  if (args[0] == "audit") return renkei::RunAuditCommand(rest);
  if (args[0] == "quarantine") return renkei::RunQuarantineCommand(rest);
  if (args[0] == "receipt") return renkei::RunReceiptCommand(rest);
  if (args[0] == "registry") {
    return renkei::RunRegistryCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  std::cerr << "renkeictl: unknown group \"" << args[0] << "\"\n" << kUsage;
  return 1;
}
