#include "common/worker_loop.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace switchboard {
namespace {

// Polls `condition` for up to 10 s of real time.
template <typename Condition>
bool Eventually(Condition condition) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!condition()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TEST(DoorbellTest, ARingBeforeTheWaitIsNotLost) {
  FakeClock clock;
  Doorbell doorbell;
  doorbell.Ring();
  EXPECT_TRUE(
      doorbell.Wait(clock, absl::InfiniteFuture(), absl::InfiniteDuration()));  // returns at once
}

TEST(DoorbellTest, WaitEndsAtTheDeadlineOnTheGivenClock) {
  FakeClock clock;
  Doorbell doorbell;
  std::atomic<bool> returned{false};
  const absl::Time deadline = clock.Now() + absl::Minutes(5);
  std::thread waiter([&] {
    EXPECT_TRUE(doorbell.Wait(clock, deadline, absl::InfiniteDuration()));
    returned = true;
  });
  clock.Advance(absl::Minutes(4));
  absl::SleepFor(absl::Milliseconds(20));  // a chance to return early, which it must not take
  EXPECT_FALSE(returned);
  clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(Eventually([&] { return returned.load(); }));
  waiter.join();
}

TEST(DoorbellTest, SleepIgnoresRingsButKeepsThemForTheNextWait) {
  FakeClock clock;
  Doorbell doorbell;
  std::atomic<bool> returned{false};
  std::thread sleeper([&] {
    EXPECT_TRUE(doorbell.Sleep(clock, absl::Seconds(1)));
    returned = true;
  });
  doorbell.Ring();
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_FALSE(returned);
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(Eventually([&] { return returned.load(); }));
  sleeper.join();
  EXPECT_TRUE(
      doorbell.Wait(clock, absl::InfiniteFuture(), absl::InfiniteDuration()));  // the ring was kept
}

// A wait for a duration (a backoff, an idle poll) is on the monotonic clock:
// the wall clock stepping back an hour does not stretch it, and stepping
// forward a day does not cut it short.
TEST(DoorbellTest, AWaitForADurationIgnoresStepsOfTheWallClock) {
  FakeClock clock;
  Doorbell doorbell;
  std::atomic<bool> returned{false};
  const int waits = clock.waits_begun();
  std::thread sleeper([&] {
    EXPECT_TRUE(doorbell.Sleep(clock, absl::Seconds(5)));
    returned = true;
  });
  ASSERT_TRUE(Eventually([&] { return clock.waits_begun() > waits; }));
  clock.SetTime(clock.Now() + absl::Hours(24));
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_FALSE(returned) << "a step forward cut the sleep short";
  clock.SetTime(clock.Now() - absl::Hours(25));
  clock.Advance(absl::Seconds(5));
  EXPECT_TRUE(Eventually([&] { return returned.load(); })) << "a step back stretched the sleep";
  sleeper.join();
}

// A wall-clock deadline (an SLA due) does follow the wall clock.
TEST(DoorbellTest, AWaitForAnInstantFollowsTheWallClock) {
  FakeClock clock;
  Doorbell doorbell;
  std::atomic<bool> returned{false};
  const absl::Time due = clock.Now() + absl::Hours(2);
  std::thread waiter([&] {
    EXPECT_TRUE(doorbell.Wait(clock, due, absl::InfiniteDuration()));
    returned = true;
  });
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_FALSE(returned);
  clock.SetTime(due);
  EXPECT_TRUE(Eventually([&] { return returned.load(); }));
  waiter.join();
}

TEST(DoorbellTest, CloseWakesEveryWaitForGood) {
  FakeClock clock;
  Doorbell doorbell;
  std::thread waiter([&] {
    EXPECT_FALSE(doorbell.Wait(clock, absl::InfiniteFuture(), absl::InfiniteDuration()));
  });
  doorbell.Close();
  waiter.join();
  EXPECT_FALSE(doorbell.Wait(clock, absl::InfiniteFuture(), absl::InfiniteDuration()));
  EXPECT_FALSE(doorbell.Sleep(clock, absl::InfiniteDuration()));
}

TEST(WorkerLoopTest, RunsStepsWhileThereIsProgressThenWaitsForTheDoorbell) {
  FakeClock clock;
  Doorbell doorbell;
  std::atomic<int> work{3};
  std::atomic<int> steps{0};
  WorkerLoop loop("test", clock, doorbell, {.idle_poll = absl::Hours(1)}, [&] {
    ++steps;
    if (work > 0) {
      --work;
      return WorkerLoop::Step::Progress();
    }
    return WorkerLoop::Step::Idle();
  });
  loop.Start();
  EXPECT_TRUE(Eventually([&] { return steps.load() == 4; }));  // 3 with work, 1 idle
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(steps, 4);  // idle: no step until rung (the fake clock stands still)
  work = 1;
  doorbell.Ring();
  EXPECT_TRUE(Eventually([&] { return steps.load() == 6; }));
  loop.Stop();
}

TEST(WorkerLoopTest, AnIdleLoopLooksAgainAfterThePollIntervalOrItsWakeTime) {
  FakeClock clock;
  Doorbell doorbell;
  std::atomic<int> steps{0};
  const absl::Time wake_at = clock.Now() + absl::Seconds(10);
  WorkerLoop loop("test", clock, doorbell, {.idle_poll = absl::Minutes(1)}, [&] {
    // The first step has a deadline ahead of it (an SLA timer); later ones not.
    return ++steps == 1 ? WorkerLoop::Step::Idle(wake_at) : WorkerLoop::Step::Idle();
  });
  loop.Start();
  EXPECT_TRUE(Eventually([&] { return steps.load() == 1; }));
  clock.Advance(absl::Seconds(10));  // the step's own wake time
  EXPECT_TRUE(Eventually([&] { return steps.load() == 2; }));
  // The poll interval counts from when the loop starts waiting again.
  EXPECT_TRUE(Eventually([&] { return clock.waits_begun() == 2; }));
  clock.Advance(absl::Seconds(59));
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(steps, 2);
  clock.Advance(absl::Seconds(1));  // now the poll interval
  EXPECT_TRUE(Eventually([&] { return steps.load() == 3; }));
  loop.Stop();
}

TEST(WorkerLoopTest, AFailedStepIsRetriedAfterABackoffThatRingsDoNotCutShort) {
  FakeClock clock;
  Doorbell doorbell;
  std::atomic<int> steps{0};
  WorkerLoop loop("test", clock, doorbell,
                  {.idle_poll = absl::Hours(1),
                   .backoff = {.initial = absl::Seconds(8), .max = absl::Seconds(8)}},
                  [&] {
                    ++steps;
                    return WorkerLoop::Step::Failed();
                  });
  loop.Start();
  EXPECT_TRUE(Eventually([&] { return steps.load() == 1; }));
  EXPECT_TRUE(Eventually([&] { return clock.waits_begun() == 1; }));  // the backoff began
  doorbell.Ring();
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(steps, 1);
  clock.Advance(absl::Seconds(8));  // at most the backoff's ceiling
  EXPECT_TRUE(Eventually([&] { return steps.load() == 2; }));
  loop.Stop();
}

TEST(WorkerLoopTest, StopEndsAWaitingLoopAndIsIdempotent) {
  FakeClock clock;
  Doorbell doorbell;
  WorkerLoop loop("test", clock, doorbell, {}, [] { return WorkerLoop::Step::Idle(); });
  loop.Start();
  loop.Stop();
  loop.Stop();
}

}  // namespace
}  // namespace switchboard
