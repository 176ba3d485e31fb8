#include "deploy/demo/child_allowance.h"

#include <algorithm>
#include <tuple>
#include <vector>

namespace renkei::demo {
namespace {

int AgeOn(const municipal::v1::Date& birth, const municipal::v1::Date& day) {
  int age = day.year() - birth.year();
  if (day.month() < birth.month() || (day.month() == birth.month() && day.day() < birth.day())) {
    --age;
  }
  return age;
}

// Eligible until the 31 March following the 18th birthday (end of high-school age).
bool WithinHighSchoolAge(const municipal::v1::Date& birth, const municipal::v1::Date& day) {
  // School years start on 2 April; children born 1 Jan..1 Apr belong to the earlier year.
  int school_cohort = birth.year() - ((birth.month() < 4 || (birth.month() == 4 && birth.day() == 1)) ? 1 : 0);
  int last_year = school_cohort + 19;  // 31 March of this year ends eligibility
  return day.year() < last_year || (day.year() == last_year && day.month() <= 3);
}

}  // namespace

municipal::v1::CheckEligibilityResponse DecideEligibility(const municipal::v1::Resident& applicant,
                                                          const municipal::v1::Date& as_of) {
  municipal::v1::CheckEligibilityResponse response;
  std::vector<const municipal::v1::HouseholdMember*> children;
  for (const auto& member : applicant.household()) {
    if (member.relationship() == municipal::v1::CHILD &&
        WithinHighSchoolAge(member.birth_date(), as_of) && AgeOn(member.birth_date(), as_of) >= 0) {
      children.push_back(&member);
    }
  }
  std::sort(children.begin(), children.end(), [](const auto* a, const auto* b) {
    const auto &x = a->birth_date(), &y = b->birth_date();
    return std::make_tuple(x.year(), x.month(), x.day()) < std::make_tuple(y.year(), y.month(), y.day());
  });
  for (size_t i = 0; i < children.size(); ++i) {
    int age = AgeOn(children[i]->birth_date(), as_of);
    int amount = i >= 2 ? 30000 : (age < 3 ? 15000 : 10000);
    auto* child = response.add_children();
    child->set_name_kanji(children[i]->name_kanji());
    *child->mutable_birth_date() = children[i]->birth_date();
    child->set_monthly_amount_yen(amount);
    response.set_monthly_total_yen(response.monthly_total_yen() + amount);
  }
  response.set_eligible(!children.empty());
  response.set_reason(children.empty() ? "no child of eligible age in the household"
                                       : "children of eligible age in the household");
  return response;
}

}  // namespace renkei::demo
