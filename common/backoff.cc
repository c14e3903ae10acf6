#include "common/backoff.h"

#include <algorithm>
#include <cstdint>

namespace switchboard {

absl::Duration ExponentialBackoff::Next() {
  const absl::Duration ceiling = this->ceiling();
  ceiling_ = std::min(options_.max, ceiling * options_.multiplier);
  return absl::Nanoseconds(
      absl::Uniform<int64_t>(absl::IntervalClosed, random_, 0, absl::ToInt64Nanoseconds(ceiling)));
}

}  // namespace switchboard
