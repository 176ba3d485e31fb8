#include "security_server/replay_cache.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace renkei {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1795000000);
constexpr absl::Duration kWindow = absl::Seconds(60);

TEST(ReplayCache, AcceptsFirstUseOfMessageId) {
  FakeClock clock(kStart);
  ReplayCache cache(clock, 100);
  EXPECT_TRUE(cache.CheckAndRemember("a", kStart, kWindow).ok());
  EXPECT_TRUE(cache.CheckAndRemember("b", kStart, kWindow).ok());
}

TEST(ReplayCache, RejectsSecondUseOfMessageId) {
  FakeClock clock(kStart);
  ReplayCache cache(clock, 100);
  ASSERT_TRUE(cache.CheckAndRemember("a", kStart, kWindow).ok());
  clock.Advance(absl::Seconds(30));
  absl::Status again = cache.CheckAndRemember("a", kStart, kWindow);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(std::string(again.message()).find("replay"), std::string::npos);
}

TEST(ReplayCache, RemembersForTheWholeWindowThenForgets) {
  FakeClock clock(kStart);
  ReplayCache cache(clock, 100);
  ASSERT_TRUE(cache.CheckAndRemember("a", kStart, kWindow).ok());
  clock.Advance(absl::Seconds(60));
  EXPECT_FALSE(cache.CheckAndRemember("a", kStart, kWindow).ok());
  clock.Advance(absl::Seconds(1));
  // Past the window the freshness check rejects the message anyway; the id may go.
  cache.CheckAndRemember("other", clock.Now(), kWindow).IgnoreError();
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ReplayCache, KeepsIdsWithFutureTimestampsUntilTheyExpire) {
  FakeClock clock(kStart);
  ReplayCache cache(clock, 100);
  ASSERT_TRUE(cache.CheckAndRemember("ahead", kStart + absl::Seconds(50), kWindow).ok());
  clock.Advance(absl::Seconds(100));
  EXPECT_EQ(cache.CheckAndRemember("ahead", kStart + absl::Seconds(50), kWindow).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(ReplayCache, RefusesNewIdsWhenFullInsteadOfForgetting) {
  FakeClock clock(kStart);
  ReplayCache cache(clock, 2);
  ASSERT_TRUE(cache.CheckAndRemember("a", kStart, kWindow).ok());
  ASSERT_TRUE(cache.CheckAndRemember("b", kStart, kWindow).ok());
  EXPECT_EQ(cache.CheckAndRemember("c", kStart, kWindow).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(cache.CheckAndRemember("a", kStart, kWindow).code(), absl::StatusCode::kAlreadyExists);
  clock.Advance(absl::Seconds(61));
  EXPECT_TRUE(cache.CheckAndRemember("c", clock.Now(), kWindow).ok());
}

// Issue 8, item 7: the window is the one of the configuration in force, not the one at start.
TEST(ReplayCache, AWiderWindowKeepsIdsLonger) {
  FakeClock clock(kStart);
  ReplayCache cache(clock, 100);
  ASSERT_TRUE(cache.CheckAndRemember("a", kStart, kWindow).ok());
  clock.Advance(absl::Seconds(90));
  EXPECT_EQ(cache.CheckAndRemember("a", kStart, absl::Seconds(120)).code(),
            absl::StatusCode::kAlreadyExists);
}

// Many threads racing on the same ids (as gRPC's callback threads do): each id is accepted
// exactly once. Run under TSan too (`--config=tsan`).
TEST(ReplayCache, ConcurrentCallersAcceptEachIdExactlyOnce) {
  FakeClock clock(kStart);
  ReplayCache cache(clock, 10000);
  constexpr int kThreads = 6, kIds = 500;
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIds; ++i) {
        if (cache.CheckAndRemember(absl::StrCat("id-", i), kStart, kWindow).ok()) ++accepted;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), kIds);
  EXPECT_EQ(cache.size(), static_cast<size_t>(kIds));
}

}  // namespace
}  // namespace renkei
