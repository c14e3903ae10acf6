#include "common/backoff.h"

#include <gtest/gtest.h>

namespace switchboard {
namespace {

TEST(ExponentialBackoffTest, CeilingGrowsThenCaps) {
  ExponentialBackoff backoff({.initial = absl::Milliseconds(100), .max = absl::Seconds(1)});
  const absl::Duration expected[] = {absl::Milliseconds(100), absl::Milliseconds(200),
                                     absl::Milliseconds(400), absl::Milliseconds(800),
                                     absl::Seconds(1),        absl::Seconds(1)};
  for (absl::Duration ceiling : expected) {
    EXPECT_EQ(backoff.ceiling(), ceiling);
    const absl::Duration delay = backoff.Next();
    EXPECT_GE(delay, absl::ZeroDuration());
    EXPECT_LE(delay, ceiling);
  }
  backoff.Reset();
  EXPECT_EQ(backoff.ceiling(), absl::Milliseconds(100));
}

TEST(ExponentialBackoffTest, DelaysAreJittered) {
  ExponentialBackoff backoff({.initial = absl::Seconds(10), .max = absl::Seconds(10)});
  absl::Duration first = backoff.Next();
  bool differs = false;
  for (int i = 0; i < 20 && !differs; ++i) differs = backoff.Next() != first;
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace switchboard
