// Small helpers shared by the RocksDB-backed stores: big-endian keys (so that RocksDB's byte
// order is numeric order) and the one mapping of rocksdb::Status to absl::Status.
#ifndef RENKEI_COMMON_STORAGE_HELPERS_H_
#define RENKEI_COMMON_STORAGE_HELPERS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace renkei {

inline void AppendBigEndian64(std::string& out, uint64_t value) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// Reads the first 8 bytes of `bytes` (which must have them).
inline uint64_t ReadBigEndian64(absl::string_view bytes) {
  uint64_t value = 0;
  for (char c : bytes.substr(0, 8)) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

// `prefix` followed by `value` big-endian: keys that sort numerically.
inline std::string NumberedKey(absl::string_view prefix, uint64_t value) {
  std::string key(prefix);
  AppendBigEndian64(key, value);
  return key;
}

// UNAVAILABLE naming `what` (a store that cannot read or write is a server that cannot serve).
inline absl::Status FromRocksStatus(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(what, ": ", status.ToString()));
}

}  // namespace renkei

#endif  // RENKEI_COMMON_STORAGE_HELPERS_H_
