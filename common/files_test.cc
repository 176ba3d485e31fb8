#include "common/files.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <string>

#include "common/certificates.h"
#include "common/pseudonym.h"
#include "gtest/gtest.h"

namespace renkei {
namespace {

constexpr char kSecret[] = "do-not-print-me-0123456789abcdef";

// A fresh folder per test, under Bazel's TEST_TMPDIR when there is one.
std::string MakeFolder() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/files_test.XXXXXX";
  char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr);
  return pattern;
}

std::set<std::string> Entries(const std::string& folder) {
  std::set<std::string> names;
  DIR* dir = opendir(folder.c_str());
  if (dir == nullptr) return names;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.insert(name);
  }
  closedir(dir);
  return names;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

// Writes `contents` with exactly `mode` (through the code under test, checked separately).
std::string WriteWithMode(const std::string& path, const std::string& contents, mode_t mode) {
  EXPECT_TRUE(WriteFileAtomically(path, contents, mode).ok());
  EXPECT_EQ(chmod(path.c_str(), mode), 0);
  return path;
}

TEST(WriteFileAtomically, DoesNotFollowALinkPlantedAtTheOldTemporaryName) {
  std::string folder = MakeFolder();
  std::string victim = WriteWithMode(folder + "/victim", "precious", 0644);
  std::string path = folder + "/state";
  // The name the old code always used; whoever can write to the folder could plant it.
  std::string predictable = path + ".tmp." + std::to_string(getpid());
  ASSERT_EQ(symlink(victim.c_str(), predictable.c_str()), 0);

  ASSERT_TRUE(WriteFileAtomically(path, "new", 0644).ok());

  EXPECT_EQ(ReadFile(victim).value_or(""), "precious");
  EXPECT_EQ(ReadFile(path).value_or(""), "new");
  EXPECT_TRUE(S_ISREG(ModeOf(path))) << "the result must be a file, not the planted link";
}

TEST(WriteFileAtomically, GivesExactlyTheRequestedModeWhateverTheUmask) {
  std::string folder = MakeFolder();
  mode_t saved = umask(077);
  ASSERT_TRUE(WriteFileAtomically(folder + "/public", "x", 0644).ok());
  umask(0);
  ASSERT_TRUE(WriteFileAtomically(folder + "/private", "x", 0600).ok());
  umask(saved);
  EXPECT_EQ(ModeOf(folder + "/public") & 07777, 0644u);
  EXPECT_EQ(ModeOf(folder + "/private") & 07777, 0600u);
}

TEST(WriteFileAtomically, ReplacesTheFileAndLeavesNoTemporaryFileBehind) {
  std::string folder = MakeFolder();
  ASSERT_TRUE(WriteFileAtomically(folder + "/state", "one", 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(folder + "/state", "two", 0600).ok());
  EXPECT_EQ(ReadFile(folder + "/state").value_or(""), "two");
  EXPECT_EQ(Entries(folder), std::set<std::string>({"state"}));
}

TEST(WriteFileAtomically, RemovesTheTemporaryFileWhenTheRenameFails) {
  std::string folder = MakeFolder();
  // rename() cannot replace a non-empty folder.
  ASSERT_EQ(mkdir((folder + "/state").c_str(), 0700), 0);
  WriteWithMode(folder + "/state/inside", "x", 0600);
  EXPECT_FALSE(WriteFileAtomically(folder + "/state", "new", 0600).ok());
  EXPECT_EQ(Entries(folder), std::set<std::string>({"state"}));
}

TEST(ReadSecretFile, ReadsAFileOnlyItsOwnerCanAccess) {
  std::string folder = MakeFolder();
  EXPECT_EQ(ReadSecretFile(WriteWithMode(folder + "/rw", kSecret, 0600)).value_or(""), kSecret);
  EXPECT_EQ(ReadSecretFile(WriteWithMode(folder + "/r", kSecret, 0400)).value_or(""), kSecret);
  EXPECT_EQ(ReadSecretFile(WriteWithMode(folder + "/empty", "", 0600)).value_or("?"), "");
}

TEST(ReadSecretFile, RefusesAFileGroupOrOthersCanAccessAndSaysHowToFixIt) {
  std::string folder = MakeFolder();
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602, 0610}) {
    std::string path = WriteWithMode(folder + "/key", kSecret, mode);
    auto read = ReadSecretFile(path, "key file");
    ASSERT_FALSE(read.ok()) << std::oct << mode;
    EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
    std::string message(read.status().message());
    EXPECT_NE(message.find("key file " + path + " is readable or writable by group or others"),
              std::string::npos)
        << message;
    char expected_mode[16];
    snprintf(expected_mode, sizeof(expected_mode), "(mode 0%o)", static_cast<unsigned>(mode));
    EXPECT_NE(message.find(expected_mode), std::string::npos) << message;
    EXPECT_NE(message.find("chmod 600"), std::string::npos) << message;
    EXPECT_EQ(message.find(kSecret), std::string::npos) << "the message leaks the secret";
  }
}

TEST(ReadSecretFile, RefusesASymbolicLinkEvenToAPrivateFile) {
  std::string folder = MakeFolder();
  std::string target = WriteWithMode(folder + "/key", kSecret, 0600);
  ASSERT_EQ(symlink(target.c_str(), (folder + "/link").c_str()), 0);
  auto read = ReadSecretFile(folder + "/link");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(read.status().message()).find("symbolic link"), std::string::npos);
}

TEST(ReadSecretFile, RefusesAnythingButARegularFile) {
  std::string folder = MakeFolder();
  ASSERT_EQ(mkdir((folder + "/keys").c_str(), 0700), 0);
  EXPECT_EQ(ReadSecretFile(folder + "/keys").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A FIFO must be refused, not block the reader forever.
  ASSERT_EQ(mkfifo((folder + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(ReadSecretFile(folder + "/fifo").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ReadSecretFile, RefusesAFileOwnedByAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "only root can give a file to another user";
  std::string path = WriteWithMode(MakeFolder() + "/key", kSecret, 0600);
  ASSERT_EQ(chown(path.c_str(), 4242, 4242), 0);
  auto read = ReadSecretFile(path);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(read.status().message()).find("owned by uid 4242"), std::string::npos)
      << read.status();
}

TEST(ReadSecretFile, MissingFileIsNotFound) {
  EXPECT_EQ(ReadSecretFile(MakeFolder() + "/absent").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ReadSecretFile, GuardsPrivateKeyFiles) {
  std::string folder = MakeFolder();
  std::string pem = PrivateKey::GenerateP256().Pem();
  EXPECT_TRUE(PrivateKey::FromPemFile(WriteWithMode(folder + "/ok.key", pem, 0600)).ok());
  auto exposed = PrivateKey::FromPemFile(WriteWithMode(folder + "/exposed.key", pem, 0644));
  EXPECT_EQ(exposed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(exposed.status().message()).find("PRIVATE KEY"), std::string::npos);
}

TEST(ReadSecretFile, GuardsPepperFiles) {
  std::string folder = MakeFolder();
  std::string pepper(64, 'a');
  EXPECT_TRUE(Pseudonymizer::FromFile(WriteWithMode(folder + "/ok", pepper, 0600)).ok());
  auto exposed = Pseudonymizer::FromFile(WriteWithMode(folder + "/exposed", pepper, 0644));
  EXPECT_EQ(exposed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(exposed.status().message()).find(pepper), std::string::npos);
}

}  // namespace
}  // namespace renkei
