// Proves the ThreadSanitizer setup (`--config=tsan`) before its silence is trusted: TSan
// reports a real race, and does not report accesses that Debian's (uninstrumented) Abseil
// Mutex and CondVar do guard. Meaningful only in a TSan build, hence "manual".
#include <sys/wait.h>

#include <string>

#include "common/files.h"
#include "gtest/gtest.h"
#include "tests/process.h"

namespace renkei::testing {
namespace {

struct CanaryRun {
  int status;
  std::string output;
};

CanaryRun RunCanary(const std::string& mode) {
  const std::string log = ScratchDirectory("tsan_" + mode) + "/canary.log";
  Process canary(Runfile("tests/tsan/tsan_canary"), {mode}, log);
  int status = canary.Wait(120);
  auto output = ReadFile(log);
  return {status, output.ok() ? *output : output.status().ToString()};
}

class RacyCounter : public ::testing::TestWithParam<const char*> {};

// Unguarded, or each thread under a mutex of its own (the annotations must not order what
// no lock orders).
TEST_P(RacyCounter, IsReportedAsARace) {
  CanaryRun run = RunCanary(GetParam());
  EXPECT_NE(run.output.find("ThreadSanitizer: data race"), std::string::npos) << run.output;
  EXPECT_FALSE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.output;
}

INSTANTIATE_TEST_SUITE_P(NoOrdering, RacyCounter, ::testing::Values("unguarded", "two-mutexes"));

class GuardedCounter : public ::testing::TestWithParam<const char*> {};

TEST_P(GuardedCounter, IsNotReported) {
  CanaryRun run = RunCanary(GetParam());
  EXPECT_EQ(run.output.find("ThreadSanitizer"), std::string::npos) << run.output;
  EXPECT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.output;
  EXPECT_NE(run.output.find("counter 40000"), std::string::npos) << run.output;
}

INSTANTIATE_TEST_SUITE_P(AbseilSynchronisation, GuardedCounter,
                         ::testing::Values("mutex", "trylock", "lockwhen", "await", "condvar"));

TEST(TsanSetup, ReaderAndWriterLocksAreSeen) {
  CanaryRun run = RunCanary("reader-writer");
  EXPECT_EQ(run.output.find("ThreadSanitizer"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("counter 20000"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace renkei::testing
