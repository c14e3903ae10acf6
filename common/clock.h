// Time as a dependency: production code asks a Clock, tests drive a
// FakeClock, so deadlines and timers are tested without sleeping.
//
// Two kinds of time. Now() is the wall clock: what time it is, for ids,
// deadlines that are instants (an SLA due at 17:00) and what is stored.
// Monotonic() never steps: for how long to wait (a backoff, a poll, a rate).
// An operator or NTP may step the wall clock; a wait for a duration must not
// stretch by an hour because the wall clock went back one (docs/faults.md,
// "Clock steps").
//
//   FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
//   TimerQueue timers(clock);          // any code that takes a Clock&
//   clock.Advance(absl::Minutes(15));  // wakes whatever waits on the clock
#ifndef SWITCHBOARD_COMMON_CLOCK_H_
#define SWITCHBOARD_COMMON_CLOCK_H_

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sync.h"

namespace switchboard {

class Clock {
 public:
  virtual ~Clock() = default;

  // The current (wall) time.
  virtual absl::Time Now() const = 0;

  // A reading of a clock that never steps, from an arbitrary origin: only
  // differences between readings mean anything.
  virtual absl::Duration Monotonic() const = 0;

  // Waits, with `mu` held on entry and on return, until Now() >= deadline,
  // or `timeout` has passed on the monotonic clock, or `wake` (guarded by
  // `mu`) is true; returns whether the deadline or the timeout was reached.
  // `mu` is released while waiting; whoever sets `wake` signals `cv`.
  virtual bool Await(Mutex& mu, CondVar& cv, const bool& wake, absl::Time deadline,
                     absl::Duration timeout) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;

  // Await() until a wall-clock instant: a step of the wall clock moves it.
  bool AwaitDeadline(Mutex& mu, CondVar& cv, const bool& wake, absl::Time deadline) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return Await(mu, cv, wake, deadline, absl::InfiniteDuration());
  }

  // Await() for a duration: a step of the wall clock does not change it.
  bool AwaitFor(Mutex& mu, CondVar& cv, const bool& wake, absl::Duration timeout) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return Await(mu, cv, wake, absl::InfiniteFuture(), timeout);
  }

  // The process-wide real clock.
  static Clock& Real();
};

// A clock that moves only when told. Advance() moves both the wall and the
// monotonic time; SetTime() steps the wall clock alone, as an operator or
// NTP stepping the machine's clock. Threads blocked in Await() wake within a
// millisecond of either passing their deadline or timeout.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::UnixEpoch() + absl::Hours(24 * 365 * 50));

  absl::Time Now() const override;
  absl::Duration Monotonic() const override;
  bool Await(Mutex& mu, CondVar& cv, const bool& wake, absl::Time deadline,
             absl::Duration timeout) const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  void Advance(absl::Duration delta);
  void SetTime(absl::Time now);

  // How many waits have begun, so a test can tell that a thread has computed
  // its deadline from Now() and is waiting before it moves the time.
  int waits_begun() const { return waits_begun_.load(); }

 private:
  mutable Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  absl::Duration monotonic_ ABSL_GUARDED_BY(mu_);
  mutable std::atomic<int> waits_begun_{0};
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_CLOCK_H_
