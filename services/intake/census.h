// The open-issue census: how many issues wait in each state, for which
// business group, and for how long the oldest has waited.
//
//   switchboard_intake_open_issues{state,business_group}
//   switchboard_intake_open_issue_oldest_age_seconds{state,business_group}
//
// state is received, routed or acknowledged; received issues have no owner
// yet (business_group=""). A pass reads every open issue from one snapshot,
// so it runs periodically (--census_interval) rather than on each change;
// a series that empties is set to 0, not left at its last value.
#ifndef SWITCHBOARD_SERVICES_INTAKE_CENSUS_H_
#define SWITCHBOARD_SERVICES_INTAKE_CENSUS_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/periodic.h"
#include "common/sync.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/issue_store.h"

namespace switchboard::intake {

class OpenIssueCensus {
 public:
  // (state label, business group label)
  using Key = std::pair<std::string, std::string>;
  struct Tally {
    int64_t issues = 0;
    absl::Duration oldest = absl::ZeroDuration();
  };
  using Result = absl::flat_hash_map<Key, Tally>;

  OpenIssueCensus(const IssueStore& store, IntakeMetrics& metrics, Clock& clock,
                  absl::Duration interval);

  // Runs a pass now and then every interval, on its own thread.
  void Start() { task_.Start(); }
  void Stop() { task_.Stop(); }

  // One pass on the caller's thread; sets the gauges.
  absl::StatusOr<Result> RunOnce();

 private:
  const IssueStore& store_;
  IntakeMetrics& metrics_;
  Clock& clock_;
  Mutex mu_;  // one pass at a time
  absl::flat_hash_set<Key> published_ ABSL_GUARDED_BY(mu_);
  PeriodicTask task_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_CENSUS_H_
