#include "common/periodic.h"

#include <atomic>

#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace switchboard {
namespace {

// Waits (bounded) until `count` reaches `want`.
bool AwaitCount(const std::atomic<int>& count, int want) {
  for (int i = 0; i < 2000 && count.load() < want; ++i) absl::SleepFor(absl::Milliseconds(1));
  return count.load() >= want;
}

TEST(PeriodicTaskTest, RunsAtOnceThenEveryIntervalOfItsClock) {
  FakeClock clock;
  std::atomic<int> runs{0};
  PeriodicTask task(clock, absl::Seconds(15), [&] { ++runs; });
  task.Start();
  ASSERT_TRUE(AwaitCount(runs, 1));
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(runs.load(), 1) << "ran again before the interval passed";
  clock.Advance(absl::Seconds(15));
  ASSERT_TRUE(AwaitCount(runs, 2));
  clock.Advance(absl::Seconds(15));
  ASSERT_TRUE(AwaitCount(runs, 3));
  task.Stop();
  clock.Advance(absl::Seconds(60));
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(runs.load(), 3) << "ran after Stop()";
}

// The interval is a duration: the wall clock stepping back an hour does not
// hold the next run for an hour, and stepping forward does not bring it on.
TEST(PeriodicTaskTest, StepsOfTheWallClockDoNotMoveTheNextRun) {
  FakeClock clock;
  std::atomic<int> runs{0};
  PeriodicTask task(clock, absl::Seconds(15), [&] { ++runs; });
  task.Start();
  ASSERT_TRUE(AwaitCount(runs, 1));
  // The task waits from now on (so the Advance below is counted).
  for (int i = 0; i < 2000 && clock.waits_begun() < 1; ++i) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_EQ(clock.waits_begun(), 1);
  clock.SetTime(clock.Now() + absl::Hours(24));
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(runs.load(), 1) << "a step forward brought the run on";
  clock.SetTime(clock.Now() - absl::Hours(25));
  clock.Advance(absl::Seconds(15));
  ASSERT_TRUE(AwaitCount(runs, 2)) << "a step back held the run";
  task.Stop();
}

TEST(PeriodicTaskTest, StopWithoutStartAndTwiceIsHarmless) {
  FakeClock clock;
  PeriodicTask never(clock, absl::Seconds(1), [] {});
  never.Stop();
  never.Stop();
  std::atomic<int> runs{0};
  PeriodicTask task(clock, absl::Hours(1), [&] { ++runs; });
  task.Start();
  ASSERT_TRUE(AwaitCount(runs, 1));
  task.Stop();  // wakes the thread out of its hour-long wait at once
  task.Stop();
  EXPECT_EQ(runs.load(), 1);
}

}  // namespace
}  // namespace switchboard
