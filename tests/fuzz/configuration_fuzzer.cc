// Configuration an operator writes (protobuf text format) and the signed global
// configuration a broker publishes: parsing, whole-federation validation and signature
// verification never crash; nothing unsigned verifies.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "google/protobuf/stubs/logging.h"

#include "common/federation.h"
#include "common/signed_configuration.h"
#include "common/text_proto.h"
#include "renkei/v1/config.pb.h"
#include "security_server/test_federation.h"

// Protobuf logs every string field of invalid UTF-8 it refuses; quiet, so the fuzzer runs fast.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static renkei::TestFederation pki;
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  renkei::v1::GlobalConfiguration configuration;
  if (renkei::ParseTextProto(text, "fuzz", &configuration).ok()) {
    (void)renkei::Federation::Create(configuration);
  }
  renkei::v1::SecurityServerConfig server_config;
  (void)renkei::ParseTextProto(text, "fuzz", &server_config);
  renkei::v1::SignedGlobalConfiguration signed_configuration;
  if (signed_configuration.ParseFromArray(data, static_cast<int>(size)) &&
      renkei::VerifyConfiguration(signed_configuration, pki.provider_signer.certificate, "JP",
                                  absl::InfinitePast())
          .ok()) {
    std::abort();
  }
  return 0;
}
