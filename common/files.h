// Small file helpers with explicit permissions. Thread-safe (no shared state).
#ifndef RENKEI_COMMON_FILES_H_
#define RENKEI_COMMON_FILES_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace renkei {

absl::StatusOr<std::string> ReadFile(const std::string& path);

// Reads a private key, pepper or other secret, refusing a file another local user could
// read or replace: FAILED_PRECONDITION, naming the path and the mode, when
//   - `path` is a symbolic link (checked with O_NOFOLLOW, so no race with a swapped link),
//   - it is not a regular file,
//   - its mode grants anything to group or others (mode & 077), or
//   - it is owned by neither this process's effective user nor root.
// The checks use fstat() on the descriptor that is then read, never a second lookup of the
// name. NOT_FOUND / PERMISSION_DENIED when it cannot be opened. `what` names the file in
// messages ("key file", "pepper file"); messages never contain the contents.
// The caller owns the secret: cleanse it (OPENSSL_cleanse) once parsed.
//
//   RENKEI_ASSIGN_OR_RETURN(std::string pem, ReadSecretFile(path, "key file"));
absl::StatusOr<std::string> ReadSecretFile(const std::string& path,
                                           absl::string_view what = "secret file");

// Writes `contents` to a new temporary file of exactly `mode` beside `path`, fsyncs it,
// renames it over `path` and fsyncs the folder, so readers see the old or the new file,
// never a torn one, and the rename survives a crash. The temporary name is random and
// created with O_EXCL|O_NOFOLLOW: someone who can write to the folder cannot make us
// follow a planted link and overwrite another file. Private keys use 0600.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 mode_t mode);

// `path` if absolute, else `path` relative to the folder of `relative_to_file`.
std::string ResolvePath(const std::string& relative_to_file, const std::string& path);

}  // namespace renkei

#endif  // RENKEI_COMMON_FILES_H_
