// Exponential backoff with full jitter, for retrying calls to another
// service: each delay is drawn uniformly from [0, min(max, initial * m^n)].
//
//   ExponentialBackoff backoff({.initial = absl::Milliseconds(50), .max = absl::Seconds(5)});
//   while (!(status = CallRouting()).ok()) clock.SleepFor(backoff.Next());
//   backoff.Reset();
#ifndef SWITCHBOARD_COMMON_BACKOFF_H_
#define SWITCHBOARD_COMMON_BACKOFF_H_

#include "absl/random/random.h"
#include "absl/time/time.h"

namespace switchboard {

class ExponentialBackoff {
 public:
  struct Options {
    absl::Duration initial = absl::Milliseconds(50);
    absl::Duration max = absl::Seconds(5);
    double multiplier = 2.0;
  };

  explicit ExponentialBackoff(Options options) : options_(options) {}

  // The delay before the next attempt; grows with each call until Reset().
  absl::Duration Next();

  // The ceiling the next delay is drawn below.
  absl::Duration ceiling() const {
    return ceiling_ < options_.initial ? options_.initial : ceiling_;
  }

  // Starts over after a success.
  void Reset() { ceiling_ = absl::ZeroDuration(); }

 private:
  Options options_;
  absl::Duration ceiling_ = absl::ZeroDuration();
  absl::BitGen random_;
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_BACKOFF_H_
