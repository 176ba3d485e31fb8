#include "common/pseudonym.h"

#include <openssl/crypto.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/files.h"

namespace renkei {

absl::StatusOr<Pseudonymizer> Pseudonymizer::FromHex(absl::string_view hex) {
  hex = absl::StripAsciiWhitespace(hex);
  bool ok = hex.size() == 64;
  for (char c : hex) ok = ok && absl::ascii_isxdigit(c);
  if (!ok) return absl::InvalidArgumentError("pepper must be 64 hex digits (32 bytes)");
  return Pseudonymizer(absl::HexStringToBytes(hex));
}

absl::StatusOr<Pseudonymizer> Pseudonymizer::FromFile(const std::string& path) {
  auto text = ReadSecretFile(path, "pepper file");
  if (!text.ok()) return text.status();
  auto pseudonymizer = FromHex(*text);
  OPENSSL_cleanse(text->data(), text->size());
  if (!pseudonymizer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", pseudonymizer.status().message()));
  }
  return pseudonymizer;
}

Pseudonymizer::~Pseudonymizer() { OPENSSL_cleanse(pepper_.data(), pepper_.size()); }

std::string Pseudonymizer::Pseudonym(absl::string_view resident_id) const {
  return HmacSha256(pepper_, resident_id);
}

}  // namespace renkei
