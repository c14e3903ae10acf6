#include "common/clock.h"

namespace switchboard {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }

  bool AwaitDeadline(absl::Mutex& mu, const bool& wake, absl::Time deadline) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return !mu.AwaitWithDeadline(absl::Condition(&wake), deadline);
  }
};

}  // namespace

Clock& Clock::Real() {
  static RealClock* clock = new RealClock();
  return *clock;
}

FakeClock::FakeClock(absl::Time start) : now_(start) {}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

bool FakeClock::AwaitDeadline(absl::Mutex& mu, const bool& wake, absl::Time deadline) const {
  // The waiter's mutex is not ours to signal, so poll the fake time in short
  // real-time steps; only tests use this clock.
  while (!wake) {
    if (Now() >= deadline) return true;
    mu.AwaitWithTimeout(absl::Condition(&wake), absl::Milliseconds(1));
  }
  return false;
}

void FakeClock::Advance(absl::Duration delta) {
  absl::MutexLock lock(&mu_);
  now_ += delta;
}

void FakeClock::SetTime(absl::Time now) {
  absl::MutexLock lock(&mu_);
  now_ = now;
}

}  // namespace switchboard
