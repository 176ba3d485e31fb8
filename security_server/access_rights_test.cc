#include "security_server/access_rights.h"

#include "common/identifiers.h"
#include "common/text_proto.h"
#include "gtest/gtest.h"

namespace renkei {
namespace {

constexpr char kGet[] = "/renkei.municipal.v1.ResidentRegistry/GetResident";

AccessRights Rights(const std::string& text) {
  v1::SecurityServerConfig config;
  EXPECT_TRUE(ParseTextProto(text, "test", &config).ok());
  auto rights = AccessRights::Create(config.access_rights());
  EXPECT_TRUE(rights.ok()) << rights.status();
  return *rights;
}

v1::SubsystemId Id(const std::string& text) { return *ParseSubsystemId(text); }

TEST(AccessRights, DeniesByDefault) {
  AccessRights rights = Rights("");
  absl::Status status = rights.Check(Id("JP/GOV/MHLW/allowance"), Id("JP/MUNI/131016/registry"),
                                     kGet);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(),
            std::string("client JP/GOV/MHLW/allowance is not granted access to "
                        "JP/MUNI/131016/registry") + kGet);
}

TEST(AccessRights, GrantsOneMethodOnly) {
  AccessRights rights = Rights(R"(access_rights { client: "JP/GOV/MHLW/allowance"
      service: "JP/MUNI/131016/registry" method: "/renkei.municipal.v1.ResidentRegistry/GetResident" })");
  EXPECT_TRUE(rights.Check(Id("JP/GOV/MHLW/allowance"), Id("JP/MUNI/131016/registry"), kGet).ok());
  EXPECT_FALSE(rights
                   .Check(Id("JP/GOV/MHLW/allowance"), Id("JP/MUNI/131016/registry"),
                          "/renkei.municipal.v1.ResidentRegistry/DeleteResident")
                   .ok());
  EXPECT_FALSE(rights.Check(Id("JP/GOV/MHLW/pension"), Id("JP/MUNI/131016/registry"), kGet).ok());
  EXPECT_FALSE(rights.Check(Id("JP/GOV/MHLW/allowance"), Id("JP/MUNI/131016/tax"), kGet).ok());
}

TEST(AccessRights, WildcardGrantsEveryMethodOfThatServiceOnly) {
  AccessRights rights = Rights(R"(access_rights { client: "JP/GOV/MHLW/allowance"
      service: "JP/MUNI/131016/registry" method: "*" })");
  EXPECT_TRUE(rights.Check(Id("JP/GOV/MHLW/allowance"), Id("JP/MUNI/131016/registry"),
                           "/a.B/C").ok());
  EXPECT_FALSE(rights.Check(Id("JP/GOV/MHLW/allowance"), Id("JP/MUNI/131016/other"),
                            "/a.B/C").ok());
}

TEST(AccessRights, RejectsMalformedEntries) {
  v1::SecurityServerConfig config;
  ASSERT_TRUE(ParseTextProto(R"(access_rights { client: "JP/GOV/MHLW"
      service: "JP/MUNI/131016/registry" method: "*" })", "t", &config).ok());
  EXPECT_EQ(AccessRights::Create(config.access_rights()).status().code(),
            absl::StatusCode::kInvalidArgument);
  config.Clear();
  ASSERT_TRUE(ParseTextProto(R"(access_rights { client: "JP/GOV/MHLW/a"
      service: "JP/MUNI/131016/registry" method: "GetResident" })", "t", &config).ok());
  auto rights = AccessRights::Create(config.access_rights());
  EXPECT_EQ(rights.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(rights.status().message()).find("full method name"), std::string::npos);
}

TEST(AccessRights, ListsNamedAndAllowedMethods) {
  AccessRights rights = Rights(R"(
      access_rights { client: "JP/GOV/MHLW/a" service: "JP/MUNI/1/r" method: "/p.S/Get" }
      access_rights { client: "JP/GOV/MHLW/b" service: "JP/MUNI/1/r" method: "/p.S/List" }
      access_rights { client: "JP/GOV/MHLW/c" service: "JP/MUNI/1/r" method: "*" })");
  EXPECT_EQ(rights.MethodsNamed("JP/MUNI/1/r"), (std::vector<std::string>{"/p.S/Get", "/p.S/List"}));
  std::vector<std::string> offered = {"/p.S/Get", "/p.S/List", "/p.S/Put"};
  EXPECT_EQ(rights.AllowedMethods("JP/GOV/MHLW/a", "JP/MUNI/1/r", offered),
            (std::vector<std::string>{"/p.S/Get"}));
  EXPECT_EQ(rights.AllowedMethods("JP/GOV/MHLW/c", "JP/MUNI/1/r", offered), offered);
  EXPECT_TRUE(rights.AllowedMethods("JP/GOV/MHLW/z", "JP/MUNI/1/r", offered).empty());
}

TEST(AccessRights, FullMethodNameShape) {
  EXPECT_TRUE(IsFullMethodName("/pkg.Svc/Method"));
  EXPECT_FALSE(IsFullMethodName("pkg.Svc/Method"));
  EXPECT_FALSE(IsFullMethodName("/pkg.Svc/"));
  EXPECT_FALSE(IsFullMethodName("//Method"));
  EXPECT_FALSE(IsFullMethodName("/pkg.Svc/Method/extra"));
  EXPECT_FALSE(IsFullMethodName("/pkg Svc/Method"));
}

}  // namespace
}  // namespace renkei
