#include "security_server/test_sides.h"

#include <utility>

namespace renkei {

Settings TestConsumerSettings(const TestFederation& pki) {
  Settings settings;
  settings.server_id_text = TestFederation::kConsumerServer;
  settings.local_plaintext = true;
  settings.local_clients[TestFederation::kClient] = {};
  settings.signing_identities.emplace(TestFederation::kConsumerMember, pki.consumer_signer);
  return settings;
}

Settings TestProviderSettings(const TestFederation& pki) {
  Settings settings;
  settings.server_id_text = TestFederation::kProviderServer;
  settings.signing_identities.emplace(TestFederation::kProviderMember, pki.provider_signer);
  settings.backends[TestFederation::kService] = "127.0.0.1:1";
  settings.pseudonymizer = *Pseudonymizer::FromHex(std::string(64, '7'));
  google::protobuf::RepeatedPtrField<v1::AccessRight> rights;
  v1::AccessRight* right = rights.Add();
  right->set_client(TestFederation::kClient);
  right->set_service(TestFederation::kService);
  right->set_method(kTestMethod);
  settings.access_rights = *AccessRights::Create(rights);
  return settings;
}

LocalCall TestLocalCall(std::string payload) {
  LocalCall call;
  call.method = kTestMethod;
  call.metadata = {{kClientKey, TestFederation::kClient},
                   {kServiceKey, TestFederation::kService},
                   {kSubjectKey, "131016-0001"},
                   {kSubjectKey, "131016-0002"},
                   {kPurposeKey, "child-allowance"},
                   {kUserKey, "official-7"}};
  call.caller.peer_address = "ipv4:127.0.0.1:40000";
  call.payload = std::move(payload);
  return call;
}

}  // namespace renkei
