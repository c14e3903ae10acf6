#include "common/rate_limiter.h"

#include <algorithm>

namespace switchboard {

absl::Duration RateLimiter::Acquire(absl::string_view key, const RateLimit& limit) {
  if (limit.requests_per_second <= 0) return absl::ZeroDuration();
  // Monotonic: a step of the wall clock must neither stop the refill nor
  // hand out an hour of tokens.
  const absl::Duration now = clock_.Monotonic();
  MutexLock lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{limit.burst, now});
  Bucket& bucket = it->second;
  if (!inserted && now > bucket.refilled) {
    bucket.tokens =
        std::min(limit.burst, bucket.tokens + absl::ToDoubleSeconds(now - bucket.refilled) *
                                                  limit.requests_per_second);
    bucket.refilled = now;
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return absl::ZeroDuration();
  }
  // At least a microsecond, so that "refused" is never a zero wait.
  return std::max(absl::Microseconds(1),
                  absl::Seconds((1 - bucket.tokens) / limit.requests_per_second));
}

}  // namespace switchboard
