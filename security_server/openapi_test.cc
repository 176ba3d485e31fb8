#include "security_server/openapi.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "municipal/v1/resident_registry.pb.h"

namespace renkei {
namespace {

using ::google::protobuf::DescriptorPool;
using ::google::protobuf::FileDescriptorProto;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

constexpr char kService[] = "JP/MUNI/131016/resident-registry";
constexpr char kGetResident[] = "/renkei.municipal.v1.ResidentRegistry/GetResident";
constexpr char kGetResidentPath[] =
    "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident";
constexpr char kGetCertificatePath[] =
    "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/"
    "GetResidenceCertificate";

OpenApiInput RegistryInput(std::vector<std::string> methods) {
  // Links resident_registry.pb.cc, which registers the file in the generated pool.
  (void)renkei::municipal::v1::GetResidentRequest::descriptor();
  OpenApiInput input;
  input.service = kService;
  input.client = "JP/GOV/MHLW/child-allowance";
  input.configuration_version = 7;
  input.pool = DescriptorPool::generated_pool();
  input.methods = std::move(methods);
  return input;
}

// The document parsed back, as the JSON object it must be.
Value Parsed(const std::string& json) {
  Value document;
  auto status = google::protobuf::util::JsonStringToMessage(json, document.mutable_struct_value());
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return document;
}

// The member at `path` below `root`; a Value with no kind when a step is missing.
Value At(const Value& root, const std::vector<std::string>& path) {
  Value node = root;
  for (const std::string& key : path) {
    const auto& fields = node.struct_value().fields();
    auto found = fields.find(key);
    if (found == fields.end()) return Value();
    Value next = found->second;
    node = std::move(next);
  }
  return node;
}

std::vector<std::string> Keys(const Value& object) {
  std::vector<std::string> keys;
  for (const auto& [key, member] : object.struct_value().fields()) keys.push_back(key);
  return keys;
}

std::vector<std::string> Texts(const Value& list) {
  std::vector<std::string> texts;
  for (const Value& item : list.list_value().values()) texts.push_back(item.string_value());
  return texts;
}

std::string SchemaRef(const std::string& name) { return "#/components/schemas/" + name; }

TEST(OpenApi, DescribesOnlyTheMethodsGiven) {
  auto json = OpenApiDocument(RegistryInput({kGetResident}));
  ASSERT_TRUE(json.ok()) << json.status();
  Value document = Parsed(*json);

  EXPECT_EQ(At(document, {"openapi"}).string_value(), "3.0.3");
  EXPECT_THAT(Keys(At(document, {"paths"})), ElementsAre(kGetResidentPath));
  EXPECT_THAT(*json, Not(HasSubstr("GetResidenceCertificate")));
  EXPECT_THAT(
      Keys(At(document, {"components", "schemas"})),
      UnorderedElementsAre("Error", "renkei.municipal.v1.GetResidentRequest",
                           "renkei.municipal.v1.GetResidentResponse",
                           "renkei.municipal.v1.Resident", "renkei.municipal.v1.Date",
                           "renkei.municipal.v1.Address", "renkei.municipal.v1.HouseholdMember"));
}

TEST(OpenApi, NamesServiceVersionAndClientInInfo) {
  auto json = OpenApiDocument(RegistryInput({kGetResident}));
  ASSERT_TRUE(json.ok()) << json.status();
  Value info = At(Parsed(*json), {"info"});
  EXPECT_THAT(At(info, {"title"}).string_value(), HasSubstr(kService));
  EXPECT_EQ(At(info, {"version"}).string_value(), "7");
  EXPECT_THAT(At(info, {"description"}).string_value(), HasSubstr("JP/GOV/MHLW/child-allowance"));
  EXPECT_THAT(At(info, {"description"}).string_value(), HasSubstr("security server"));
}

TEST(OpenApi, OperationTakesRenkeiHeadersAndAnswersWithMessageId) {
  auto json = OpenApiDocument(RegistryInput({kGetResident}));
  ASSERT_TRUE(json.ok()) << json.status();
  Value document = Parsed(*json);
  Value post = At(document, {"paths", kGetResidentPath, "post"});

  EXPECT_EQ(At(post, {"operationId"}).string_value(), "ResidentRegistry_GetResident");
  EXPECT_EQ(
      At(post, {"requestBody", "content", "application/json", "schema", "$ref"}).string_value(),
      SchemaRef("renkei.municipal.v1.GetResidentRequest"));
  Value answer = At(post, {"responses", "200"});
  EXPECT_EQ(At(answer, {"content", "application/json", "schema", "$ref"}).string_value(),
            SchemaRef("renkei.municipal.v1.GetResidentResponse"));
  EXPECT_EQ(At(answer, {"headers", "Renkei-Message-Id", "schema", "type"}).string_value(),
            "string");
  EXPECT_EQ(At(post, {"responses", "default", "content", "application/json", "schema", "$ref"})
                .string_value(),
            SchemaRef("Error"));
  EXPECT_THAT(Keys(At(document, {"components", "schemas", "Error", "properties"})),
              UnorderedElementsAre("code", "message", "message_id"));

  const std::string prefix = "#/components/parameters/";
  std::vector<std::string> headers;
  Value parameters = At(post, {"parameters"});
  for (const Value& reference : parameters.list_value().values()) {
    std::string ref = At(reference, {"$ref"}).string_value();
    ASSERT_THAT(ref, StartsWith(prefix));
    Value parameter = At(document, {"components", "parameters", ref.substr(prefix.size())});
    EXPECT_EQ(At(parameter, {"in"}).string_value(), "header");
    headers.push_back(At(parameter, {"name"}).string_value() +
                      (At(parameter, {"required"}).bool_value() ? " required" : " optional"));
  }
  EXPECT_THAT(headers, ElementsAre("Renkei-Client required", "Renkei-Subject required",
                                   "Renkei-Purpose required", "Renkei-User optional",
                                   "Renkei-Timeout optional"));
  EXPECT_THAT(
      At(document, {"components", "parameters", "Renkei-Subject", "description"}).string_value(),
      HasSubstr("Repeat the header"));
}

TEST(OpenApi, SchemasFollowTheProto3JsonMapping) {
  auto json = OpenApiDocument(RegistryInput({kGetResident}));
  ASSERT_TRUE(json.ok()) << json.status();
  Value schemas = At(Parsed(*json), {"components", "schemas"});

  Value resident = At(schemas, {"renkei.municipal.v1.Resident", "properties"});
  EXPECT_THAT(
      Keys(resident),
      UnorderedElementsAre("residentCode", "familyNameKanji", "givenNameKanji", "familyNameKana",
                           "givenNameKana", "birthDate", "address", "householdId", "household"));
  EXPECT_EQ(At(resident, {"birthDate", "$ref"}).string_value(),
            SchemaRef("renkei.municipal.v1.Date"));
  EXPECT_EQ(At(resident, {"household", "type"}).string_value(), "array");
  EXPECT_EQ(At(resident, {"household", "items", "$ref"}).string_value(),
            SchemaRef("renkei.municipal.v1.HouseholdMember"));
  EXPECT_EQ(
      At(schemas, {"renkei.municipal.v1.Date", "properties", "year", "format"}).string_value(),
      "int32");

  Value relationship =
      At(schemas, {"renkei.municipal.v1.HouseholdMember", "properties", "relationship"});
  EXPECT_EQ(At(relationship, {"type"}).string_value(), "string");
  EXPECT_THAT(Texts(At(relationship, {"enum"})), ElementsAre("RELATIONSHIP_UNSPECIFIED", "HEAD",
                                                             "SPOUSE", "CHILD", "PARENT", "OTHER"));
}

TEST(OpenApi, BytesAndNestedEnumsOfTheCertificate) {
  auto json = OpenApiDocument(
      RegistryInput({"/renkei.municipal.v1.ResidentRegistry/GetResidenceCertificate"}));
  ASSERT_TRUE(json.ok()) << json.status();
  Value parsed = Parsed(*json);
  EXPECT_THAT(Keys(At(parsed, {"paths"})), ElementsAre(kGetCertificatePath));
  Value schemas = At(parsed, {"components", "schemas"});
  Value document =
      At(schemas, {"renkei.municipal.v1.ResidenceCertificate", "properties", "document"});
  EXPECT_EQ(At(document, {"type"}).string_value(), "string");
  EXPECT_EQ(At(document, {"format"}).string_value(), "byte");
  EXPECT_THAT(Texts(At(schemas, {"renkei.municipal.v1.GetResidenceCertificateRequest", "properties",
                                 "rendering", "enum"})),
              ElementsAre("RENDERING_UNSPECIFIED", "TEXT", "SCAN_LOW", "SCAN_HIGH"));
}

TEST(OpenApi, RefusesUnknownAndMalformedMethods) {
  for (const char* method :
       {"/renkei.municipal.v1.ResidentRegistry/Delete", "/renkei.municipal.v1.Nothing/GetResident",
        "renkei.municipal.v1.ResidentRegistry/GetResident", "/renkei.municipal.v1.ResidentRegistry",
        "/renkei.municipal.v1/ResidentRegistry.GetResident"}) {
    auto json = OpenApiDocument(RegistryInput({kGetResident, method}));
    EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument) << method;
  }
  OpenApiInput no_pool = RegistryInput({kGetResident});
  no_pool.pool = nullptr;
  EXPECT_EQ(OpenApiDocument(no_pool).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(OpenApi, SameInputGivesSameBytes) {
  auto first = OpenApiDocument(RegistryInput({kGetResident, kGetResident}));
  auto second = OpenApiDocument(RegistryInput({kGetResident}));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
}

// A service built by hand, as a provider's reflection would hand it over: recursion, a map,
// repeated enums, bytes, 64-bit integers, oneofs and well-known types.
constexpr char kTreeProto[] = R"pb(
  name: "test/v1/tree.proto"
  package: "test.v1"
  dependency: "google/protobuf/timestamp.proto"
  dependency: "google/protobuf/wrappers.proto"
  dependency: "google/protobuf/empty.proto"
  syntax: "proto3"
  enum_type {
    name: "Color"
    value { name: "COLOR_UNSPECIFIED" number: 0 }
    value { name: "RED" number: 1 }
    value { name: "GREEN" number: 2 }
  }
  message_type {
    name: "Node"
    field { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 }
    field {
      name: "children"
      number: 2
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".test.v1.Node"
    }
    field {
      name: "parent"
      number: 3
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".test.v1.Node"
    }
    field {
      name: "by_name"
      number: 4
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".test.v1.Node.ByNameEntry"
    }
    field {
      name: "colors"
      number: 5
      label: LABEL_REPEATED
      type: TYPE_ENUM
      type_name: ".test.v1.Color"
    }
    field { name: "digest" number: 6 label: LABEL_OPTIONAL type: TYPE_BYTES }
    field {
      name: "created_at"
      number: 7
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Timestamp"
    }
    field { name: "size" number: 8 label: LABEL_OPTIONAL type: TYPE_UINT64 }
    field { name: "count" number: 9 label: LABEL_OPTIONAL type: TYPE_UINT32 }
    field {
      name: "limit"
      number: 10
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Int32Value"
    }
    field { name: "label" number: 11 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 }
    field { name: "rank" number: 12 label: LABEL_OPTIONAL type: TYPE_SINT32 oneof_index: 0 }
    field {
      name: "note"
      number: 13
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      oneof_index: 1
      proto3_optional: true
    }
    field {
      name: "by_id"
      number: 14
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".test.v1.Node.ByIdEntry"
    }
    nested_type {
      name: "ByNameEntry"
      options { map_entry: true }
      field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
      field {
        name: "value"
        number: 2
        label: LABEL_OPTIONAL
        type: TYPE_MESSAGE
        type_name: ".test.v1.Node"
      }
    }
    nested_type {
      name: "ByIdEntry"
      options { map_entry: true }
      field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_FIXED64 }
      field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_DOUBLE }
    }
    oneof_decl { name: "choice" }
    oneof_decl { name: "_note" }
  }
  service {
    name: "Trees"
    method { name: "GetNode" input_type: ".test.v1.Node" output_type: ".test.v1.Node" }
    method {
      name: "Ping"
      input_type: ".google.protobuf.Empty"
      output_type: ".google.protobuf.Empty"
    }
    method {
      name: "Watch"
      input_type: ".test.v1.Node"
      output_type: ".test.v1.Node"
      server_streaming: true
    }
  }
)pb";

class HandBuiltPool : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto* file : {google::protobuf::Timestamp::descriptor()->file(),
                             google::protobuf::Int32Value::descriptor()->file(),
                             google::protobuf::Empty::descriptor()->file()}) {
      FileDescriptorProto proto;
      file->CopyTo(&proto);
      ASSERT_NE(pool_.BuildFile(proto), nullptr) << proto.name();
    }
    FileDescriptorProto tree;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kTreeProto, &tree));
    ASSERT_NE(pool_.BuildFile(tree), nullptr);
  }

  OpenApiInput Input(std::vector<std::string> methods) {
    OpenApiInput input;
    input.service = "JP/TEST/1/trees";
    input.configuration_version = 3;
    input.pool = &pool_;
    input.methods = std::move(methods);
    return input;
  }

  DescriptorPool pool_;
};

TEST_F(HandBuiltPool, RecursiveMessageIsOneSchemaReferringToItself) {
  auto json = OpenApiDocument(Input({"/test.v1.Trees/GetNode"}));
  ASSERT_TRUE(json.ok()) << json.status();
  Value schemas = At(Parsed(*json), {"components", "schemas"});
  // Map entries and well-known types are written in place, not as components.
  EXPECT_THAT(Keys(schemas), UnorderedElementsAre("Error", "test.v1.Node"));

  Value node = At(schemas, {"test.v1.Node", "properties"});
  EXPECT_EQ(At(node, {"parent", "$ref"}).string_value(), SchemaRef("test.v1.Node"));
  EXPECT_EQ(At(node, {"children", "items", "$ref"}).string_value(), SchemaRef("test.v1.Node"));
  EXPECT_EQ(At(node, {"byName", "type"}).string_value(), "object");
  EXPECT_EQ(At(node, {"byName", "additionalProperties", "$ref"}).string_value(),
            SchemaRef("test.v1.Node"));
  EXPECT_EQ(At(node, {"byId", "additionalProperties", "format"}).string_value(), "double");
  EXPECT_THAT(At(node, {"byId", "description"}).string_value(), HasSubstr("fixed64"));
}

TEST_F(HandBuiltPool, FieldTypesMapAsTheJsonMappingPrintsThem) {
  auto json = OpenApiDocument(Input({"/test.v1.Trees/GetNode"}));
  ASSERT_TRUE(json.ok()) << json.status();
  Value node = At(Parsed(*json), {"components", "schemas", "test.v1.Node", "properties"});

  EXPECT_THAT(Keys(node), IsSupersetOf({"id", "createdAt", "byName", "note", "label", "rank"}));
  EXPECT_THAT(Keys(node), Not(Contains("created_at")));
  EXPECT_EQ(At(node, {"id", "type"}).string_value(), "string");
  EXPECT_EQ(At(node, {"id", "format"}).string_value(), "int64");
  EXPECT_EQ(At(node, {"size", "type"}).string_value(), "string");
  EXPECT_EQ(At(node, {"size", "format"}).string_value(), "uint64");
  EXPECT_EQ(At(node, {"count", "type"}).string_value(), "integer");
  EXPECT_EQ(At(node, {"count", "minimum"}).number_value(), 0);
  EXPECT_EQ(At(node, {"digest", "format"}).string_value(), "byte");
  EXPECT_EQ(At(node, {"colors", "type"}).string_value(), "array");
  EXPECT_THAT(Texts(At(node, {"colors", "items", "enum"})),
              ElementsAre("COLOR_UNSPECIFIED", "RED", "GREEN"));
  EXPECT_EQ(At(node, {"createdAt", "type"}).string_value(), "string");
  EXPECT_EQ(At(node, {"createdAt", "format"}).string_value(), "date-time");
  EXPECT_EQ(At(node, {"limit", "type"}).string_value(), "integer");
  EXPECT_TRUE(At(node, {"limit", "nullable"}).bool_value());
  EXPECT_EQ(At(node, {"rank", "format"}).string_value(), "int32");
  EXPECT_THAT(At(node, {"label", "description"}).string_value(), HasSubstr("oneof choice"));
  // Proto3 `optional` is a synthetic oneof, not one the caller has to choose in.
  EXPECT_EQ(At(node, {"note", "description"}).kind_case(), Value::KIND_NOT_SET);
}

TEST_F(HandBuiltPool, MessageListsEachOneofAndItsMembersOnce) {
  auto json = OpenApiDocument(Input({"/test.v1.Trees/GetNode"}));
  ASSERT_TRUE(json.ok()) << json.status();
  Value node = At(Parsed(*json), {"components", "schemas", "test.v1.Node"});
  const std::string description = At(node, {"description"}).string_value();
  EXPECT_THAT(description, HasSubstr("choice (label, rank)"));
  EXPECT_THAT(description, Not(HasSubstr("note")));
  // A member names its oneof, not the other members.
  EXPECT_THAT(At(node, {"properties", "label", "description"}).string_value(),
              Not(HasSubstr("rank")));
}

TEST_F(HandBuiltPool, WellKnownBodiesAreWrittenInPlace) {
  auto json = OpenApiDocument(Input({"/test.v1.Trees/Ping"}));
  ASSERT_TRUE(json.ok()) << json.status();
  Value post = At(Parsed(*json), {"paths", "/r1/JP/TEST/1/trees/test.v1.Trees/Ping", "post"});
  EXPECT_EQ(
      At(post, {"requestBody", "content", "application/json", "schema", "type"}).string_value(),
      "object");
  EXPECT_EQ(At(post, {"operationId"}).string_value(), "Trees_Ping");
}

TEST_F(HandBuiltPool, RefusesStreamingMethods) {
  auto json = OpenApiDocument(Input({"/test.v1.Trees/GetNode", "/test.v1.Trees/Watch"}));
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(json.status().message()), HasSubstr("streaming"));
}

// test.v1.Wide: `fields` string fields f0, f1, ... (in oneof `choice` when `in_oneof`), plus
// `enum_fields` fields of an enum of `enum_values` values; served by test.v1.Widths/Get.
std::unique_ptr<DescriptorPool> WidePool(int fields, bool in_oneof, int enum_fields = 0,
                                         int enum_values = 0) {
  FileDescriptorProto file;
  file.set_name("test/v1/wide.proto");
  file.set_package("test.v1");
  file.set_syntax("proto3");
  auto* message = file.add_message_type();
  message->set_name("Wide");
  if (in_oneof) message->add_oneof_decl()->set_name("choice");
  auto* values = file.add_enum_type();
  values->set_name("Many");
  for (int i = 0; i < std::max(enum_values, 1); ++i) {
    auto* value = values->add_value();
    value->set_name("MANY_" + std::to_string(i));
    value->set_number(i);
  }
  for (int i = 0; i < fields + enum_fields; ++i) {
    auto* field = message->add_field();
    field->set_number(i + 1 < 19000 ? i + 1 : i + 1001);  // 19000 to 19999 are reserved
    field->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
    if (i < fields) {
      field->set_name("f" + std::to_string(i));
      field->set_type(google::protobuf::FieldDescriptorProto::TYPE_STRING);
      if (in_oneof) field->set_oneof_index(0);
    } else {
      field->set_name("e" + std::to_string(i));
      field->set_type(google::protobuf::FieldDescriptorProto::TYPE_ENUM);
      field->set_type_name(".test.v1.Many");
    }
  }
  auto* service = file.add_service();
  service->set_name("Widths");
  auto* get = service->add_method();
  get->set_name("Get");
  get->set_input_type(".test.v1.Wide");
  get->set_output_type(".test.v1.Wide");
  auto pool = std::make_unique<DescriptorPool>();
  EXPECT_NE(pool->BuildFile(file), nullptr);
  return pool;
}

OpenApiInput WideInput(const DescriptorPool& pool) {
  OpenApiInput input;
  input.service = "JP/TEST/1/wide";
  input.pool = &pool;
  input.methods = {"/test.v1.Widths/Get"};
  return input;
}

// Each member once in the message's description, its oneof's name at each member: a oneof's
// size adds to the document, it does not multiply (12,000 members once made 1 GB).
TEST(OpenApiBounds, LargeOneofGrowsTheDocumentLinearly) {
  std::unique_ptr<DescriptorPool> pool = WidePool(3000, /*in_oneof=*/true);
  auto json = OpenApiDocument(WideInput(*pool));
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_LT(json->size(), 2u << 20);
  Value wide = At(Parsed(*json), {"components", "schemas", "test.v1.Wide"});
  EXPECT_THAT(At(wide, {"description"}).string_value(), HasSubstr("f0, f1, f2,"));
  EXPECT_THAT(At(wide, {"description"}).string_value(), HasSubstr("f2999)"));
  EXPECT_THAT(At(wide, {"properties", "f1500", "description"}).string_value(),
              HasSubstr("oneof choice"));
  EXPECT_EQ(Keys(At(wide, {"properties"})).size(), 3000u);
}

TEST(OpenApiBounds, RefusesADocumentOverTheBound) {
  // 1,000 fields of an enum of 2,000 values: each field lists the values, some 30 MB.
  std::unique_ptr<DescriptorPool> pool =
      WidePool(0, /*in_oneof=*/false, /*enum_fields=*/1000, /*enum_values=*/2000);
  auto json = OpenApiDocument(WideInput(*pool));
  EXPECT_EQ(json.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(json.status().message()), HasSubstr(std::to_string(kMaxOpenApiBytes)));

  // 250,000 fields: more than the bound in one component.
  pool = WidePool(250000, /*in_oneof=*/false);
  EXPECT_EQ(OpenApiDocument(WideInput(*pool)).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(OpenApiBounds, LargeDocumentUnderTheBoundIsServed) {
  // One field of an enum of 200,000 values: some 3 MB.
  std::unique_ptr<DescriptorPool> pool =
      WidePool(0, /*in_oneof=*/false, /*enum_fields=*/1, /*enum_values=*/200000);
  auto json = OpenApiDocument(WideInput(*pool));
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_GT(json->size(), 1u << 20);
  EXPECT_LE(json->size(), kMaxOpenApiBytes);
}

}  // namespace
}  // namespace renkei
