#include "common/identifiers.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace renkei {
namespace {

constexpr size_t kMaxPartLength = 64;

bool IsPartChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

// Splits `text` into exactly `names.size()` validated parts.
absl::StatusOr<std::vector<std::string>> SplitParts(absl::string_view kind,
                                                    absl::string_view text,
                                                    const std::vector<const char*>& names) {
  std::vector<std::string> parts = absl::StrSplit(text, '/');
  if (parts.size() != names.size()) {
    std::vector<std::string> upper(names.begin(), names.end());
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed ", kind, " identifier \"", absl::CEscape(text), "\": expected ",
        names.size(), " slash-separated parts ", absl::StrJoin(upper, "/"), ", got ",
        parts.size()));
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    std::string problem;
    if (part.empty()) {
      problem = "is empty";
    } else if (part.size() > kMaxPartLength) {
      problem = absl::StrCat("is longer than ", kMaxPartLength, " characters");
    } else {
      for (char c : part) {
        if (!IsPartChar(c)) {
          problem = "may contain only A-Z a-z 0-9 . _ -";
          break;
        }
      }
    }
    if (!problem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("malformed ", kind, " identifier \"",
                                                     absl::CEscape(text), "\": ", names[i],
                                                     " part ", problem));
    }
  }
  return parts;
}

v1::MemberId MakeMember(const std::vector<std::string>& parts) {
  v1::MemberId id;
  id.set_instance(parts[0]);
  id.set_member_class(parts[1]);
  id.set_member_code(parts[2]);
  return id;
}

}  // namespace

absl::StatusOr<v1::MemberId> ParseMemberId(absl::string_view text) {
  auto parts = SplitParts("member", text, {"INSTANCE", "CLASS", "CODE"});
  if (!parts.ok()) return parts.status();
  return MakeMember(*parts);
}

absl::StatusOr<v1::SubsystemId> ParseSubsystemId(absl::string_view text) {
  auto parts = SplitParts("subsystem", text, {"INSTANCE", "CLASS", "CODE", "SUBSYSTEM"});
  if (!parts.ok()) return parts.status();
  v1::SubsystemId id;
  *id.mutable_member() = MakeMember(*parts);
  id.set_subsystem_code((*parts)[3]);
  return id;
}

absl::StatusOr<v1::SecurityServerId> ParseSecurityServerId(absl::string_view text) {
  auto parts = SplitParts("security server", text, {"INSTANCE", "CLASS", "CODE", "SERVER"});
  if (!parts.ok()) return parts.status();
  v1::SecurityServerId id;
  *id.mutable_member() = MakeMember(*parts);
  id.set_server_code((*parts)[3]);
  return id;
}

std::string ToString(const v1::MemberId& id) {
  return absl::StrCat(id.instance(), "/", id.member_class(), "/", id.member_code());
}

std::string ToString(const v1::SubsystemId& id) {
  return absl::StrCat(ToString(id.member()), "/", id.subsystem_code());
}

std::string ToString(const v1::SecurityServerId& id) {
  return absl::StrCat(ToString(id.member()), "/", id.server_code());
}

std::string SecurityServerTlsName(const v1::SecurityServerId& id) {
  auto label = [](std::string part) {
    part = absl::AsciiStrToLower(part);
    std::replace(part.begin(), part.end(), '_', '-');
    return part;
  };
  return absl::StrCat(label(id.server_code()), ".", label(id.member().member_code()), ".",
                      label(id.member().member_class()), ".", label(id.member().instance()),
                      ".renkei.internal");
}

bool operator==(const v1::MemberId& a, const v1::MemberId& b) {
  return a.instance() == b.instance() && a.member_class() == b.member_class() &&
         a.member_code() == b.member_code();
}

bool operator==(const v1::SubsystemId& a, const v1::SubsystemId& b) {
  return a.member() == b.member() && a.subsystem_code() == b.subsystem_code();
}

}  // namespace renkei
