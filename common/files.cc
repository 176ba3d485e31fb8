#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace renkei {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 mode_t mode) {
  std::string temporary = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", temporary, ": ", std::strerror(errno)));
  }
  // The mode given to open() is masked by the umask; make it exact.
  bool ok = fchmod(fd, mode) == 0;
  size_t written = 0;
  while (ok && written < contents.size()) {
    ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += n;
  }
  ok = ok && fsync(fd) == 0;
  int saved_errno = errno;
  close(fd);
  if (!ok || rename(temporary.c_str(), path.c_str()) != 0) {
    if (ok) saved_errno = errno;
    unlink(temporary.c_str());
    return absl::InternalError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(saved_errno)));
  }
  return absl::OkStatus();
}

std::string ResolvePath(const std::string& relative_to_file, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  size_t slash = relative_to_file.rfind('/');
  if (slash == std::string::npos) return path;
  return absl::StrCat(relative_to_file.substr(0, slash + 1), path);
}

}  // namespace renkei
