#include "common/rate_limiter.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard {
namespace {

TEST(RateLimiterTest, ABurstThenTheSustainedRate) {
  FakeClock clock;
  RateLimiter limiter(clock);
  const RateLimit limit{.requests_per_second = 2, .burst = 3};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire("a", limit), absl::ZeroDuration()) << i;
  EXPECT_EQ(limiter.Acquire("a", limit), absl::Milliseconds(500));
  clock.Advance(absl::Milliseconds(200));
  EXPECT_EQ(limiter.Acquire("a", limit), absl::Milliseconds(300));
  clock.Advance(absl::Milliseconds(300));
  EXPECT_EQ(limiter.Acquire("a", limit), absl::ZeroDuration());
  // An idle bucket refills to the burst, no further.
  clock.Advance(absl::Hours(1));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire("a", limit), absl::ZeroDuration()) << i;
  EXPECT_GT(limiter.Acquire("a", limit), absl::ZeroDuration());
}

// Refill follows the monotonic clock: the wall clock stepping back an hour
// does not stop it, and stepping forward a day does not fill the bucket.
TEST(RateLimiterTest, StepsOfTheWallClockNeitherStopNorFloodTheRefill) {
  FakeClock clock;
  RateLimiter limiter(clock);
  const RateLimit limit{.requests_per_second = 2, .burst = 3};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire("a", limit), absl::ZeroDuration()) << i;
  clock.SetTime(clock.Now() - absl::Hours(1));
  clock.Advance(absl::Milliseconds(500));
  EXPECT_EQ(limiter.Acquire("a", limit), absl::ZeroDuration()) << "refill stopped by the step";
  clock.SetTime(clock.Now() + absl::Hours(24));
  EXPECT_EQ(limiter.Acquire("a", limit), absl::Milliseconds(500)) << "the step filled the bucket";
}

TEST(RateLimiterTest, EachKeyHasItsOwnBucketAndZeroIsUnlimited) {
  FakeClock clock;
  RateLimiter limiter(clock);
  const RateLimit one{.requests_per_second = 1, .burst = 1};
  EXPECT_EQ(limiter.Acquire("noisy", one), absl::ZeroDuration());
  EXPECT_GT(limiter.Acquire("noisy", one), absl::ZeroDuration());
  EXPECT_EQ(limiter.Acquire("quiet", one), absl::ZeroDuration());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.Acquire("service", {}), absl::ZeroDuration());
}

TEST(RateLimiterTest, ConcurrentCallersGetExactlyTheBurst) {
  FakeClock clock;
  RateLimiter limiter(clock);
  const RateLimit limit{.requests_per_second = 1, .burst = 100};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (limiter.Acquire("shared", limit) == absl::ZeroDuration()) ++admitted;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(admitted.load(), 100);
}

}  // namespace
}  // namespace switchboard
