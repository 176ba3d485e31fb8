// renkei-broker --config FILE: the federation's central party.
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
#include "broker/broker.h"
#include "common/log.h"
#include "common/protobuf_log.h"

ABSL_FLAG(std::string, config, "", "Broker configuration (protobuf text format).");

int main(int argc, char** argv) {
  // A crash leaves its stack trace in the log, for the operator and for us.
  absl::InitializeSymbolizer(argv[0]);
  absl::InstallFailureSignalHandler(absl::FailureSignalHandlerOptions());
  // Debian's Abseil is a debug build: every Mutex acquisition feeds a deadlock detector
  // (about 2% of a busy server's CPU). The unit tests, under TSan too, keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  renkei::RouteProtobufLogs();
  absl::SetProgramUsageMessage(
      "Renkei broker: member registry and signed global configuration.\n\n"
      "usage: renkei-broker --config FILE");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_config).empty()) {
    std::cerr << "renkei-broker: --config FILE is required (see --help)\n";
    return 2;
  }
  const sigset_t signals = renkei::BlockTerminationSignals();

  auto broker = renkei::Broker::Start(absl::GetFlag(FLAGS_config));
  if (!broker.ok()) {
    renkei::Log(renkei::LogLevel::kError, "broker", broker.status().ToString());
    return 1;
  }
  const int signal_number = renkei::WaitForTerminationSignal(signals);
  renkei::Log(renkei::LogLevel::kInfo, "broker",
              absl::StrCat("received signal ", signal_number, "; stopping"));
  (*broker)->Shutdown(absl::Seconds(10));
  broker->reset();
  return 0;
}
