// PortalApi: the resident portal's JSON API, as a function of the request's method, path,
// query parameters and body: what anyone on the internet may send it. ResidentPortal serves
// it over HTTP(S); the fuzz target (tests/fuzz) calls it directly. Thread-safe.
#ifndef RENKEI_BROKER_PORTAL_API_H_
#define RENKEI_BROKER_PORTAL_API_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "broker/access_ledger.h"
#include "broker/ledger_services.h"
#include "broker/registry_store.h"
#include "common/certificates.h"

namespace renkei {

struct PortalAnswer {
  int status = 200;
  std::string body;  // JSON
};

class PortalApi {
 public:
  // Largest request body accepted.
  static constexpr size_t kMaxRequestBytes = 16 * 1024;

  // Borrows every argument but the certificate; they must outlive the API. `ledger` is the
  // one `residents` reads (it serves consistency proofs).
  PortalApi(ResidentService& residents, const AccessLedger& ledger, const RegistryStore& registry,
            const Certificate& tree_head_signer);

  // One request under /api/. `query` holds the decoded query parameters. Unknown method and
  // path: 404.
  PortalAnswer Handle(absl::string_view method, absl::string_view path,
                      const std::multimap<std::string, std::string>& query,
                      absl::string_view body) const;

 private:
  ResidentService& residents_;
  const AccessLedger& ledger_;
  const RegistryStore& registry_;
  const Certificate tree_head_signer_;
};

}  // namespace renkei

#endif  // RENKEI_BROKER_PORTAL_API_H_
