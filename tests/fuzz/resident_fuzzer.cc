// What anyone on the internet may send the resident API: challenges and sign-in attempts.
// The stateless challenge check never crashes and nothing the fuzzer makes up is accepted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "broker/ledger_services.h"
#include "common/clock.h"
#include "common/terminal_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static renkei::RealClock clock;
  static renkei::ResidentSessions sessions(clock);
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (sessions.IsValidChallenge(std::string(32, 'p'), text)) std::abort();
  if (!sessions.SessionPseudonym(text).empty()) std::abort();
  (void)renkei::EscapeForTerminal(text);
  return 0;
}
