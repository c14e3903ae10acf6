#include "common/sync.h"

#include <algorithm>
#include <chrono>

#include "absl/time/clock.h"

namespace switchboard {

bool CondVar::WaitWithDeadline(Mutex& mu, absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) {
    Wait(mu);
    return true;
  }
  return cv_.wait_until(mu, absl::ToChronoTime(deadline)) == std::cv_status::no_timeout;
}

bool CondVar::WaitWithTimeout(Mutex& mu, absl::Duration timeout) {
  // Past a century, as forever: steady_clock::now() + the timeout in
  // nanoseconds would overflow.
  if (timeout > absl::Hours(24 * 365 * 100)) {
    Wait(mu);
    return true;
  }
  // On the steady clock: a step of the wall clock neither stretches nor
  // cuts short a wait for a duration.
  return cv_.wait_for(mu, absl::ToChronoNanoseconds(std::max(timeout, absl::ZeroDuration()))) ==
         std::cv_status::no_timeout;
}

void OneShot::Fire() {
  MutexLock lock(mu_);
  fired_ = true;
  cv_.SignalAll();
}

bool OneShot::HasFired() {
  MutexLock lock(mu_);
  return fired_;
}

void OneShot::Wait() {
  MutexLock lock(mu_);
  while (!fired_) cv_.Wait(mu_);
}

bool OneShot::WaitFor(absl::Duration timeout) {
  if (timeout > absl::Hours(24 * 365 * 100)) {
    Wait();
    return true;
  }
  const auto end = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  MutexLock lock(mu_);
  while (!fired_) {
    const auto left = end - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return fired_;
    cv_.WaitWithTimeout(mu_, absl::FromChrono(left));
  }
  return true;
}

void BlockingCounter::DecrementCount() {
  MutexLock lock(mu_);
  if (--count_ <= 0) cv_.SignalAll();
}

void BlockingCounter::Wait() {
  MutexLock lock(mu_);
  while (count_ > 0) cv_.Wait(mu_);
}

}  // namespace switchboard
