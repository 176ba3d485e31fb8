// The sample municipality's residents (千代田区, local-government code 131016). Fictional.
// Names include variant kanji (齋, 髙, 齊) and an ideographic variation sequence (辻󠄀 =
// U+8FBB U+E0100), which must cross the platform byte-exact.
#ifndef RENKEI_DEPLOY_DEMO_RESIDENT_FIXTURE_H_
#define RENKEI_DEPLOY_DEMO_RESIDENT_FIXTURE_H_

#include <map>
#include <string>

#include "municipal/v1/resident_registry.pb.h"

namespace renkei::demo {

// resident code → resident, with household members filled in.
std::map<std::string, municipal::v1::Resident> ChiyodaResidents();

}  // namespace renkei::demo

#endif  // RENKEI_DEPLOY_DEMO_RESIDENT_FIXTURE_H_
