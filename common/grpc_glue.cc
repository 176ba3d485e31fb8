#include "common/grpc_glue.h"

#include <vector>

#include "common/certificates.h"

namespace renkei {

std::string ByteBufferToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  bytes.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

grpc::ByteBuffer StringToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string PeerCertificateSha256(const std::shared_ptr<const grpc::AuthContext>& auth) {
  if (auth == nullptr) return "";
  std::vector<grpc::string_ref> pems = auth->FindPropertyValues("x509_pem_cert");
  if (pems.empty()) return "";
  // gRPC encoded this PEM from the certificate the handshake checked: no need to parse it.
  return FingerprintOfPemCertificate(absl::string_view(pems[0].data(), pems[0].size()));
}

}  // namespace renkei
