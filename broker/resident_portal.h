// ResidentPortal: the broker's web portal for residents over HTTP: the embedded static pages
// and the JSON API of PortalApi (challenge, sign-in, records; for anyone, the key that signs
// tree heads and consistency proofs between tree sizes). Proof
// checking happens in the browser. Pages carry a strict Content-Security-Policy; API answers
// are never cached. Thread-safe (cpp-httplib runs handlers on its own thread pool;
// ResidentService and AccessLedger are thread-safe).
#ifndef RENKEI_BROKER_RESIDENT_PORTAL_H_
#define RENKEI_BROKER_RESIDENT_PORTAL_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "broker/portal_api.h"

namespace httplib {
class Server;
}

namespace renkei {

class ResidentPortal {
 public:
  // Borrows every argument but the certificate; they must outlive the portal. `ledger` is the
  // one `residents` reads (it serves consistency proofs).
  ResidentPortal(ResidentService& residents, const AccessLedger& ledger,
                 const RegistryStore& registry, const Certificate& tree_head_signer);
  ~ResidentPortal();

  // Listens on `address` ("host:port") and serves on a background thread.
  // With `tls_certificate_file`/`tls_key_file` empty, plain HTTP: only on a loopback address
  // (development, or behind a TLS-terminating proxy on the same machine); otherwise HTTPS
  // with HSTS. INVALID_ARGUMENT for plain HTTP off loopback.
  absl::Status Start(const std::string& address, const std::string& tls_certificate_file = "",
                     const std::string& tls_key_file = "");
  void Stop();

 private:
  void Routes();

  const PortalApi api_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace renkei

#endif  // RENKEI_BROKER_RESIDENT_PORTAL_H_
