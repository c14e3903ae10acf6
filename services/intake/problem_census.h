// The open-problem census: what the operators' "Broad issues" row shows.
//
//   switchboard_intake_open_problems{state,business_group}
//   switchboard_intake_open_problem_customers{business_group}
//   switchboard_intake_open_problem_max_growth{business_group}
//
// state is open or acknowledged. open_problem_customers adds up the distinct
// customers of each open problem; open_problem_max_growth is the most issues
// one open problem of the group gained in the last 15 minutes (alert
// SwitchboardProblemGrowingFast). Each pass reads the open problems of this
// partition through the problem index (there are few: each is an outage)
// and remembers their link counts for 15 minutes. A series that empties is
// set to 0, not left at its last value.
#ifndef SWITCHBOARD_SERVICES_INTAKE_PROBLEM_CENSUS_H_
#define SWITCHBOARD_SERVICES_INTAKE_PROBLEM_CENSUS_H_

#include <deque>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/periodic.h"
#include "common/sync.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/problem_store.h"

namespace switchboard::intake {

class ProblemCensus {
 public:
  static constexpr absl::Duration kGrowthWindow = absl::Minutes(15);
  // Open problems read per state and pass; beyond them a pass counts what
  // it read.
  static constexpr int kMaxProblems = 10000;

  struct Group {
    int64_t open = 0;
    int64_t acknowledged = 0;
    int64_t customers = 0;
    int64_t max_growth = 0;
  };
  // By business group label.
  using Result = absl::flat_hash_map<std::string, Group>;

  ProblemCensus(const ProblemStore& problems, IntakeMetrics& metrics, Clock& clock,
                absl::Duration interval);

  // Runs a pass now and then every interval, on its own thread.
  void Start() { task_.Start(); }
  void Stop() { task_.Stop(); }

  // One pass on the caller's thread; sets the gauges.
  absl::StatusOr<Result> RunOnce();

 private:
  const ProblemStore& problems_;
  IntakeMetrics& metrics_;
  Clock& clock_;
  Mutex mu_;  // one pass at a time
  // Each open problem's link counts over the growth window, oldest first.
  absl::flat_hash_map<std::string, std::deque<std::pair<absl::Time, int64_t>>> history_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> published_ ABSL_GUARDED_BY(mu_);
  PeriodicTask task_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_PROBLEM_CENSUS_H_
