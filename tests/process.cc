#include "tests/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace renkei::testing {

Process::Process(const std::string& binary, const std::vector<std::string>& args,
                 const std::string& log_file)
    : log_file_(log_file) {
  std::vector<std::string> argv_storage = {binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      dup2(fd, STDOUT_FILENO);
    }
    // Unblock signals a parent test runner may have blocked.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
}

Process::~Process() {
  if (running()) {
    Signal(SIGKILL);
    Wait(10);
  }
}

bool Process::running() {
  if (exited_ || pid_ <= 0) return false;
  if (waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
  return !exited_;
}

void Process::Signal(int signal_number) {
  if (running()) kill(pid_, signal_number);
}

int Process::Wait(double timeout_seconds) {
  absl::Time deadline = absl::Now() + absl::Seconds(timeout_seconds);
  while (running()) {
    if (absl::Now() > deadline) return -1;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return status_;
}

std::string Runfile(const std::string& path) {
  const char* root = getenv("TEST_SRCDIR");
  return std::string(root ? root : ".") + "/renkei/" + path;
}

int FreePort() {
  // The kernel may hand the same free port out twice, and gRPC servers listen with
  // SO_REUSEPORT: two servers of one federation on one port would then share connections
  // at random. No port is given out twice in a test process.
  static absl::Mutex mu(absl::kConstInit);
  static std::set<int>* given = new std::set<int>();
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);
    const int port = ntohs(address.sin_port);
    absl::MutexLock lock(&mu);
    if (given->insert(port).second) return port;
  }
}

bool WaitForPort(int port, double timeout_seconds) {
  absl::Time deadline = absl::Now() + absl::Seconds(timeout_seconds);
  while (absl::Now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(fd);
    if (connected) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

std::string ScratchDirectory(const std::string& name) {
  const char* root = getenv("TEST_TMPDIR");
  std::string directory = std::string(root ? root : "/tmp") + "/" + name;
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  return directory;
}

}  // namespace renkei::testing
