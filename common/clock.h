// Time as a dependency: production code asks a Clock, tests drive a
// FakeClock, so deadlines and timers are tested without sleeping.
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

  // The current time.
  virtual absl::Time Now() const = 0;

  // Waits, with `mu` held on entry and on return, until Now() >= deadline or
  // `wake` (guarded by `mu`) is true; returns whether the deadline was
  // reached. `mu` is released while waiting; whoever sets `wake` signals
  // `cv`.
  virtual bool AwaitDeadline(Mutex& mu, CondVar& cv, const bool& wake, absl::Time deadline) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;

  // The process-wide real clock.
  static Clock& Real();
};

// A clock that moves only when told. Threads blocked in AwaitDeadline wake
// within a millisecond of Advance() or SetTime() passing their deadline.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::UnixEpoch() + absl::Hours(24 * 365 * 50));

  absl::Time Now() const override;
  bool AwaitDeadline(Mutex& mu, CondVar& cv, const bool& wake, absl::Time deadline) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  void Advance(absl::Duration delta);
  void SetTime(absl::Time now);

  // How many waits have begun, so a test can tell that a thread has computed
  // its deadline from Now() and is waiting before it moves the time.
  int waits_begun() const { return waits_begun_.load(); }

 private:
  mutable Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  mutable std::atomic<int> waits_begun_{0};
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_CLOCK_H_
