// What anyone on the internet may send the resident portal's JSON API, as
//   METHOD TARGET\n BODY
// against a real ledger, registry and resident sessions (in a scratch directory), with one
// resident enrolled and signed in ("SESSION" in an input stands for that session's token).
// Never a crash; never a session, nor records without that one.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "broker/broker_metrics.h"
#include "broker/portal_api.h"
#include "common/certificates.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/pseudonym.h"
#include "httplib.h"
#include "security_server/test_federation.h"

namespace {

struct Portal {
  Portal() {
    const char* scratch = getenv("TEST_TMPDIR");
    std::string pattern = std::string(scratch ? scratch : "/tmp") + "/portal_fuzzer.XXXXXX";
    const std::string directory = mkdtemp(pattern.data());
    registry = *renkei::RegistryStore::Open(directory + "/registry", "JP", renkei::v1::Limits());
    ledger = *renkei::AccessLedger::Open(directory + "/ledger", pki.ca.key, absl::Seconds(5),
                                         clock);
    residents = std::make_unique<renkei::ResidentService>(*ledger, pseudonymizer, clock, metrics);
    api = std::make_unique<renkei::PortalApi>(*residents, *ledger, *registry, pki.ca.certificate);
    // One enrolled resident, signed in: inputs that say SESSION use the session's token.
    renkei::PrivateKey key = renkei::PrivateKey::GenerateP256();
    (void)ledger->Enroll(pseudonymizer.Pseudonym("131016-0001"),
                         *renkei::PublicKey::FromPem(key.PublicKeyPem()));
    renkei::v1::ChallengeRequest challenge_request;
    challenge_request.set_resident_id("131016-0001");
    auto challenge = residents->DoChallenge(challenge_request);
    renkei::v1::SignInRequest sign_in;
    sign_in.set_resident_id("131016-0001");
    sign_in.set_challenge(challenge->challenge());
    sign_in.set_signature(*key.Sign(challenge->challenge()));
    session = residents->DoSignIn(sign_in)->session_token();
  }

  renkei::TestFederation pki;
  renkei::RealClock clock;
  renkei::Pseudonymizer pseudonymizer = *renkei::Pseudonymizer::FromHex(std::string(64, 'a'));
  renkei::MetricsRegistry metrics_registry;
  renkei::BrokerMetrics metrics{metrics_registry};
  std::unique_ptr<renkei::RegistryStore> registry;
  std::unique_ptr<renkei::AccessLedger> ledger;
  std::unique_ptr<renkei::ResidentService> residents;
  std::unique_ptr<renkei::PortalApi> api;
  std::string session;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Portal* portal = new Portal();
  std::string text(reinterpret_cast<const char*>(data), size);
  const bool signed_in = absl::StrContains(text, "SESSION");
  text = absl::StrReplaceAll(text, {{"SESSION", portal->session}});
  const size_t line_end = std::min(text.find('\n'), text.size());
  const std::string line = text.substr(0, line_end);
  const std::string body = line_end < text.size() ? text.substr(line_end + 1) : "";
  const size_t space = std::min(line.find(' '), line.size());
  const std::string method = line.substr(0, space);
  const std::string target = space < line.size() ? line.substr(space + 1) : "";
  const size_t question = std::min(target.find('?'), target.size());
  httplib::Params query;
  if (question < target.size()) httplib::detail::parse_query_text(target.substr(question + 1), query);
  renkei::PortalAnswer answer =
      portal->api->Handle(method, target.substr(0, question), query, body);
  // The fuzzer cannot sign a challenge: no sign-in succeeds, and records are shown only to
  // the session set up above.
  if (answer.status == 200 && target.rfind("/api/sign-in", 0) == 0) abort();
  if (answer.status == 200 && target.rfind("/api/records", 0) == 0 && !signed_in) abort();
  if (answer.body.empty() || answer.body.front() != '{') abort();
  return 0;
}
