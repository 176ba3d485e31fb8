#include "security_server/rest_request.h"

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "municipal/v1/resident_registry.pb.h"

namespace renkei {
namespace {

using ::google::protobuf::FileDescriptor;
using ::google::protobuf::MethodDescriptor;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr char kService[] = "JP/MUNI/131016/resident-registry";
constexpr char kClient[] = "JP/GOV/MHLW/child-allowance";
constexpr char kGetResident[] = "/renkei.municipal.v1.ResidentRegistry/GetResident";
constexpr char kGetCertificate[] =
    "/renkei.municipal.v1.ResidentRegistry/GetResidenceCertificate";
constexpr char kGetResidentPath[] =
    "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident";
constexpr char kOpenApiPath[] = "/r1/JP/MUNI/131016/resident-registry/openapi.json";
// 辻 with the variation selector U+E0100 (the two-dot form of the radical): an ideographic
// variation sequence a family register may hold, which must cross byte for byte.
constexpr char kVariantTsuji[] = "\xE8\xBE\xBB\xF3\xA0\x84\x80";

// ParseRestPath

TEST(ParseRestPath, CallPathNamesServiceSubsystemAndFullMethodName) {
  auto target = ParseRestPath(kGetResidentPath, /*openapi=*/false);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->service, kService);
  EXPECT_EQ(target->method, kGetResident);
}

TEST(ParseRestPath, OpenApiPathNamesServiceSubsystemOnly) {
  auto target = ParseRestPath(kOpenApiPath, /*openapi=*/true);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->service, kService);
  EXPECT_EQ(target->method, "");
}

TEST(ParseRestPath, EachPathIsOnlyValidInItsOwnMode) {
  EXPECT_EQ(ParseRestPath(kGetResidentPath, /*openapi=*/true).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ParseRestPath(kOpenApiPath, /*openapi=*/false).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ParseRestPath, OpenApiPathMustEndInOpenApiJson) {
  for (const char* path : {"/r1/JP/MUNI/131016/resident-registry/swagger.json",
                           "/r1/JP/MUNI/131016/resident-registry/openapi.yaml",
                           "/r1/JP/MUNI/131016/resident-registry/OPENAPI.JSON"}) {
    EXPECT_EQ(ParseRestPath(path, /*openapi=*/true).status().code(), absl::StatusCode::kNotFound)
        << path;
  }
}

TEST(ParseRestPath, WrongNumberOfSegmentsIsNotFound) {
  for (const char* path : {
           "/r1/",
           "/r1/JP/MUNI/131016/resident-registry",
           "/r1/JP/MUNI/131016/renkei.municipal.v1.ResidentRegistry/GetResident",
           "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry",
           "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/"
           "GetResident/extra",
       }) {
    auto target = ParseRestPath(path, /*openapi=*/false);
    EXPECT_EQ(target.status().code(), absl::StatusCode::kNotFound) << path;
  }
  EXPECT_EQ(ParseRestPath("/r1/JP/MUNI/131016/openapi.json", /*openapi=*/true).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ParseRestPath("/r1/JP/MUNI/131016/resident-registry/x/openapi.json",
                          /*openapi=*/true)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(ParseRestPath, EmptySegmentsAreNotFound) {
  for (const char* path : {
           "/r1//MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident",
           "/r1/JP/MUNI//resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident",
           "/r1/JP/MUNI/131016/resident-registry//GetResident",
           "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/",
           // A trailing slash is one more, empty, segment.
           "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/"
           "GetResident/",
           "//r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/"
           "GetResident",
       }) {
    EXPECT_EQ(ParseRestPath(path, /*openapi=*/false).status().code(),
              absl::StatusCode::kNotFound)
        << path;
  }
  EXPECT_EQ(ParseRestPath("/r1/JP/MUNI/131016//openapi.json", /*openapi=*/true).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ParseRestPath, CharactersOutsideNamesAreNotFound) {
  for (const char* path : {
           // Percent-encoding is not decoded: %2F stays three characters that are no name.
           "/r1/JP/MUNI/131016%2Fresident-registry/renkei.municipal.v1.ResidentRegistry/"
           "GetResident",
           "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry%2F/"
           "GetResident",
           "/r1/JP/MUNI/131 016/resident-registry/renkei.municipal.v1.ResidentRegistry/"
           "GetResident",
           "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/"
           "GetResident ",
           "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/"
           "GetResident?x=1",
           "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/"
           "GetResident\n",
           // 千代田 in UTF-8, and a lone byte that is no UTF-8 at all.
           "/r1/JP/MUNI/\xE5\x8D\x83\xE4\xBB\xA3\xE7\x94\xB0/resident-registry/"
           "renkei.municipal.v1.ResidentRegistry/GetResident",
           "/r1/JP/MUNI/131016/resident-registry\xFF/renkei.municipal.v1.ResidentRegistry/"
           "GetResident",
       }) {
    EXPECT_EQ(ParseRestPath(path, /*openapi=*/false).status().code(),
              absl::StatusCode::kNotFound)
        << path;
  }
  EXPECT_EQ(ParseRestPath("/r1/JP/MUNI/131016/resident registry/openapi.json", /*openapi=*/true)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(ParseRestPath, NulInsidePathIsNotFound) {
  const std::string path = std::string(kGetResidentPath) + std::string("\0x", 2);
  EXPECT_EQ(ParseRestPath(path, /*openapi=*/false).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ParseRestPath, ErrorNamesTheOffendingSegment) {
  auto target = ParseRestPath(
      "/r1/JP/MUNI/131 016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident",
      /*openapi=*/false);
  EXPECT_EQ(target.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(target.status().message()), HasSubstr("\"131 016\""));
}

TEST(ParseRestPath, OverlongSegmentIsNotFound) {
  const std::string path = absl::StrCat("/r1/JP/MUNI/131016/", std::string(256, 'a'),
                                        "/renkei.municipal.v1.ResidentRegistry/GetResident");
  auto target = ParseRestPath(path, /*openapi=*/false);
  EXPECT_EQ(target.status().code(), absl::StatusCode::kNotFound);
  // The message quotes only the start of what it refuses.
  EXPECT_LT(target.status().message().size(), 200u);
}

TEST(ParseRestPath, DotDotAsMethodIsNotFound) {
  // A method name has no dot, so ".." is never a method.
  EXPECT_EQ(ParseRestPath("/r1/JP/MUNI/131016/resident-registry/"
                          "renkei.municipal.v1.ResidentRegistry/..",
                          /*openapi=*/false)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

// ".." and "." look like path traversal; no subsystem, member or gRPC service is named so.
TEST(ParseRestPath, DotSegmentsAreNotFound) {
  for (const char* path : {
           "/r1/JP/MUNI/131016/../renkei.municipal.v1.ResidentRegistry/GetResident",
           "/r1/JP/MUNI/../resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident",
           "/r1/../MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident",
           "/r1/JP/MUNI/131016/resident-registry/../GetResident",
           "/r1/JP/MUNI/131016/./renkei.municipal.v1.ResidentRegistry/GetResident",
           "/r1/JP/MUNI/131016/resident-registry/./GetResident",
       }) {
    EXPECT_EQ(ParseRestPath(path, /*openapi=*/false).status().code(),
              absl::StatusCode::kNotFound)
        << path;
  }
  EXPECT_EQ(ParseRestPath("/r1/JP/MUNI/131016/../openapi.json", /*openapi=*/true).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ParseRestPath, MethodSegmentWithDotIsNotFound) {
  auto target = ParseRestPath(
      "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/Get.Resident",
      /*openapi=*/false);
  EXPECT_EQ(target.status().code(), absl::StatusCode::kNotFound);
}

TEST(ParseRestPath, ServiceSegmentWithoutPackageIsNotFound) {
  auto target =
      ParseRestPath("/r1/JP/MUNI/131016/resident-registry/ResidentRegistry/GetResident",
                    /*openapi=*/false);
  EXPECT_EQ(target.status().code(), absl::StatusCode::kNotFound);
}

TEST(ParseRestPath, PathOutsideR1IsNotFound) {
  for (const char* path : {
           "/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident",
           "r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident",
           "/r2/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident",
           "/R1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident",
           "/renkei.municipal.v1.ResidentRegistry/GetResident",
           "/r1",
           "",
       }) {
    EXPECT_EQ(ParseRestPath(path, /*openapi=*/false).status().code(),
              absl::StatusCode::kNotFound)
        << path;
    EXPECT_EQ(ParseRestPath(path, /*openapi=*/true).status().code(), absl::StatusCode::kNotFound)
        << path;
  }
  EXPECT_EQ(ParseRestPath("/JP/MUNI/131016/resident-registry/openapi.json", /*openapi=*/true)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

// ParseRestTimeout

TEST(ParseRestTimeout, AcceptsEachGrpcUnit) {
  EXPECT_EQ(*ParseRestTimeout("5S"), absl::Seconds(5));
  EXPECT_EQ(*ParseRestTimeout("500m"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseRestTimeout("1H"), absl::Hours(1));
  EXPECT_EQ(*ParseRestTimeout("2M"), absl::Minutes(2));
  EXPECT_EQ(*ParseRestTimeout("750u"), absl::Microseconds(750));
  EXPECT_EQ(*ParseRestTimeout("0S"), absl::ZeroDuration());
  EXPECT_EQ(*ParseRestTimeout("99999999n"), absl::Nanoseconds(99999999));
  EXPECT_EQ(*ParseRestTimeout("99999999H"), absl::Hours(99999999));
  EXPECT_EQ(*ParseRestTimeout("007S"), absl::Seconds(7));
}

TEST(ParseRestTimeout, RefusesWhatIsNotDigitsAndAUnit) {
  for (const char* value : {
           "",
           "S",
           "5",           // no unit
           "5s",          // 's' is no unit (gRPC's units are H M S m u n)
           "5ms",
           "5h",
           "-5S",
           "+5S",
           " 5S",
           "5S ",
           "123456789S",  // 9 digits
           "1.5S",
           "0x5S",
           "99999999",
       }) {
    EXPECT_EQ(ParseRestTimeout(value).status().code(), absl::StatusCode::kInvalidArgument)
        << "\"" << value << "\"";
  }
}

// absl::SimpleAtoi skips whitespace around a number; the header's grammar has none.
TEST(ParseRestTimeout, RefusesWhitespaceBeforeTheUnit) {
  for (const char* value : {"5 S", "5\tS", "5\nS", "1 m"}) {
    EXPECT_EQ(ParseRestTimeout(value).status().code(), absl::StatusCode::kInvalidArgument)
        << "\"" << value << "\"";
  }
}

TEST(ParseRestTimeout, ErrorShowsAnExample) {
  EXPECT_THAT(std::string(ParseRestTimeout("5s").status().message()), HasSubstr("5S"));
  EXPECT_THAT(std::string(ParseRestTimeout("").status().message()), HasSubstr("5S"));
}

// RestLocalCall

TEST(RestLocalCall, ServiceComesFromThePathAlone) {
  RestTarget target{kService, kGetResident};
  const std::multimap<std::string, std::string> headers = {
      {"Renkei-Service", "JP/GOV/MHLW/child-allowance"},
      {"renkei-service", "JP/MUNI/999999/resident-registry"},
      {"RENKEI-SERVICE", "JP/MUNI/999999/other"},
  };
  LocalCall call = RestLocalCall(target, headers, LocalCaller());
  EXPECT_THAT(call.metadata, UnorderedElementsAre(Pair(kServiceKey, kService)));
}

TEST(RestLocalCall, TakesTheExchangeHeadersInAnyCase) {
  RestTarget target{kService, kGetResident};
  const std::multimap<std::string, std::string> headers = {
      {"Renkei-Client", kClient},
      {"RENKEI-PURPOSE", "child allowance check"},
      {"renkei-user", "official-17"},
      {"rEnKeI-sUbJeCt", "131016-0001"},
  };
  LocalCaller caller;
  caller.tls = true;
  caller.certificate_sha256 = "ab12";
  caller.peer_address = "ipv4:127.0.0.1:5000";
  LocalCall call = RestLocalCall(target, headers, caller);
  EXPECT_EQ(call.method, kGetResident);
  EXPECT_TRUE(call.caller.tls);
  EXPECT_EQ(call.caller.certificate_sha256, "ab12");
  EXPECT_EQ(call.caller.peer_address, "ipv4:127.0.0.1:5000");
  EXPECT_EQ(call.payload, "");
  EXPECT_THAT(call.metadata,
              UnorderedElementsAre(Pair(kServiceKey, kService), Pair(kClientKey, kClient),
                                   Pair(kPurposeKey, "child allowance check"),
                                   Pair(kUserKey, "official-17"),
                                   Pair(kSubjectKey, "131016-0001")));
}

TEST(RestLocalCall, KeepsEveryRepeatedSubject) {
  RestTarget target{kService, kGetResident};
  const std::multimap<std::string, std::string> headers = {
      {"Renkei-Subject", "131016-0001"},
      {"Renkei-Subject", "131016-0002"},
      {"renkei-subject", "131016-0003"},
  };
  LocalCall call = RestLocalCall(target, headers, LocalCaller());
  EXPECT_THAT(call.metadata,
              UnorderedElementsAre(Pair(kServiceKey, kService), Pair(kSubjectKey, "131016-0001"),
                                   Pair(kSubjectKey, "131016-0002"),
                                   Pair(kSubjectKey, "131016-0003")));
}

TEST(RestLocalCall, DropsUnrelatedHeaders) {
  RestTarget target{kService, kGetResident};
  const std::multimap<std::string, std::string> headers = {
      {"Content-Type", "application/json"},
      {"Authorization", "Bearer secret"},
      {"Host", "127.0.0.1:7080"},
      {"Renkei-Timeout", "5S"},
      {"Renkei-Message-Id", "0123456789abcdef0123456789abcdef"},
      {"Renkei-Client-X", kClient},
      {"X-Renkei-Client", kClient},
      {"renkei-client ", kClient},
      {"grpc-timeout", "1S"},
  };
  LocalCall call = RestLocalCall(target, headers, LocalCaller());
  EXPECT_THAT(call.metadata, UnorderedElementsAre(Pair(kServiceKey, kService)));
}

// Transcoding, with the municipal registry's schema as a provider would sign it

void AddWithDependencies(const FileDescriptor& file, std::set<std::string>& added,
                         google::protobuf::FileDescriptorSet& files) {
  if (!added.insert(file.name()).second) return;
  for (int i = 0; i < file.dependency_count(); ++i) {
    AddWithDependencies(*file.dependency(i), added, files);
  }
  file.CopyTo(files.add_file());
}

v1::ServiceSchema RegistrySchema() {
  v1::ServiceSchema schema;
  schema.set_service(kService);
  schema.set_client(kClient);
  schema.set_configuration_version(1);
  std::set<std::string> added;
  AddWithDependencies(*municipal::v1::GetResidentRequest::descriptor()->file(), added,
                      *schema.mutable_files());
  schema.add_methods(kGetResident);
  schema.add_methods(kGetCertificate);
  schema.add_allowed_methods(kGetResident);
  return schema;
}

class TranscodingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto view = ServiceSchemaView::Create(RegistrySchema());
    ASSERT_TRUE(view.ok()) << view.status();
    schema_ = *std::move(view);
    auto get_resident = schema_->FindMethod(kGetResident);
    ASSERT_TRUE(get_resident.ok()) << get_resident.status();
    get_resident_ = *get_resident;
    auto get_certificate = schema_->FindMethod(kGetCertificate);
    ASSERT_TRUE(get_certificate.ok()) << get_certificate.status();
    get_certificate_ = *get_certificate;
  }

  absl::StatusOr<std::string> ToRequest(absl::string_view json) {
    return JsonToRequest(*schema_, *get_resident_, json);
  }

  std::shared_ptr<const ServiceSchemaView> schema_;
  const MethodDescriptor* get_resident_ = nullptr;
  const MethodDescriptor* get_certificate_ = nullptr;
};

TEST_F(TranscodingTest, SchemaViewDescribesTheService) {
  EXPECT_EQ(schema_->service(), kService);
  EXPECT_EQ(schema_->client(), kClient);
  EXPECT_TRUE(schema_->FindMethod(kGetResident).ok());
  EXPECT_TRUE(schema_->FindMethod(kGetCertificate).ok());
  EXPECT_TRUE(schema_->Allows(kGetResident));
  EXPECT_FALSE(schema_->Allows(kGetCertificate));
  EXPECT_EQ(get_resident_->input_type()->full_name(), "renkei.municipal.v1.GetResidentRequest");
  EXPECT_EQ(get_certificate_->output_type()->full_name(),
            "renkei.municipal.v1.ResidenceCertificate");
  // The view's own pool, not the generated one: the descriptors came from the provider.
  EXPECT_NE(get_resident_->file(), municipal::v1::GetResidentRequest::descriptor()->file());
}

TEST_F(TranscodingTest, JsonBecomesTheRequestMessage) {
  auto bytes = ToRequest(R"({"residentCode": "131016-0001"})");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  municipal::v1::GetResidentRequest request;
  ASSERT_TRUE(request.ParseFromString(*bytes));
  EXPECT_EQ(request.resident_code(), "131016-0001");
}

TEST_F(TranscodingTest, ProtoFieldNamesAreAcceptedToo) {
  auto bytes = ToRequest(R"({"resident_code": "131016-0001"})");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  municipal::v1::GetResidentRequest request;
  ASSERT_TRUE(request.ParseFromString(*bytes));
  EXPECT_EQ(request.resident_code(), "131016-0001");
}

TEST_F(TranscodingTest, EmptyObjectIsTheEmptyRequest) {
  auto bytes = ToRequest("{}");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, "");
}

TEST_F(TranscodingTest, UnknownFieldIsRefusedByName) {
  auto bytes = ToRequest(R"({"residentCode": "131016-0001", "myNumber": "123456789012"})");
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bytes.status().message()), HasSubstr("myNumber"));
  EXPECT_THAT(std::string(bytes.status().message()),
              HasSubstr("renkei.municipal.v1.GetResidentRequest"));
}

TEST_F(TranscodingTest, WrongTypeIsRefused) {
  for (const char* json : {
           R"({"residentCode": {"nested": 1}})",
           R"({"residentCode": ["131016-0001"]})",
           R"({"residentCode": true})",
       }) {
    EXPECT_EQ(ToRequest(json).status().code(), absl::StatusCode::kInvalidArgument) << json;
  }
  // An enum given as an object.
  EXPECT_EQ(JsonToRequest(*schema_, *get_certificate_, R"({"rendering": {"TEXT": 1}})")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TranscodingTest, MalformedJsonIsRefusedWithoutQuotingTheBody) {
  for (const char* json : {
           R"({"residentCode": "131016-0001")",
           R"({"residentCode" "131016-0001"})",
           R"({"residentCode": "131016-0001"}})",
           "{\"residentCode\": \"131016-0001\"}\n{\"secret\": \"line two\"}",
           "{\n\"residentCode\":\n\"131016-0001\"\n\n\n",
           "",
           "not json",
       }) {
    auto bytes = ToRequest(json);
    EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument) << json;
    // One line: the rest of the body stays out of answers and logs.
    EXPECT_THAT(std::string(bytes.status().message()), Not(HasSubstr("\n"))) << json;
    EXPECT_THAT(std::string(bytes.status().message()), Not(HasSubstr("line two"))) << json;
  }
}

TEST_F(TranscodingTest, TopLevelMustBeAnObject) {
  for (const char* json : {R"(["131016-0001"])", R"("131016-0001")", "5", "true", "[]"}) {
    EXPECT_EQ(ToRequest(json).status().code(), absl::StatusCode::kInvalidArgument) << json;
  }
}

TEST_F(TranscodingTest, EnumByNameOrNumber) {
  auto by_name =
      JsonToRequest(*schema_, *get_certificate_,
                    R"({"residentCode": "131016-0001", "rendering": "SCAN_LOW"})");
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  municipal::v1::GetResidenceCertificateRequest request;
  ASSERT_TRUE(request.ParseFromString(*by_name));
  EXPECT_EQ(request.rendering(), municipal::v1::GetResidenceCertificateRequest::SCAN_LOW);

  auto by_number = JsonToRequest(*schema_, *get_certificate_, R"({"rendering": 1})");
  ASSERT_TRUE(by_number.ok()) << by_number.status();
  ASSERT_TRUE(request.ParseFromString(*by_number));
  EXPECT_EQ(request.rendering(), municipal::v1::GetResidenceCertificateRequest::TEXT);
}

TEST_F(TranscodingTest, UnknownEnumNameIsRefused) {
  auto bytes = JsonToRequest(*schema_, *get_certificate_, R"({"rendering": "SCAN_ULTRA"})");
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TranscodingTest, VariantKanjiInTheRequestCrossByteExact) {
  auto bytes = ToRequest(absl::StrCat(R"({"residentCode": ")", kVariantTsuji, R"("})"));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  municipal::v1::GetResidentRequest request;
  ASSERT_TRUE(request.ParseFromString(*bytes));
  EXPECT_EQ(request.resident_code(), kVariantTsuji);
}

TEST_F(TranscodingTest, ResponseBecomesJsonLeavingOutDefaults) {
  municipal::v1::GetResidentResponse response;
  response.mutable_resident()->set_resident_code("131016-0001");
  response.mutable_resident()->mutable_birth_date()->set_year(2015);
  auto json = ResponseToJson(*schema_, *get_resident_, response.SerializeAsString());
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr(R"("residentCode":"131016-0001")"));
  EXPECT_THAT(*json, HasSubstr(R"("year":2015)"));
  // Fields at their defaults are left out (the proto3 JSON mapping's default): printing them
  // would let a schema of wide messages blow a small answer up without bound.
  EXPECT_THAT(*json, Not(HasSubstr("givenNameKana")));
  EXPECT_THAT(*json, Not(HasSubstr("month")));
  municipal::v1::GetResidentResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &parsed).ok()) << *json;
  EXPECT_EQ(parsed.SerializeAsString(), response.SerializeAsString());
}

TEST_F(TranscodingTest, VariantKanjiInTheResponseComeBackByteExact) {
  municipal::v1::GetResidentResponse response;
  response.mutable_resident()->set_family_name_kanji(kVariantTsuji);
  response.mutable_resident()->add_household()->set_name_kanji(
      absl::StrCat(kVariantTsuji, "\xE5\xA4\xAA\xE9\x83\x8E"));  // 辻󠄀太郎
  auto json = ResponseToJson(*schema_, *get_resident_, response.SerializeAsString());
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr(absl::StrCat(R"("familyNameKanji":")", kVariantTsuji, "\"")));
  EXPECT_THAT(*json, HasSubstr(absl::StrCat(R"("nameKanji":")", kVariantTsuji,
                                            "\xE5\xA4\xAA\xE9\x83\x8E\"")));
}

TEST_F(TranscodingTest, BytesFieldIsBase64AndRoundTrips) {
  municipal::v1::ResidenceCertificate certificate;
  certificate.set_resident_code("131016-0001");
  certificate.set_media_type("image/png");
  std::string document;
  for (int i = 0; i < 256; ++i) document.push_back(static_cast<char>(i));
  certificate.set_document(document);
  auto json = ResponseToJson(*schema_, *get_certificate_, certificate.SerializeAsString());
  ASSERT_TRUE(json.ok()) << json.status();
  municipal::v1::ResidenceCertificate parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &parsed).ok()) << *json;
  EXPECT_EQ(parsed.document(), document);

  certificate.set_document(std::string("\x00\xFF\xFE", 3));
  json = ResponseToJson(*schema_, *get_certificate_, certificate.SerializeAsString());
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr(R"("document":"AP/+")"));
}

TEST_F(TranscodingTest, ResponseThatDoesNotParseIsDataLoss) {
  // A length beyond the end; a bad tag; a string field of invalid UTF-8 (proto3).
  for (const std::string& payload : {std::string("\x0A\x05" "ab", 4), std::string("\xFF\xFF", 2),
                                     std::string("\x0A\x03\x0A\x01\xFF", 5)}) {
    auto json = ResponseToJson(*schema_, *get_resident_, payload);
    EXPECT_EQ(json.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(json.status().message()),
                HasSubstr("renkei.municipal.v1.GetResidentResponse"));
  }
}

TEST_F(TranscodingTest, EmptyResponseIsTheEmptyMessage) {
  auto json = ResponseToJson(*schema_, *get_certificate_, "");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, "{}");
}

TEST_F(TranscodingTest, FindMethodRefusesWhatIsNotOffered) {
  for (const char* method : {
           "/renkei.municipal.v1.ResidentRegistry/DeleteResident",
           "/renkei.municipal.v1.ChildAllowance/CheckEligibility",
           "/renkei.municipal.v1.ResidentRegistry/",
           "GetResident",
           "",
       }) {
    EXPECT_EQ(schema_->FindMethod(method).status().code(), absl::StatusCode::kNotFound) << method;
  }
}

// A service of the three kinds of streaming method and a unary one, as a provider might offer.
constexpr char kStreamingFile[] = R"pb(
  name: "test/streaming.proto"
  package: "test.v1"
  syntax: "proto3"
  message_type {
    name: "Ping"
    field { name: "text" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "text" }
  }
  service {
    name: "Streamer"
    method { name: "Watch" input_type: ".test.v1.Ping" output_type: ".test.v1.Ping"
             server_streaming: true }
    method { name: "Upload" input_type: ".test.v1.Ping" output_type: ".test.v1.Ping"
             client_streaming: true }
    method { name: "Chat" input_type: ".test.v1.Ping" output_type: ".test.v1.Ping"
             client_streaming: true server_streaming: true }
    method { name: "Echo" input_type: ".test.v1.Ping" output_type: ".test.v1.Ping" }
  }
)pb";

TEST(ServiceSchemaView, StreamingMethodIsUnimplemented) {
  v1::ServiceSchema schema;
  schema.set_service(kService);
  schema.set_client(kClient);
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kStreamingFile,
                                                            schema.mutable_files()->add_file()));
  for (const char* method : {"/test.v1.Streamer/Watch", "/test.v1.Streamer/Upload",
                             "/test.v1.Streamer/Chat", "/test.v1.Streamer/Echo"}) {
    schema.add_methods(method);
  }
  auto view = ServiceSchemaView::Create(schema);
  ASSERT_TRUE(view.ok()) << view.status();
  for (const char* method :
       {"/test.v1.Streamer/Watch", "/test.v1.Streamer/Upload", "/test.v1.Streamer/Chat"}) {
    auto found = (*view)->FindMethod(method);
    EXPECT_EQ(found.status().code(), absl::StatusCode::kUnimplemented) << method;
    EXPECT_THAT(std::string(found.status().message()), HasSubstr("streaming")) << method;
  }
  auto echo = (*view)->FindMethod("/test.v1.Streamer/Echo");
  ASSERT_TRUE(echo.ok()) << echo.status();
  auto bytes = JsonToRequest(**view, **echo, R"({"text": "hello"})");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, "\x0A\x05hello");
  auto json = ResponseToJson(**view, **echo, *bytes);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"text":"hello"})");
}

// Packed numbers, a proto2 string and a group: what the JSON printer would print made-up
// values for, or drop, instead of failing.
constexpr char kPackedFile[] = R"pb(
  name: "test/v1/packed.proto"
  package: "test.v1"
  message_type {
    name: "Numbers"
    field { name: "v" number: 1 label: LABEL_REPEATED type: TYPE_INT32 json_name: "v" }
    field { name: "f" number: 2 label: LABEL_REPEATED type: TYPE_FIXED32 json_name: "f" }
    field { name: "s" number: 3 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "s" }
    field { name: "g" number: 4 label: LABEL_OPTIONAL type: TYPE_GROUP type_name: ".test.v1.Numbers.G" json_name: "g" }
    nested_type { name: "G" field { name: "x" number: 5 label: LABEL_OPTIONAL type: TYPE_INT32 json_name: "x" } }
  }
  message_type { name: "Plain" field { name: "v" number: 1 label: LABEL_REPEATED type: TYPE_INT32 json_name: "v" } field { name: "f" number: 2 label: LABEL_REPEATED type: TYPE_FIXED32 json_name: "f" } field { name: "s" number: 3 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "s" } }
  service {
    name: "Numbered"
    method { name: "Get" input_type: ".test.v1.Plain" output_type: ".test.v1.Plain" }
    method { name: "Grouped" input_type: ".test.v1.Plain" output_type: ".test.v1.Numbers" }
  }
  syntax: "proto2"
)pb";

TEST(ServiceSchemaView, MalformedPackedValuesAndNonUtf8StringsAreDataLossAndGroupsUnimplemented) {
  v1::ServiceSchema schema;
  schema.set_service(kService);
  schema.set_client(kClient);
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kPackedFile,
                                                            schema.mutable_files()->add_file()));
  schema.add_methods("/test.v1.Numbered/Get");
  schema.add_methods("/test.v1.Numbered/Grouped");
  auto view = ServiceSchemaView::Create(schema);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->FindMethod("/test.v1.Numbered/Grouped").status().code(),
            absl::StatusCode::kUnimplemented);
  auto get = (*view)->FindMethod("/test.v1.Numbered/Get");
  ASSERT_TRUE(get.ok()) << get.status();
  auto fine = ResponseToJson(**view, **get, std::string("\x0A\x02\x01\x02", 4));
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(*fine, R"({"v":[1,2]})");
  for (const std::string& payload : {
           std::string("\x0A\x02\x01\xFF", 4),         // a packed varint cut short
           std::string("\x12\x03\x01\x02\x03", 5),    // packed fixed32 of 3 bytes
           std::string("\x1A\x01\xFF", 3)}) {           // a proto2 string that is not UTF-8
    EXPECT_EQ(ResponseToJson(**view, **get, payload).status().code(),
              absl::StatusCode::kDataLoss);
  }
}

// HttpStatusOf, RestErrorBody

TEST(HttpStatusOf, MapsEveryGrpcCode) {
  const std::map<absl::StatusCode, int> expected = {
      {absl::StatusCode::kOk, 200},
      {absl::StatusCode::kCancelled, 499},
      {absl::StatusCode::kUnknown, 500},
      {absl::StatusCode::kInvalidArgument, 400},
      {absl::StatusCode::kDeadlineExceeded, 504},
      {absl::StatusCode::kNotFound, 404},
      {absl::StatusCode::kAlreadyExists, 409},
      {absl::StatusCode::kPermissionDenied, 403},
      {absl::StatusCode::kResourceExhausted, 429},
      {absl::StatusCode::kFailedPrecondition, 400},
      {absl::StatusCode::kAborted, 409},
      {absl::StatusCode::kOutOfRange, 400},
      {absl::StatusCode::kUnimplemented, 501},
      {absl::StatusCode::kInternal, 500},
      {absl::StatusCode::kUnavailable, 503},
      {absl::StatusCode::kDataLoss, 500},
      {absl::StatusCode::kUnauthenticated, 401},
  };
  ASSERT_EQ(expected.size(), 17u);
  for (int code = 0; code <= 16; ++code) {
    const auto status_code = static_cast<absl::StatusCode>(code);
    ASSERT_EQ(expected.count(status_code), 1u) << code;
    EXPECT_EQ(HttpStatusOf(status_code), expected.at(status_code))
        << absl::StatusCodeToString(status_code);
  }
}

TEST(HttpStatusOf, CodeOutsideTheEnumIsInternal) {
  EXPECT_EQ(HttpStatusOf(static_cast<absl::StatusCode>(17)), 500);
  EXPECT_EQ(HttpStatusOf(static_cast<absl::StatusCode>(-1)), 500);
}

// The body parsed back, as the JSON object it must be.
google::protobuf::Struct ParsedBody(const std::string& body) {
  google::protobuf::Struct parsed;
  auto status = google::protobuf::util::JsonStringToMessage(body, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << body;
  return parsed;
}

std::string Field(const google::protobuf::Struct& object, const std::string& name) {
  auto found = object.fields().find(name);
  return found == object.fields().end() ? "<missing>" : found->second.string_value();
}

TEST(RestErrorBody, NamesCodeMessageAndMessageId) {
  const std::string body = RestErrorBody(absl::PermissionDeniedError("not allowed"),
                                         "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(body,
            R"({"code":"PERMISSION_DENIED","message":"not allowed",)"
            R"("message_id":"0123456789abcdef0123456789abcdef"})");
  google::protobuf::Struct parsed = ParsedBody(body);
  EXPECT_EQ(parsed.fields_size(), 3);
  EXPECT_EQ(Field(parsed, "code"), "PERMISSION_DENIED");
  EXPECT_EQ(Field(parsed, "message"), "not allowed");
  EXPECT_EQ(Field(parsed, "message_id"), "0123456789abcdef0123456789abcdef");
}

TEST(RestErrorBody, EscapesWhatJsonStringsCannotHold) {
  const std::string message = "say \"no\" \\ back\nslash\r\ttab\x01\x1F end";
  const std::string body = RestErrorBody(absl::InvalidArgumentError(message), "id\"\n");
  EXPECT_EQ(body,
            "{\"code\":\"INVALID_ARGUMENT\",\"message\":\"say \\\"no\\\" \\\\ back\\nslash"
            "\\r\\ttab\\u0001\\u001f end\",\"message_id\":\"id\\\"\\n\"}");
  google::protobuf::Struct parsed = ParsedBody(body);
  EXPECT_EQ(Field(parsed, "code"), "INVALID_ARGUMENT");
  EXPECT_EQ(Field(parsed, "message"), message);
  EXPECT_EQ(Field(parsed, "message_id"), "id\"\n");
}

TEST(RestErrorBody, EveryControlCharacterRoundTrips) {
  std::string message;
  for (int c = 0; c < 0x20; ++c) message.push_back(static_cast<char>(c));
  message += "\x7F";
  const std::string body = RestErrorBody(absl::InternalError(message), "");
  EXPECT_THAT(body, HasSubstr("\\u0000"));
  for (char c : body) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << body;
  google::protobuf::Struct parsed = ParsedBody(body);
  EXPECT_EQ(Field(parsed, "message"), message);
  EXPECT_EQ(Field(parsed, "message_id"), "");
}

TEST(RestErrorBody, Utf8PassesThroughUnchanged) {
  const std::string message = absl::StrCat("氏名 ", kVariantTsuji, " は登録されていません");
  const std::string body = RestErrorBody(absl::NotFoundError(message), "m");
  EXPECT_THAT(body, HasSubstr(message));
  EXPECT_EQ(Field(ParsedBody(body), "message"), message);
}

TEST(RestErrorBody, BytesThatAreNotUtf8BecomeReplacementCharactersAndItIsStillJson) {
  // A lone continuation byte, a cut sequence, an overlong '/', a surrogate: from a hostile
  // provider's status message, say.
  const std::string message("a\x80" "b\xE8\xBE" "c\xC0\xAF" "d\xED\xA0\x80" "e", 13);
  const std::string body = RestErrorBody(absl::UnknownError(message), "");
  EXPECT_EQ(Field(ParsedBody(body), "message").find('a'), 0u);
  EXPECT_THAT(body, HasSubstr("a\\ufffdb"));
}

TEST(RestErrorBody, LongMessagesAreCut) {
  const std::string body = RestErrorBody(absl::UnknownError(std::string(100000, 'x')), "");
  EXPECT_LT(body.size(), 3000u);
  EXPECT_THAT(Field(ParsedBody(body), "message"), ::testing::EndsWith("[...]"));
}

}  // namespace
}  // namespace renkei
