// Issue ids: unique, time-ordered, and unique across restarts.
//
// An id is 26 characters of lowercase Crockford base32 (ULID layout): 48 bits
// of milliseconds since the Unix epoch, then 80 bits of randomness. Ids made
// by one generator strictly increase, even when the clock stalls or steps
// back: within one millisecond (or behind the last id) the random part is
// incremented instead. The generator starts above the highest id already
// stored, so a restart never reuses or precedes an existing id.
#ifndef SWITCHBOARD_SERVICES_INTAKE_ISSUE_ID_H_
#define SWITCHBOARD_SERVICES_INTAKE_ISSUE_ID_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/sync.h"

namespace switchboard::intake {

inline constexpr size_t kIssueIdLength = 26;

// Whether `id` has the form of an issue id.
bool IsValidIssueId(absl::string_view id);

// "issues/{id}" → id; empty when `name` is not of that form.
absl::string_view IssueIdFromName(absl::string_view name);

std::string IssueName(absl::string_view id);

class IssueIdGenerator {
 public:
  // `floor`: the highest id already in use ("" for none).
  IssueIdGenerator(Clock& clock, absl::string_view floor);

  // A new id, greater than every id made or passed as floor before.
  std::string Next();

 private:
  using Bits = std::array<uint8_t, 16>;  // 128 bits, big-endian

  static std::string Encode(const Bits& bits);

  Clock& clock_;
  Mutex mu_;
  Bits last_ ABSL_GUARDED_BY(mu_){};
  absl::BitGen random_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_ISSUE_ID_H_
