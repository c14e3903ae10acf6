// Notices the wall clock stepping: each second it compares how far the wall
// clock and the monotonic clock moved. A gap of more than 2 seconds is a
// step (an operator, NTP stepping rather than slewing, a VM resumed): it is
// logged ("wall clock stepped", with how far) and counted in
// switchboard_clock_steps_total{direction="forward"|"back"}.
//
// Waits and backoffs do not care (they are on the monotonic clock), but
// what is measured against the wall does: SLA deadlines (a step forward
// brings due escalations on at once), backlog ages, retention. The alert
// SwitchboardClockStepped says so to whoever sees those move.
//
//   ClockWatch watch(Clock::Real(), registry);
//   watch.Start();
#ifndef SWITCHBOARD_COMMON_CLOCK_WATCH_H_
#define SWITCHBOARD_COMMON_CLOCK_WATCH_H_

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/periodic.h"

namespace switchboard {

class ClockWatch {
 public:
  ClockWatch(Clock& clock, prometheus::Registry& registry,
             absl::Duration interval = absl::Seconds(1),
             absl::Duration tolerance = absl::Seconds(2));

  void Start() { task_.Start(); }
  void Stop() { task_.Stop(); }

 private:
  void Look();

  Clock& clock_;
  const absl::Duration tolerance_;
  prometheus::Counter& forward_;
  prometheus::Counter& back_;
  // Only the task's thread uses these.
  absl::Time last_wall_;
  absl::Duration last_monotonic_;
  PeriodicTask task_;
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_CLOCK_WATCH_H_
