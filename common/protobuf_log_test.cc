#include "common/protobuf_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_split.h"
#include "common/files.h"
#include "gtest/gtest.h"
#include "renkei/v1/ledger.pb.h"

namespace renkei {
namespace {

// A peer sending strings that are not UTF-8 makes protobuf log an error for each message it
// refuses; the log gets a bounded number of lines however many arrive.
TEST(ProtobufLog, InvalidUtf8FloodsAreRateLimited) {
  RouteProtobufLogs();
  v1::ChallengeRequest valid;
  valid.set_resident_id("x");
  std::string bytes = valid.SerializeAsString();
  bytes.back() = '\xff';  // resident_id is a proto3 string: protobuf refuses and logs

  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/stderr.log";
  int saved = dup(2);
  int file = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(file, 0);
  dup2(file, 2);
  const uint64_t suppressed_before = SuppressedProtobufLines();
  for (int i = 0; i < 1000; ++i) {
    v1::ChallengeRequest parsed;
    EXPECT_FALSE(parsed.ParseFromString(bytes));
  }
  dup2(saved, 2);
  close(file);
  close(saved);

  auto logged = ReadFile(path);
  ASSERT_TRUE(logged.ok());
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(*logged, '\n', absl::SkipEmpty())) {
    ++lines;
    EXPECT_NE(line.find("\"component\":\"protobuf\""), std::string::npos) << line;
    EXPECT_NE(line.find("invalid UTF-8"), std::string::npos) << line;
  }
  EXPECT_GE(lines, 1);
  EXPECT_LE(lines, kProtobufLinesPerMinute);
  EXPECT_GE(SuppressedProtobufLines() - suppressed_before, 1000u - kProtobufLinesPerMinute);
}

}  // namespace
}  // namespace renkei
