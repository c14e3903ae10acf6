// Per-caller token buckets, so that one noisy caller cannot starve the
// others. A bucket holds up to `burst` tokens and refills at
// `requests_per_second`; each call takes one. A call that finds the bucket
// empty is refused with the time until a token will be there.
//
//   absl::Duration wait = limiter.Acquire(caller.name(), limit);
//   if (wait > absl::ZeroDuration()) return ResourceExhaustedWithRetry(..., wait);
#ifndef SWITCHBOARD_COMMON_RATE_LIMITER_H_
#define SWITCHBOARD_COMMON_RATE_LIMITER_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/sync.h"

namespace switchboard {

// A caller's token bucket; requests_per_second 0 is unlimited.
struct RateLimit {
  double requests_per_second = 0;
  double burst = 0;
};

class RateLimiter {
 public:
  explicit RateLimiter(Clock& clock) : clock_(clock) {}

  // Takes a token from `key`'s bucket: ZeroDuration() if there was one, else
  // how long until there will be (nothing is taken then). An unlimited
  // `limit` (requests_per_second 0) always admits. Keys are principals of
  // the access policy, so their number is bounded by it.
  absl::Duration Acquire(absl::string_view key, const RateLimit& limit);

 private:
  struct Bucket {
    double tokens;
    absl::Duration refilled;  // Clock::Monotonic()
  };

  Clock& clock_;
  Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_RATE_LIMITER_H_
