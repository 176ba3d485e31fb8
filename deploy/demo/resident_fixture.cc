#include "deploy/demo/resident_fixture.h"

#include <vector>

namespace renkei::demo {
namespace {

using municipal::v1::Relationship;
using municipal::v1::Resident;

struct Person {
  const char* code;
  const char* family_kanji;
  const char* given_kanji;
  const char* family_kana;
  const char* given_kana;
  int year, month, day;
  const char* household;
  Relationship relationship;
};

// UTF-8 spelled out where the glyph alone would hide what is being tested.
constexpr char kSaito[] = "\xE9\xBD\x8B\xE8\x97\xA4";                   // 齋藤
constexpr char kTakahashi[] = "\xE9\xAB\x99\xE6\xA9\x8B";               // 髙橋
constexpr char kTsujiIvs[] = "\xE8\xBE\xBB\xF3\xA0\x84\x80";            // 辻 + VS17
constexpr char kSaitoVariant[] = "\xE9\xBD\x8A\xE8\x97\xA4";            // 齊藤

const std::vector<Person>& People() {
  static const auto* people = new std::vector<Person>{
      {"131016-0001", kSaito, "一郎", "サイトウ", "イチロウ", 1985, 4, 12, "H-0001", municipal::v1::HEAD},
      {"131016-0002", kSaito, "花子", "サイトウ", "ハナコ", 1987, 9, 3, "H-0001", municipal::v1::SPOUSE},
      {"131016-0003", kSaito, "陽菜", "サイトウ", "ヒナ", 2018, 6, 21, "H-0001", municipal::v1::CHILD},
      {"131016-0004", kSaito, "蓮", "サイトウ", "レン", 2024, 2, 8, "H-0001", municipal::v1::CHILD},
      {"131016-0005", kTakahashi, "美咲", "タカハシ", "ミサキ", 1990, 1, 30, "H-0002", municipal::v1::HEAD},
      {"131016-0006", kTakahashi, "湊", "タカハシ", "ミナト", 2012, 11, 5, "H-0002", municipal::v1::CHILD},
      {"131016-0007", kTsujiIvs, "健太", "ツジ", "ケンタ", 1979, 7, 7, "H-0003", municipal::v1::HEAD},
      {"131016-0008", kSaitoVariant, "和子", "サイトウ", "カズコ", 1950, 3, 15, "H-0004", municipal::v1::HEAD},
  };
  return *people;
}

}  // namespace

std::map<std::string, Resident> ChiyodaResidents() {
  std::map<std::string, Resident> residents;
  for (const Person& p : People()) {
    Resident& r = residents[p.code];
    r.set_resident_code(p.code);
    r.set_family_name_kanji(p.family_kanji);
    r.set_given_name_kanji(p.given_kanji);
    r.set_family_name_kana(p.family_kana);
    r.set_given_name_kana(p.given_kana);
    r.mutable_birth_date()->set_year(p.year);
    r.mutable_birth_date()->set_month(p.month);
    r.mutable_birth_date()->set_day(p.day);
    r.set_household_id(p.household);
    auto* address = r.mutable_address();
    address->set_local_government_code("131016");
    address->set_postal_code("100-8111");
    address->set_prefecture("東京都");
    address->set_municipality("千代田区");
    address->set_street("千代田1-1");
  }
  for (auto& [code, resident] : residents) {
    for (const Person& p : People()) {
      if (resident.household_id() != p.household) continue;
      auto* member = resident.add_household();
      member->set_resident_code(p.code);
      member->set_name_kanji(std::string(p.family_kanji) + " " + p.given_kanji);
      member->set_name_kana(std::string(p.family_kana) + " " + p.given_kana);
      *member->mutable_birth_date() = residents[p.code].birth_date();
      member->set_relationship(p.relationship);
    }
  }
  return residents;
}

}  // namespace renkei::demo
