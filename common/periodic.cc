#include "common/periodic.h"

namespace switchboard {

void PeriodicTask::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      task_();
      MutexLock lock(mu_);
      clock_.AwaitFor(mu_, cv_, stopping_, interval_);
      if (stopping_) return;
    }
  });
}

void PeriodicTask::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace switchboard
