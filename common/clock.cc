#include "common/clock.h"

namespace switchboard {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }

  bool AwaitDeadline(Mutex& mu, CondVar& cv, const bool& wake, absl::Time deadline) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    while (!wake) {
      if (absl::Now() >= deadline) return true;
      cv.WaitWithDeadline(mu, deadline);
    }
    return false;
  }
};

}  // namespace

Clock& Clock::Real() {
  static RealClock* clock = new RealClock();
  return *clock;
}

FakeClock::FakeClock(absl::Time start) : now_(start) {}

absl::Time FakeClock::Now() const {
  MutexLock lock(mu_);
  return now_;
}

bool FakeClock::AwaitDeadline(Mutex& mu, CondVar& cv, const bool& wake, absl::Time deadline) const {
  // Advance() does not know the waiters' condition variables, so poll the
  // fake time in short real-time steps; only tests use this clock.
  waits_begun_.fetch_add(1);
  while (!wake) {
    if (Now() >= deadline) return true;
    cv.WaitWithTimeout(mu, absl::Milliseconds(1));
  }
  return false;
}

void FakeClock::Advance(absl::Duration delta) {
  MutexLock lock(mu_);
  now_ += delta;
}

void FakeClock::SetTime(absl::Time now) {
  MutexLock lock(mu_);
  now_ = now;
}

}  // namespace switchboard
