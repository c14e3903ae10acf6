#include "common/clock.h"

#include <algorithm>
#include <chrono>

namespace switchboard {
namespace {

// The longest a wait for a wall-clock deadline sleeps before it looks at
// the wall clock again: a step forward is noticed within this.
constexpr absl::Duration kWallRecheck = absl::Seconds(1);

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }

  absl::Duration Monotonic() const override {
    return absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
  }

  bool Await(Mutex& mu, CondVar& cv, const bool& wake, absl::Time deadline,
             absl::Duration timeout) const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const absl::Duration end = timeout == absl::InfiniteDuration()
                                   ? absl::InfiniteDuration()
                                   : Monotonic() + std::max(timeout, absl::ZeroDuration());
    // Every wait is on the monotonic clock (CondVar::WaitWithTimeout), in
    // slices of at most kWallRecheck while a wall deadline is set.
    while (!wake) {
      const absl::Duration left = end - Monotonic();
      if (left <= absl::ZeroDuration()) return true;
      absl::Duration slice = left;
      if (deadline != absl::InfiniteFuture()) {
        const absl::Duration until = deadline - absl::Now();
        if (until <= absl::ZeroDuration()) return true;
        slice = std::min({slice, until, kWallRecheck});
      }
      if (slice == absl::InfiniteDuration()) {
        cv.Wait(mu);
      } else {
        cv.WaitWithTimeout(mu, slice);
      }
    }
    return false;
  }
};

}  // namespace

Clock& Clock::Real() {
  static RealClock* clock = new RealClock();
  return *clock;
}

FakeClock::FakeClock(absl::Time start) : now_(start), monotonic_(absl::Hours(1)) {}

absl::Time FakeClock::Now() const {
  MutexLock lock(mu_);
  return now_;
}

absl::Duration FakeClock::Monotonic() const {
  MutexLock lock(mu_);
  return monotonic_;
}

bool FakeClock::Await(Mutex& mu, CondVar& cv, const bool& wake, absl::Time deadline,
                      absl::Duration timeout) const {
  // Advance() does not know the waiters' condition variables, so poll the
  // fake time in short real-time steps; only tests use this clock.
  const absl::Duration end = timeout == absl::InfiniteDuration()
                                 ? absl::InfiniteDuration()
                                 : Monotonic() + std::max(timeout, absl::ZeroDuration());
  waits_begun_.fetch_add(1);
  while (!wake) {
    if (Now() >= deadline || Monotonic() >= end) return true;
    cv.WaitWithTimeout(mu, absl::Milliseconds(1));
  }
  return false;
}

void FakeClock::Advance(absl::Duration delta) {
  MutexLock lock(mu_);
  now_ += delta;
  monotonic_ += delta;
}

void FakeClock::SetTime(absl::Time now) {
  MutexLock lock(mu_);
  now_ = now;
}

}  // namespace switchboard
