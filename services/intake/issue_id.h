// Issue ids: unique, time-ordered, and unique across restarts.
//
// An id is 26 characters of lowercase Crockford base32 (ULID layout): 48 bits
// of milliseconds since the Unix epoch (10 characters), then the intake
// partition that made it (10 bits: characters 11 and 12), then 70 bits of
// randomness. Ids made by one generator strictly increase, even when the
// clock stalls or steps back: within one millisecond (or behind the last id)
// the random part is incremented instead. The generator starts above the
// highest id already stored, so a restart never reuses or precedes an
// existing id. Ids of different partitions differ in their partition bits,
// so they are unique across a cluster, and ordered by time to the
// millisecond. (Ids made before partitions have random bits there; they are
// only ever read by a single-partition deployment.)
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

// The most partitions an id can name.
inline constexpr int kMaxIdPartitions = 1024;

// Whether `id` has the form of an issue id.
bool IsValidIssueId(absl::string_view id);

// The partition bits of a valid id (0..1023).
int IssueIdPartition(absl::string_view id);

// The intake partition of `count` that holds issue `name` ("issues/{id}"),
// or -1 when `name` is not an issue name or names a partition beyond count.
int IssuePartitionOf(absl::string_view name, int count);

// "issues/{id}" → id; empty when `name` is not of that form.
absl::string_view IssueIdFromName(absl::string_view name);

std::string IssueName(absl::string_view id);

class IssueIdGenerator {
 public:
  // `floor`: the highest id already in use ("" for none); `partition`: the
  // intake partition the ids are made by (0..kMaxIdPartitions-1).
  IssueIdGenerator(Clock& clock, absl::string_view floor, int partition = 0);

  // A new id, greater than every id made or passed as floor before.
  std::string Next();

 private:
  using Bits = std::array<uint8_t, 16>;  // 128 bits, big-endian

  static std::string Encode(const Bits& bits);

  Clock& clock_;
  const int partition_;
  Mutex mu_;
  Bits last_ ABSL_GUARDED_BY(mu_){};
  absl::BitGen random_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_ISSUE_ID_H_
