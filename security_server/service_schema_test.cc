#include "security_server/service_schema.h"

#include <memory>
#include <set>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "municipal/v1/child_allowance.pb.h"
#include "municipal/v1/resident_registry.pb.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

using ::google::protobuf::FileDescriptor;
using ::google::protobuf::FileDescriptorSet;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kGetResident[] = "/renkei.municipal.v1.ResidentRegistry/GetResident";
constexpr char kGetCertificate[] =
    "/renkei.municipal.v1.ResidentRegistry/GetResidenceCertificate";

void AddWithDependencies(const FileDescriptor& file, std::set<std::string>& added,
                         FileDescriptorSet& files) {
  if (!added.insert(file.name()).second) return;
  for (int i = 0; i < file.dependency_count(); ++i) {
    AddWithDependencies(*file.dependency(i), added, files);
  }
  file.CopyTo(files.add_file());
}

FileDescriptorSet FilesOf(const FileDescriptor& file) {
  FileDescriptorSet files;
  std::set<std::string> added;
  AddWithDependencies(file, added, files);
  return files;
}

class ServiceSchemaTest : public ::testing::Test {
 protected:
  // What the provider of TestFederation::kService states for TestFederation::kClient.
  v1::ServiceSchema Schema() const {
    v1::ServiceSchema schema;
    schema.set_service(TestFederation::kService);
    schema.set_client(TestFederation::kClient);
    schema.set_configuration_version(pki_.configuration.version());
    *schema.mutable_created_at() = ToTimestamp(absl::Now());
    schema.add_methods(kGetResident);
    schema.add_methods(kGetCertificate);
    schema.add_allowed_methods(kGetResident);
    *schema.mutable_files() =
        FilesOf(*municipal::v1::GetResidentRequest::descriptor()->file());
    return schema;
  }

  v1::SignedHeader SignedBy(const v1::ServiceSchema& schema, const SigningIdentity& signer) {
    auto signed_schema = SignServiceSchema(schema, signer);
    EXPECT_TRUE(signed_schema.ok()) << signed_schema.status();
    return *signed_schema;
  }

  absl::StatusOr<std::shared_ptr<const ServiceSchemaView>> Verify(
      const v1::SignedHeader& signed_schema, const std::string& client = TestFederation::kClient,
      const std::string& service = TestFederation::kService) {
    return VerifyServiceSchema(signed_schema, *federation_, client, service);
  }

  // Signed correctly by the provider member, whatever it says.
  absl::Status VerifyProviderSigned(const v1::ServiceSchema& schema) {
    return Verify(SignedBy(schema, pki_.provider_signer)).status();
  }

  TestFederation pki_;
  std::shared_ptr<const Federation> federation_ = pki_.Build();
};

TEST_F(ServiceSchemaTest, SchemaSignedByTheProviderMemberVerifies) {
  auto view = Verify(SignedBy(Schema(), pki_.provider_signer));
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->service(), TestFederation::kService);
  EXPECT_EQ((*view)->client(), TestFederation::kClient);
  EXPECT_EQ((*view)->configuration_version(), pki_.configuration.version());
  EXPECT_TRUE((*view)->FindMethod(kGetResident).ok());
  EXPECT_TRUE((*view)->FindMethod(kGetCertificate).ok());
  EXPECT_EQ((*view)->FindMethod("/renkei.municipal.v1.ResidentRegistry/DeleteResident")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE((*view)->Allows(kGetResident));
  EXPECT_FALSE((*view)->Allows(kGetCertificate));
  EXPECT_THAT((*view)->allowed_methods(), ElementsAre(kGetResident));
  auto method = (*view)->FindMethod(kGetResident);
  ASSERT_TRUE(method.ok()) << method.status();
  EXPECT_EQ((*method)->input_type()->full_name(), "renkei.municipal.v1.GetResidentRequest");
  EXPECT_EQ((*method)->output_type()->full_name(), "renkei.municipal.v1.GetResidentResponse");
}

TEST_F(ServiceSchemaTest, SchemaWithImportsVerifies) {
  v1::ServiceSchema schema = Schema();
  schema.clear_methods();
  schema.clear_allowed_methods();
  schema.add_methods("/renkei.municipal.v1.ChildAllowance/CheckEligibility");
  *schema.mutable_files() =
      FilesOf(*municipal::v1::CheckEligibilityRequest::descriptor()->file());
  ASSERT_EQ(schema.files().file_size(), 2);
  auto view = Verify(SignedBy(schema, pki_.provider_signer));
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_TRUE((*view)->allowed_methods().empty());
  auto method = (*view)->FindMethod("/renkei.municipal.v1.ChildAllowance/CheckEligibility");
  ASSERT_TRUE(method.ok()) << method.status();
}

TEST_F(ServiceSchemaTest, SchemaSignedByAnotherMemberIsUnauthenticated) {
  auto view = Verify(SignedBy(Schema(), pki_.consumer_signer));
  EXPECT_EQ(view.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(view.status().message()), HasSubstr(TestFederation::kConsumerMember));
}

TEST_F(ServiceSchemaTest, AnotherMembersKeyClaimingToBeTheProviderIsUnauthenticated) {
  SigningIdentity claimed = pki_.consumer_signer;
  claimed.member = pki_.provider_signer.member;
  EXPECT_EQ(Verify(SignedBy(Schema(), claimed)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(ServiceSchemaTest, SignerRewrittenToTheProviderIsUnauthenticated) {
  v1::SignedHeader signed_schema = SignedBy(Schema(), pki_.consumer_signer);
  *signed_schema.mutable_signer() = pki_.provider_signer.member;
  EXPECT_EQ(Verify(signed_schema).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(ServiceSchemaTest, SameBytesSignedAsAnotherTypeAreUnauthenticated) {
  const std::string bytes = Schema().SerializeAsString();
  for (SignedType other : {SignedType::kResponseHeader, SignedType::kRequestHeader,
                           SignedType::kRecordBatch, SignedType::kKeyCheck}) {
    auto signed_schema = SignHeader(other, bytes, pki_.provider_signer);
    ASSERT_TRUE(signed_schema.ok()) << signed_schema.status();
    auto view = Verify(*signed_schema);
    EXPECT_EQ(view.status().code(), absl::StatusCode::kUnauthenticated) << SignedTypeName(other);
  }
}

TEST_F(ServiceSchemaTest, FlippedByteInTheHeaderIsUnauthenticated) {
  const v1::SignedHeader original = SignedBy(Schema(), pki_.provider_signer);
  for (size_t at : {size_t{0}, original.header().size() / 2, original.header().size() - 1}) {
    v1::SignedHeader tampered = original;
    (*tampered.mutable_header())[at] ^= 1;
    EXPECT_EQ(Verify(tampered).status().code(), absl::StatusCode::kUnauthenticated) << at;
  }
}

TEST_F(ServiceSchemaTest, FlippedByteInTheSignatureIsUnauthenticated) {
  v1::SignedHeader signed_schema = SignedBy(Schema(), pki_.provider_signer);
  signed_schema.mutable_signature()->back() ^= 1;
  EXPECT_EQ(Verify(signed_schema).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(ServiceSchemaTest, SignedBytesThatAreNoSchemaAreInvalid) {
  auto signed_schema =
      SignHeader(SignedType::kServiceSchema, std::string("\xFF\xFF\xFF", 3), pki_.provider_signer);
  ASSERT_TRUE(signed_schema.ok()) << signed_schema.status();
  EXPECT_EQ(Verify(*signed_schema).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ServiceSchemaTest, SchemaAboutAnotherServiceIsInvalid) {
  v1::ServiceSchema schema = Schema();
  schema.set_service("JP/MUNI/131016/tax-records");
  auto view = Verify(SignedBy(schema, pki_.provider_signer));
  EXPECT_EQ(view.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(view.status().message()), HasSubstr("JP/MUNI/131016/tax-records"));
}

TEST_F(ServiceSchemaTest, SchemaForAnotherClientIsInvalid) {
  v1::ServiceSchema schema = Schema();
  schema.set_client("JP/GOV/MHLW/pension");
  auto view = Verify(SignedBy(schema, pki_.provider_signer));
  EXPECT_EQ(view.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(view.status().message()), HasSubstr("JP/GOV/MHLW/pension"));
}

TEST_F(ServiceSchemaTest, AskingForAnotherClientRefusesTheSchema) {
  const v1::SignedHeader signed_schema = SignedBy(Schema(), pki_.provider_signer);
  EXPECT_EQ(Verify(signed_schema, "JP/GOV/MHLW/pension").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ServiceSchemaTest, ServiceOfAnotherMemberNeedsThatMembersSignature) {
  // Asked about a consumer-side subsystem, the provider's signature is the wrong one.
  const v1::SignedHeader signed_schema = SignedBy(Schema(), pki_.provider_signer);
  EXPECT_EQ(Verify(signed_schema, TestFederation::kClient, "JP/GOV/MHLW/child-allowance")
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(ServiceSchemaTest, MalformedServiceIdIsInvalid) {
  const v1::SignedHeader signed_schema = SignedBy(Schema(), pki_.provider_signer);
  EXPECT_EQ(Verify(signed_schema, TestFederation::kClient, "JP/MUNI/131016").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Servers pick a new configuration up at their own times: a provider a version behind or
// ahead still answers for its service (and checks the rights again on every exchange).
TEST_F(ServiceSchemaTest, SchemaOfAnotherConfigurationVersionIsAccepted) {
  for (int64_t version : {pki_.configuration.version() + 1, pki_.configuration.version() - 1}) {
    v1::ServiceSchema schema = Schema();
    schema.set_configuration_version(version);
    EXPECT_TRUE(VerifyProviderSigned(schema).ok()) << version;
  }
}

TEST_F(ServiceSchemaTest, FilesWithAMissingDependencyAreInvalid) {
  // child_allowance.proto without the resident_registry.proto it imports.
  v1::ServiceSchema schema = Schema();
  schema.clear_methods();
  schema.clear_allowed_methods();
  schema.add_methods("/renkei.municipal.v1.ChildAllowance/CheckEligibility");
  schema.mutable_files()->clear_file();
  municipal::v1::CheckEligibilityRequest::descriptor()->file()->CopyTo(
      schema.mutable_files()->add_file());
  absl::Status status = VerifyProviderSigned(schema);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("municipal/v1/resident_registry.proto"));
}

TEST_F(ServiceSchemaTest, FilesThatDoNotBuildAreInvalid) {
  v1::ServiceSchema schema = Schema();
  google::protobuf::DescriptorProto* message =
      schema.mutable_files()->mutable_file(0)->mutable_message_type(0);
  message->mutable_field(0)->set_type(google::protobuf::FieldDescriptorProto::TYPE_MESSAGE);
  message->mutable_field(0)->set_type_name(".renkei.municipal.v1.Nowhere");
  EXPECT_EQ(VerifyProviderSigned(schema).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ServiceSchemaTest, FilesWithoutTheServiceOfAMethodAreInvalid) {
  v1::ServiceSchema schema = Schema();
  schema.add_methods("/renkei.municipal.v1.ChildAllowance/CheckEligibility");
  absl::Status status = VerifyProviderSigned(schema);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("renkei.municipal.v1.ChildAllowance"));
}

TEST_F(ServiceSchemaTest, AllowedMethodThatIsNotOfferedIsInvalid) {
  v1::ServiceSchema schema = Schema();
  schema.add_allowed_methods("/renkei.municipal.v1.ResidentRegistry/DeleteResident");
  absl::Status status = VerifyProviderSigned(schema);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("DeleteResident"));
}

TEST_F(ServiceSchemaTest, MethodThatIsNotAFullMethodNameIsInvalid) {
  for (const char* method : {"GetResident", "renkei.municipal.v1.ResidentRegistry/GetResident",
                             "/renkei.municipal.v1.ResidentRegistry/", "//GetResident", "/",
                             ""}) {
    v1::ServiceSchema schema = Schema();
    schema.add_methods(method);
    absl::Status status = VerifyProviderSigned(schema);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << method;
    EXPECT_THAT(std::string(status.message()), HasSubstr("is not a full method name")) << method;
  }
}

TEST(ServiceNameOf, IsTheServicePartOfAFullMethodName) {
  EXPECT_EQ(ServiceNameOf(kGetResident), "renkei.municipal.v1.ResidentRegistry");
  EXPECT_EQ(ServiceNameOf("/a.B/C"), "a.B");
  for (const char* method : {"", "/", "//", "/a/", "//C", "a.B/C", "GetResident", "/a.B",
                             "/a.B/x/C"}) {
    EXPECT_EQ(ServiceNameOf(method), "") << method;
  }
}

}  // namespace
}  // namespace renkei
