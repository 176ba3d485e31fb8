#include "tests/small_filesystem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace renkei::testing {
namespace {

absl::Status Errno(const std::string& what) {
  int error = errno;
  std::string message = absl::StrCat(what, ": ", strerror(error));
  if (error == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SmallFilesystem>> SmallFilesystem::Mount(
    const std::string& directory, size_t bytes) {
  if (mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno(absl::StrCat("mkdir ", directory));
  }
  std::string options = absl::StrCat("size=", bytes, ",mode=0700");
  if (mount("renkei-test", directory.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
            options.c_str()) != 0) {
    return Errno(absl::StrCat("mount tmpfs at ", directory));
  }
  return std::unique_ptr<SmallFilesystem>(new SmallFilesystem(directory, bytes));
}

SmallFilesystem::~SmallFilesystem() { umount2(path_.c_str(), MNT_DETACH); }

absl::Status SmallFilesystem::Fill() {
  int fd = open(filler().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open filler");
  const std::string block(64 * 1024, 'f');
  for (size_t written = 0; written <= bytes_;) {
    ssize_t n = write(fd, block.data(), block.size());
    if (n < 0 && errno == ENOSPC) break;
    if (n < 0) {
      absl::Status failed = Errno("write filler");
      close(fd);
      return failed;
    }
    written += n;
  }
  // A smaller write can still fit in the last partial page.
  while (write(fd, block.data(), 1) == 1) {
  }
  close(fd);
  return absl::OkStatus();
}

absl::Status SmallFilesystem::Free() {
  if (unlink(filler().c_str()) != 0) return Errno("remove filler");
  return absl::OkStatus();
}

absl::Status SmallFilesystem::SetReadOnly(bool read_only) {
  unsigned long flags = MS_REMOUNT | MS_NOSUID | MS_NODEV | (read_only ? MS_RDONLY : 0);
  std::string options = absl::StrCat("size=", bytes_, ",mode=0700");
  if (mount("renkei-test", path_.c_str(), "tmpfs", flags, options.c_str()) != 0) {
    return Errno(absl::StrCat("remount ", path_, read_only ? " read-only" : " read-write"));
  }
  return absl::OkStatus();
}

}  // namespace renkei::testing
