// The two sides of TestFederation's exchange, as settings: the consumer's server (plaintext
// local endpoint, the client registered) and the provider's (the registry's backend, a
// pseudonymizer, and the client's access right to kTestMethod); and a local call of that
// method. Shared by the exchange tests and benchmarks.
#ifndef RENKEI_SECURITY_SERVER_TEST_SIDES_H_
#define RENKEI_SECURITY_SERVER_TEST_SIDES_H_

#include <string>

#include "security_server/consumer_side.h"
#include "security_server/settings.h"
#include "security_server/test_federation.h"

namespace renkei {

inline constexpr char kTestMethod[] = "/renkei.municipal.v1.ResidentRegistry/GetResident";

Settings TestConsumerSettings(const TestFederation& pki);
Settings TestProviderSettings(const TestFederation& pki);
// kTestMethod for two residents, with purpose and user, from a loopback caller.
LocalCall TestLocalCall(std::string payload);

}  // namespace renkei

#endif  // RENKEI_SECURITY_SERVER_TEST_SIDES_H_
