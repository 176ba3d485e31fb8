// SmallFilesystem: a tmpfs of a few MiB that a test mounts (root only) to give a process a
// disk that really runs full or turns read-only, rather than a mock of one.
#ifndef RENKEI_TESTS_SMALL_FILESYSTEM_H_
#define RENKEI_TESTS_SMALL_FILESYSTEM_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace renkei::testing {

class SmallFilesystem {
 public:
  // Mounts a tmpfs of `bytes` at `directory` (created if missing). PERMISSION_DENIED when
  // this process may not mount (not root, or a container without CAP_SYS_ADMIN).
  static absl::StatusOr<std::unique_ptr<SmallFilesystem>> Mount(const std::string& directory,
                                                                size_t bytes);
  ~SmallFilesystem();  // unmounts (lazily, should a process still hold a file)

  const std::string& path() const { return path_; }
  // Writes a filler file until the filesystem has no space left.
  absl::Status Fill();
  // Removes the filler: the space comes back.
  absl::Status Free();
  // Remounts read-only or read-write. Fails (busy) while any process has a file open for
  // writing here, as the kernel refuses that.
  absl::Status SetReadOnly(bool read_only);

 private:
  SmallFilesystem(std::string path, size_t bytes) : path_(std::move(path)), bytes_(bytes) {}
  std::string filler() const { return path_ + "/filler"; }

  const std::string path_;
  const size_t bytes_;
};

}  // namespace renkei::testing

// In a gtest test: mounts a SmallFilesystem of 8 MiB at `path` as `var`, or skips the test,
// saying why, where this process may not mount.
#define RENKEI_MOUNT_SMALL_FILESYSTEM_OR_SKIP(var, path)                              \
  auto var##_or = ::renkei::testing::SmallFilesystem::Mount(path, 8 << 20);           \
  if (absl::IsPermissionDenied(var##_or.status())) GTEST_SKIP() << var##_or.status(); \
  ASSERT_TRUE(var##_or.ok()) << var##_or.status();                                    \
  std::unique_ptr<::renkei::testing::SmallFilesystem> var = std::move(*var##_or)

#endif  // RENKEI_TESTS_SMALL_FILESYSTEM_H_
