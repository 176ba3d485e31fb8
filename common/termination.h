// Clean shutdown for server binaries: block SIGTERM and SIGINT in every thread (call before
// any thread starts), then wait for one of them on the main thread and drain.
#ifndef RENKEI_COMMON_TERMINATION_H_
#define RENKEI_COMMON_TERMINATION_H_

#include <pthread.h>
#include <signal.h>

namespace renkei {

inline sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// Returns the signal that arrived.
inline int WaitForTerminationSignal(const sigset_t& signals) {
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  return signal_number;
}

}  // namespace renkei

#endif  // RENKEI_COMMON_TERMINATION_H_
