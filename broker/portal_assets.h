// The resident portal's static files (broker/portal/), embedded in the broker binary at build
// time so that an installation is one binary and one configuration file.
#ifndef RENKEI_BROKER_PORTAL_ASSETS_H_
#define RENKEI_BROKER_PORTAL_ASSETS_H_

#include <map>
#include <string>

namespace renkei {

struct PortalAsset {
  std::string content_type;
  std::string body;
};

// Keyed by URL path, e.g. "/index.html".
const std::map<std::string, PortalAsset>& PortalAssets();

}  // namespace renkei

#endif  // RENKEI_BROKER_PORTAL_ASSETS_H_
