#include "common/files.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace renkei {
namespace {

// Keys and peppers are a few hundred bytes; anything much larger is the wrong file.
constexpr off_t kMaxSecretFileBytes = 1 << 20;

// Closes a descriptor on every return path.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now, so that the error of close() (a delayed write error on NFS) is seen.
  bool Close() {
    int fd = fd_;
    fd_ = -1;
    return close(fd) == 0;
  }

 private:
  int fd_;
};

absl::Status OpenError(absl::string_view what, const std::string& path, int error) {
  std::string message = absl::StrCat("cannot open ", what, " ", path, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

std::string FolderOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A name beside `path` nobody can predict, so nobody can plant a link there beforehand.
absl::StatusOr<std::string> TemporaryNameFor(const std::string& path) {
  char random[8];
  if (getrandom(random, sizeof(random), 0) != static_cast<ssize_t>(sizeof(random))) {
    return absl::InternalError(absl::StrCat("getrandom: ", std::strerror(errno)));
  }
  return absl::StrCat(path, ".tmp-", absl::BytesToHexString(absl::string_view(random, 8)));
}

bool WriteAll(int fd, absl::string_view contents) {
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;  // no progress and no reason given
    if (n <= 0) return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

// Makes a completed rename durable. A file system that cannot sync folders says EINVAL;
// there is nothing more to do on it.
absl::Status SyncFolder(const std::string& folder) {
  FileDescriptor fd(open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || (fsync(fd.get()) != 0 && errno != EINVAL)) {
    return absl::InternalError(
        absl::StrCat("cannot sync folder ", folder, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, absl::string_view what) {
  // O_NONBLOCK: opening a FIFO planted at `path` must fail the checks below, not hang.
  FileDescriptor fd(
      open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, " ", path, " is a symbolic link; name the file itself (mode 0600)"));
    }
    return OpenError(what, path, errno);
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) {
    return absl::InternalError(absl::StrCat("cannot stat ", what, " ", path, ": ",
                                            std::strerror(errno)));
  }
  const std::string mode = absl::StrFormat("%04o", st.st_mode & 07777);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " is readable or writable by group or others (mode ", mode,
                     "); chmod 600 it"));
  }
  if (st.st_size > kMaxSecretFileBytes) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " is larger than ",
                                                      kMaxSecretFileBytes,
                                                      " bytes, too large for a key or pepper"));
  }
  const uid_t me = geteuid();
  if (st.st_uid != me && st.st_uid != 0) {
    // Its owner could replace the secret under us, whatever the mode says.
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " (mode ", mode, ") is owned by uid ", st.st_uid,
                     ", neither this process's user (uid ", me, ") nor root"));
  }
  // One allocation of the final size (one byte more to notice growth), so no reallocation
  // leaves a copy of the secret behind in freed memory.
  std::string contents(static_cast<size_t>(st.st_size) + 1, '\0');
  size_t length = 0;
  while (length < contents.size()) {
    ssize_t n = read(fd.get(), &contents[length], contents.size() - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      explicit_bzero(&contents[0], contents.size());
      return absl::InternalError(
          absl::StrCat("cannot read ", what, " ", path, ": ", std::strerror(error)));
    }
    if (n == 0) break;
    length += static_cast<size_t>(n);
  }
  if (length == contents.size()) {
    explicit_bzero(&contents[0], contents.size());
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " changed while it was read"));
  }
  contents.resize(length);  // shrinking never reallocates
  return contents;
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 mode_t mode) {
  std::string temporary;
  int fd = -1;
  // A collision of 64 random bits means someone guessed it; try again rather than use it.
  for (int attempt = 0; fd < 0 && attempt < 3; ++attempt) {
    auto name = TemporaryNameFor(path);
    if (!name.ok()) return name.status();
    temporary = *std::move(name);
    fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", temporary, ": ", std::strerror(errno)));
  }
  FileDescriptor file(fd);
  int error = 0;
  // The mode given to open() is masked by the umask; make it exact.
  if (fchmod(file.get(), mode) != 0 || !WriteAll(file.get(), contents) ||
      fsync(file.get()) != 0) {
    error = errno;
  }
  if (!file.Close() && error == 0) error = errno;
  if (error == 0 && rename(temporary.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    unlink(temporary.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(error)));
  }
  return SyncFolder(FolderOf(path));
}

std::string ResolvePath(const std::string& relative_to_file, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  size_t slash = relative_to_file.rfind('/');
  if (slash == std::string::npos) return path;
  return absl::StrCat(relative_to_file.substr(0, slash + 1), path);
}

}  // namespace renkei
