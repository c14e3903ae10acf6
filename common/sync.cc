#include "common/sync.h"

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
  return WaitWithDeadline(mu, absl::Now() + timeout);
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
  const absl::Time deadline = absl::Now() + timeout;
  MutexLock lock(mu_);
  while (!fired_) {
    if (!cv_.WaitWithDeadline(mu_, deadline)) return fired_;
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
