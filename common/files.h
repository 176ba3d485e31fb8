// Small file helpers with explicit permissions. Thread-safe (no shared state).
#ifndef RENKEI_COMMON_FILES_H_
#define RENKEI_COMMON_FILES_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace renkei {

absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `contents` to a temporary file of `mode`, fsyncs it and renames it over `path`,
// so readers see the old or the new file, never a torn one. Private keys use 0600.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 mode_t mode);

// `path` if absolute, else `path` relative to the folder of `relative_to_file`.
std::string ResolvePath(const std::string& relative_to_file, const std::string& path);

}  // namespace renkei

#endif  // RENKEI_COMMON_FILES_H_
