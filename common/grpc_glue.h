// Small conversions between gRPC's transport types and the security server's own.
#ifndef RENKEI_COMMON_GRPC_GLUE_H_
#define RENKEI_COMMON_GRPC_GLUE_H_

#include <memory>
#include <string>

#include "grpcpp/security/auth_context.h"
#include "grpcpp/support/byte_buffer.h"

namespace renkei {

std::string ByteBufferToString(const grpc::ByteBuffer& buffer);
grpc::ByteBuffer StringToByteBuffer(const std::string& bytes);

// SHA-256 (lowercase hex) of the peer's TLS leaf certificate, or "" without one.
std::string PeerCertificateSha256(const std::shared_ptr<const grpc::AuthContext>& auth);

}  // namespace renkei

#endif  // RENKEI_COMMON_GRPC_GLUE_H_
