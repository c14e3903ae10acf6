#include "common/clock.h"

#include <thread>

#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"

namespace switchboard {
namespace {

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1000));
  clock.Advance(absl::Minutes(1));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1060));
  clock.SetTime(absl::FromUnixSeconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(5));
}

TEST(FakeClockTest, AdvancePastDeadlineWakesWaiter) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  absl::Mutex mu;
  bool wake = false;
  bool reached = false;
  absl::Notification done;
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    reached = clock.AwaitDeadline(mu, wake, absl::FromUnixSeconds(1000) + absl::Hours(1));
    done.Notify();
  });
  clock.Advance(absl::Minutes(59));
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  waiter.join();
  EXPECT_TRUE(reached);
}

TEST(ClockTest, WakeEndsTheWaitEarly) {
  for (Clock* clock : {static_cast<Clock*>(new FakeClock()), &Clock::Real()}) {
    absl::Mutex mu;
    bool wake = false;
    bool reached = true;
    std::thread waiter([&] {
      absl::MutexLock lock(&mu);
      reached = clock->AwaitDeadline(mu, wake, clock->Now() + absl::Hours(1));
    });
    {
      absl::MutexLock lock(&mu);
      wake = true;
    }
    waiter.join();
    EXPECT_FALSE(reached);
    if (clock != &Clock::Real()) delete clock;
  }
}

TEST(RealClockTest, ReachesShortDeadline) {
  absl::Mutex mu;
  bool wake = false;
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(Clock::Real().AwaitDeadline(mu, wake, absl::Now() + absl::Milliseconds(5)));
}

}  // namespace
}  // namespace switchboard
