#include "common/clock_watch.h"

#include "common/logging.h"

namespace switchboard {
namespace {

prometheus::Family<prometheus::Counter>& Steps(prometheus::Registry& registry) {
  return prometheus::BuildCounter()
      .Name("switchboard_clock_steps_total")
      .Help("Steps of the wall clock of more than 2 seconds, by direction (forward, back).")
      .Register(registry);
}

}  // namespace

ClockWatch::ClockWatch(Clock& clock, prometheus::Registry& registry, absl::Duration interval,
                       absl::Duration tolerance)
    : clock_(clock),
      tolerance_(tolerance),
      forward_(Steps(registry).Add({{"direction", "forward"}})),
      back_(Steps(registry).Add({{"direction", "back"}})),
      last_wall_(clock.Now()),
      last_monotonic_(clock.Monotonic()),
      task_(clock, interval, [this] { Look(); }) {}

void ClockWatch::Look() {
  const absl::Time wall = clock_.Now();
  const absl::Duration monotonic = clock_.Monotonic();
  const absl::Duration gap = (wall - last_wall_) - (monotonic - last_monotonic_);
  last_wall_ = wall;
  last_monotonic_ = monotonic;
  if (absl::AbsDuration(gap) <= tolerance_) return;
  (gap > absl::ZeroDuration() ? forward_ : back_).Increment();
  log::Warning("wall clock stepped",
               {{"direction", gap > absl::ZeroDuration() ? "forward" : "back"},
                {"by_seconds", absl::ToDoubleSeconds(absl::AbsDuration(gap))},
                {"now", absl::FormatTime(wall)}});
}

}  // namespace switchboard
