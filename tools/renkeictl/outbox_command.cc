#include "tools/renkeictl/outbox_command.h"

#include <iostream>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/certificates.h"
#include "common/digest.h"
#include "common/envelope.h"
#include "common/ledger_receipt.h"
#include "common/terminal_text.h"
#include "common/text_proto.h"
#include "renkei/v1/config.pb.h"
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

constexpr char kReceiptUsage[] = R"(usage: renkeictl receipt show --message-log DIR --message-id ID --anchor FILE
The broker's signed receipt for the access record of exchange ID, kept by the security server
that recorded it (its message_log.directory): what a provider shows an auditor to prove the
ledger accepted the record. The signature is checked against the configuration anchor's
certificate. Exits 0 only when it verifies.
  --message-log  the security server's message log folder
  --message-id   the exchange's message id (renkei-message-id)
  --anchor       the configuration anchor (its certificate signs receipts))";

int ShowReceipt(Flags& flags) {
  auto fail = [](absl::string_view message) {
    std::cerr << "renkeictl receipt: " << message << "\n";
    return 1;
  };
  v1::ConfigurationAnchor anchor;
  absl::Status loaded = LoadTextProtoFile(flags["anchor"], &anchor);
  if (!loaded.ok()) return fail(loaded.message());
  auto broker = Certificate::FromPem(anchor.configuration_signing_certificate_pem());
  if (!broker.ok()) return fail(broker.status().message());
  auto signed_receipt = MessageLog::ReadReceiptOf(flags["message-log"], flags["message-id"]);
  if (!signed_receipt.ok()) return fail(signed_receipt.status().message());
  auto receipt = VerifyLedgerReceipt(*signed_receipt, *broker);
  if (!receipt.ok()) return fail(receipt.status().message());
  std::cout << "receipt verifies with the anchor's certificate " << broker->fingerprint() << "\n"
            << "  recorded by   " << EscapeForTerminal(receipt->recorded_by()) << "\n"
            << "  message id    " << EscapeForTerminal(receipt->message_id()) << "\n"
            << "  record sha256 " << ToHex(receipt->record_sha256()) << "\n"
            << "  leaf index    " << receipt->leaf_index() << "\n"
            << "  accepted at   "
            << absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", FromTimestamp(receipt->accepted_at()),
                                absl::UTCTimeZone())
            << "\n"
            << "  signed bytes (base64) " << absl::Base64Escape(signed_receipt->receipt()) << "\n"
            << "  signature (base64)    " << absl::Base64Escape(signed_receipt->signature())
            << "\n";
  return 0;
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

int RunReceiptCommand(const std::vector<std::string>& args) {
  static const std::map<std::string, CommandSpec> commands = {
      {"show", {kReceiptUsage, {"message-log", "message-id", "anchor"}, {}}}};
  return RunGroup("receipt", kReceiptUsage, commands, args,
                  [](const std::string&, Flags& flags) { return ShowReceipt(flags); });
}

int RunQuarantineCommand(const std::vector<std::string>& args) {
  static const std::map<std::string, CommandSpec> commands = {
      {"list", {kUsage, {"message-log"}, {}}}, {"export", {kUsage, {"message-log"}, {}}}};
  return RunGroup("quarantine", kUsage, commands, args,
                  [](const std::string& command, Flags& flags) { return Run(command, flags); });
}

}  // namespace renkei
