#include "services/intake/problem_census.h"

#include <algorithm>
#include <vector>

#include "common/logging.h"
#include "common/proto_time.h"
#include "common/status.h"

namespace switchboard::intake {

ProblemCensus::ProblemCensus(const ProblemStore& problems, IntakeMetrics& metrics, Clock& clock,
                             absl::Duration interval)
    : problems_(problems), metrics_(metrics), clock_(clock), task_(clock, interval, [this] {
        if (absl::StatusOr<Result> result = RunOnce(); !result.ok()) {
          log::Error("cannot count the open problems", {{"status", result.status()}});
        }
      }) {}

absl::StatusOr<ProblemCensus::Result> ProblemCensus::RunOnce() {
  MutexLock lock(mu_);
  const absl::Time now = clock_.Now();
  Result result;
  absl::flat_hash_set<std::string> seen;
  for (const issue::v1::ProblemState state :
       {issue::v1::PROBLEM_STATE_OPEN, issue::v1::PROBLEM_STATE_ACKNOWLEDGED}) {
    std::string resume;
    ASSIGN_OR_RETURN(std::vector<issue::v1::Problem> open,
                     problems_.List({{FilterField::kState, issue::v1::ProblemState_Name(state)}},
                                    "", kMaxProblems, kMaxProblems, &resume));
    for (const issue::v1::Problem& problem : open) {
      Group& group = result[metrics_.business_groups(problem.owner().business_group())];
      (state == issue::v1::PROBLEM_STATE_OPEN ? group.open : group.acknowledged) += 1;
      group.customers += problem.affected_customer_count();
      // Growth: links now less links at the oldest sample within the
      // window; a problem opened within the window grew from nothing.
      auto& samples = history_[problem.name()];
      while (!samples.empty() && samples.front().first < now - kGrowthWindow) samples.pop_front();
      const bool young = FromProtoTime(problem.create_time()) >= now - kGrowthWindow;
      const int64_t baseline = young || samples.empty() ? 0 : samples.front().second;
      const int64_t growth =
          young || !samples.empty() ? problem.linked_issue_count() - baseline : 0;
      group.max_growth = std::max(group.max_growth, growth);
      samples.emplace_back(now, problem.linked_issue_count());
      seen.insert(problem.name());
    }
  }
  absl::erase_if(history_, [&](const auto& entry) { return !seen.contains(entry.first); });
  for (const std::string& group : published_) result.try_emplace(group);  // emptied since: zero
  for (const auto& [group, counted] : result) {
    metrics_.open_problems.Add({{"state", "open"}, {"business_group", group}})
        .Set(static_cast<double>(counted.open));
    metrics_.open_problems.Add({{"state", "acknowledged"}, {"business_group", group}})
        .Set(static_cast<double>(counted.acknowledged));
    metrics_.open_problem_customers.Add({{"business_group", group}})
        .Set(static_cast<double>(counted.customers));
    metrics_.open_problem_max_growth.Add({{"business_group", group}})
        .Set(static_cast<double>(counted.max_growth));
    published_.insert(group);
  }
  return result;
}

}  // namespace switchboard::intake
