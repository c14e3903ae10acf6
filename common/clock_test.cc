#include "common/clock.h"

#include <memory>
#include <thread>

#include <gtest/gtest.h>

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
  Mutex mu;
  CondVar cv;
  bool wake = false;
  bool reached = false;
  OneShot done;
  std::thread waiter([&] {
    MutexLock lock(mu);
    reached = clock.AwaitDeadline(mu, cv, wake, absl::FromUnixSeconds(1000) + absl::Hours(1));
    done.Fire();
  });
  clock.Advance(absl::Minutes(59));
  EXPECT_FALSE(done.WaitFor(absl::Milliseconds(50)));
  clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(done.WaitFor(absl::Seconds(10)));
  waiter.join();
  MutexLock lock(mu);
  EXPECT_TRUE(reached);
}

TEST(ClockTest, WakeEndsTheWaitEarly) {
  FakeClock fake;
  for (Clock* clock : {static_cast<Clock*>(&fake), &Clock::Real()}) {
    Mutex mu;
    CondVar cv;
    bool wake = false;
    bool reached = true;
    std::thread waiter([&] {
      MutexLock lock(mu);
      reached = clock->AwaitDeadline(mu, cv, wake, clock->Now() + absl::Hours(1));
    });
    {
      MutexLock lock(mu);
      wake = true;
      cv.SignalAll();
    }
    waiter.join();
    MutexLock lock(mu);
    EXPECT_FALSE(reached);
  }
}

TEST(RealClockTest, ReachesShortDeadline) {
  Mutex mu;
  CondVar cv;
  bool wake = false;
  MutexLock lock(mu);
  EXPECT_TRUE(Clock::Real().AwaitDeadline(mu, cv, wake, absl::Now() + absl::Milliseconds(5)));
}

TEST(RealClockTest, AwaitForWaitsItsDurationOnTheMonotonicClock) {
  Mutex mu;
  CondVar cv;
  bool wake = false;
  MutexLock lock(mu);
  const absl::Duration start = Clock::Real().Monotonic();
  EXPECT_TRUE(Clock::Real().AwaitFor(mu, cv, wake, absl::Milliseconds(30)));
  EXPECT_GE(Clock::Real().Monotonic() - start, absl::Milliseconds(30));
}

TEST(FakeClockTest, SetTimeStepsTheWallClockAloneAndAdvanceMovesBoth) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  const absl::Duration monotonic = clock.Monotonic();
  clock.SetTime(absl::FromUnixSeconds(10));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(10));
  EXPECT_EQ(clock.Monotonic(), monotonic);
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(15));
  EXPECT_EQ(clock.Monotonic(), monotonic + absl::Seconds(5));
}

TEST(SyncTest, BlockingCounterReleasesAtZero) {
  BlockingCounter counter(3);
  std::thread a([&] { counter.DecrementCount(); });
  std::thread b([&] { counter.DecrementCount(); });
  counter.DecrementCount();
  counter.Wait();
  a.join();
  b.join();
}

TEST(SyncTest, OneShotTimesOutThenFires) {
  OneShot fired;
  EXPECT_FALSE(fired.WaitFor(absl::Milliseconds(1)));
  EXPECT_FALSE(fired.HasFired());
  std::thread notifier([&] { fired.Fire(); });
  fired.Wait();
  EXPECT_TRUE(fired.HasFired());
  notifier.join();
}

}  // namespace
}  // namespace switchboard
