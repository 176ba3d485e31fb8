// renkei-security-server --config FILE: an agency's gateway to the federation.
#include "absl/debugging/failure_signal_handler.h"
#include "absl/synchronization/mutex.h"
#include "absl/debugging/symbolize.h"
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/termination.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/protobuf_log.h"
#include "security_server/security_server.h"
#include "security_server/settings.h"

ABSL_FLAG(std::string, config, "", "Security server configuration (protobuf text format).");
ABSL_FLAG(int, shutdown_grace_seconds, 10,
          "On SIGTERM, how long calls in flight may take to finish.");

int main(int argc, char** argv) {
  // A crash leaves its stack trace in the log, for the operator and for us.
  absl::InitializeSymbolizer(argv[0]);
  absl::InstallFailureSignalHandler(absl::FailureSignalHandlerOptions());
  // Debian's Abseil is a debug build: every Mutex acquisition feeds a deadlock detector
  // (about 2% of a busy server's CPU). The unit tests, under TSan too, keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  renkei::RouteProtobufLogs();
  absl::SetProgramUsageMessage(
      "Renkei security server: forwards signed, mutually authenticated exchanges between an "
      "agency's systems and other agencies.\n\nusage: renkei-security-server --config FILE");
  absl::ParseCommandLine(argc, argv);
  const std::string config = absl::GetFlag(FLAGS_config);
  if (config.empty()) {
    std::cerr << "renkei-security-server: --config FILE is required (see --help)\n";
    return 2;
  }

  const sigset_t signals = renkei::BlockTerminationSignals();

  auto settings = renkei::LoadSettings(config);
  if (!settings.ok()) {
    renkei::Log(renkei::LogLevel::kError, "server", settings.status().ToString());
    return 1;
  }
  auto server = renkei::SecurityServer::Start(*std::move(settings));
  if (!server.ok()) {
    renkei::Log(renkei::LogLevel::kError, "server", server.status().ToString());
    return 1;
  }
  const int signal_number = renkei::WaitForTerminationSignal(signals);
  renkei::Log(renkei::LogLevel::kInfo, "server",
              absl::StrCat("received signal ", signal_number, "; draining and stopping"));
  (*server)->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  server->reset();
  renkei::Log(renkei::LogLevel::kInfo, "server", "stopped");
  return 0;
}
