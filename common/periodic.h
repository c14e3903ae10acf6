// A task that runs at once and then every `interval` on its own thread,
// until stopped: the shape of background passes such as notification's
// maintenance and intake's open-issue census.
//
//   PeriodicTask census(Clock::Real(), absl::Seconds(15), [&] { Count(); });
//   census.Start();
//   ...
//   census.Stop();  // waits for a running pass to finish
#ifndef SWITCHBOARD_COMMON_PERIODIC_H_
#define SWITCHBOARD_COMMON_PERIODIC_H_

#include <functional>
#include <thread>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/sync.h"

namespace switchboard {

class PeriodicTask {
 public:
  PeriodicTask(Clock& clock, absl::Duration interval, std::function<void()> task)
      : clock_(clock), interval_(interval), task_(std::move(task)) {}
  ~PeriodicTask() { Stop(); }

  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Start();
  // Idempotent; returns once the thread has ended.
  void Stop();

 private:
  Clock& clock_;
  const absl::Duration interval_;
  const std::function<void()> task_;
  Mutex mu_;
  CondVar cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_PERIODIC_H_
