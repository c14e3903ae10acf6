#include "common/clock_watch.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace switchboard {
namespace {

double Steps(prometheus::Registry& registry, const std::string& direction) {
  for (const auto& family : registry.Collect()) {
    if (family.name != "switchboard_clock_steps_total") continue;
    for (const auto& sample : family.metric) {
      if (sample.label[0].value == direction) return sample.counter.value;
    }
  }
  return -1;
}

// Waits (bounded, real time) until `condition`.
template <typename Condition>
bool Eventually(Condition condition) {
  for (int i = 0; i < 2000 && !condition(); ++i) absl::SleepFor(absl::Milliseconds(1));
  return condition();
}

TEST(ClockWatchTest, CountsStepsOfTheWallClockButNotTimePassing) {
  FakeClock clock;
  prometheus::Registry registry;
  ClockWatch watch(clock, registry);
  watch.Start();
  // Time passing normally is no step: the watch looks after each second.
  for (int i = 0; i < 5; ++i) {
    const int waits = clock.waits_begun();
    clock.Advance(absl::Seconds(1));
    ASSERT_TRUE(Eventually([&] { return clock.waits_begun() > waits; }));
  }
  EXPECT_EQ(Steps(registry, "forward"), 0);
  EXPECT_EQ(Steps(registry, "back"), 0);

  // A step, then time passing until the watch has looked again (advancing
  // both clocks alike adds no gap, however many looks it takes).
  clock.SetTime(clock.Now() - absl::Hours(1));
  ASSERT_TRUE(Eventually([&] {
    clock.Advance(absl::Seconds(1));
    return Steps(registry, "back") == 1;
  }));
  clock.SetTime(clock.Now() + absl::Hours(24));
  ASSERT_TRUE(Eventually([&] {
    clock.Advance(absl::Seconds(1));
    return Steps(registry, "forward") == 1;
  }));
  EXPECT_EQ(Steps(registry, "back"), 1);
  watch.Stop();
}

}  // namespace
}  // namespace switchboard
