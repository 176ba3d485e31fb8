// Child allowance (児童手当) eligibility from a resident registry record, as the paying
// agency's system decides it. Simplified rules after the October 2024 reform: every child of
// the household until the 31 March after their 18th birthday; ¥15,000 a month under 3,
// ¥10,000 from 3, ¥30,000 for the third and later child (counted among these children).
#ifndef RENKEI_DEPLOY_DEMO_CHILD_ALLOWANCE_H_
#define RENKEI_DEPLOY_DEMO_CHILD_ALLOWANCE_H_

#include "municipal/v1/child_allowance.pb.h"
#include "municipal/v1/resident_registry.pb.h"

namespace renkei::demo {

municipal::v1::CheckEligibilityResponse DecideEligibility(const municipal::v1::Resident& applicant,
                                                          const municipal::v1::Date& as_of);

}  // namespace renkei::demo

#endif  // RENKEI_DEPLOY_DEMO_CHILD_ALLOWANCE_H_
