// What a peer sends a provider's security server: ExchangeRequest bytes. Parsing, typed
// signature verification against a real federation and the field rules of the header never
// crash, and a mutated envelope never verifies.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "google/protobuf/stubs/logging.h"

#include "common/envelope.h"
#include "renkei/v1/peer.pb.h"
#include "security_server/test_federation.h"

namespace {

const renkei::Federation& TheFederation() {
  static const auto* federation = [] {
    static renkei::TestFederation pki;
    return new std::shared_ptr<const renkei::Federation>(pki.Build());
  }();
  return **federation;
}

}  // namespace

// Protobuf logs every string field of invalid UTF-8 it refuses; quiet, so the fuzzer runs fast.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  renkei::v1::ExchangeRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  for (renkei::SignedType type :
       {renkei::SignedType::kRequestHeader, renkei::SignedType::kResponseHeader}) {
    absl::Status verified =
        renkei::VerifySignedHeader(type, request.request(), TheFederation());
    // Only the federation's own keys can sign, and the fuzzer has none of them.
    if (verified.ok()) std::abort();
  }
  renkei::v1::RequestHeader header;
  if (header.ParseFromString(request.request().header())) {
    (void)renkei::ValidateRequestHeaderFields(header);
    (void)renkei::CheckFreshness(header.created_at(), absl::Now(), absl::Seconds(60));
  }
  return 0;
}
