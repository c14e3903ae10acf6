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

void Notification::Notify() {
  MutexLock lock(mu_);
  notified_ = true;
  cv_.SignalAll();
}

bool Notification::HasBeenNotified() {
  MutexLock lock(mu_);
  return notified_;
}

void Notification::WaitForNotification() {
  MutexLock lock(mu_);
  while (!notified_) cv_.Wait(mu_);
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  MutexLock lock(mu_);
  while (!notified_) {
    if (!cv_.WaitWithDeadline(mu_, deadline)) return notified_;
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
