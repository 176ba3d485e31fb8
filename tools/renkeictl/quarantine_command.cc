#include "tools/renkeictl/quarantine_command.h"

#include <iostream>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/terminal_text.h"
#include "renkei/v1/ledger.pb.h"
#include "security_server/message_log.h"
#include "tools/renkeictl/command_line.h"

namespace renkei {
namespace {

constexpr char kUsage[] = R"(usage: renkeictl quarantine list|export --message-log DIR
Access records the ledger refused (or that could not be shipped at all), kept in the outbox
quarantine of a security server's message log (its message_log.directory). Safe while the
server runs (reads a snapshot).
  list    one line per record: when, why, message id, client, service, method
  export  one JSON object per line with the reason and the record's exact bytes (base64),
          for the operator who takes the case to the broker's operators
  --message-log  the security server's message log folder)";

std::string JsonString(absl::string_view text) {
  // Every byte outside printable ASCII, and quotes and backslashes, escaped: valid JSON
  // whatever a record holds.
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += absl::StrCat("\\u00", absl::BytesToHexString(std::string(1, static_cast<char>(c))));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

int Run(const std::string& command, Flags& flags) {
  auto records = MessageLog::ReadQuarantineOf(flags["message-log"]);
  if (!records.ok()) {
    std::cerr << "renkeictl quarantine: " << records.status().message() << "\n";
    return 1;
  }
  for (const v1::QuarantinedRecord& quarantined : *records) {
    v1::AccessRecord record;
    record.ParseFromString(quarantined.record());  // unreadable: the fields stay empty
    const std::string when = absl::FormatTime(
        "%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(quarantined.quarantined_at_unix_ms()),
        absl::UTCTimeZone());
    if (command == "list") {
      std::cout << when << "  " << EscapeForTerminal(quarantined.reason()) << "  id="
                << EscapeForTerminal(record.message_id()) << "  "
                << EscapeForTerminal(record.client()) << " → "
                << EscapeForTerminal(record.service()) << EscapeForTerminal(record.method())
                << "\n";
    } else {
      std::cout << "{\"quarantined_at\": " << JsonString(when)
                << ", \"code\": " << quarantined.code()
                << ", \"reason\": " << JsonString(quarantined.reason())
                << ", \"message_id\": " << JsonString(record.message_id())
                << ", \"record_base64\": \"" << absl::Base64Escape(quarantined.record())
                << "\"}\n";
    }
  }
  if (command == "list") std::cout << records->size() << " quarantined records\n";
  return 0;
}

}  // namespace

int RunQuarantineCommand(const std::vector<std::string>& args) {
  static const std::map<std::string, CommandSpec> commands = {
      {"list", {kUsage, {"message-log"}, {}}}, {"export", {kUsage, {"message-log"}, {}}}};
  return RunGroup("quarantine", kUsage, commands, args,
                  [](const std::string& command, Flags& flags) { return Run(command, flags); });
}

}  // namespace renkei
