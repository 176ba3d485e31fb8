// Child processes for integration tests: start a binary with arguments, its stderr going to
// a log file; signal it; wait for it. The destructor kills (SIGKILL) what is still running.
#ifndef RENKEI_TESTS_PROCESS_H_
#define RENKEI_TESTS_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace renkei::testing {

class Process {
 public:
  Process(const std::string& binary, const std::vector<std::string>& args,
          const std::string& log_file);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool running();
  void Signal(int signal_number);
  // Waits for exit up to `timeout_seconds`; returns the exit status as from waitpid
  // (use WIFEXITED/WEXITSTATUS), or -1 on timeout.
  int Wait(double timeout_seconds);
  const std::string& log_file() const { return log_file_; }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
  std::string log_file_;
};

// Path of a file in the test's runfiles, e.g. "security_server/renkei-security-server".
std::string Runfile(const std::string& path);

// A port on 127.0.0.1 that was free a moment ago, and never returned before in this process.
int FreePort();

// Polls until something accepts connections on 127.0.0.1:`port` (true) or `timeout` passes.
bool WaitForPort(int port, double timeout_seconds = 15);

// The test's private scratch directory (TEST_TMPDIR) joined with `name`, created empty.
std::string ScratchDirectory(const std::string& name);

}  // namespace renkei::testing

#endif  // RENKEI_TESTS_PROCESS_H_
