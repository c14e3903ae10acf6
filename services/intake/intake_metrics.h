// The intake service's metrics: the customer-experience story of issues.
#ifndef SWITCHBOARD_SERVICES_INTAKE_INTAKE_METRICS_H_
#define SWITCHBOARD_SERVICES_INTAKE_INTAKE_METRICS_H_

#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/metrics.h"

namespace switchboard::intake {

struct IntakeMetrics {
  explicit IntakeMetrics(prometheus::Registry& registry);

  void Observe(prometheus::Family<prometheus::Histogram>& family, absl::string_view business_group,
               absl::Duration duration);
  void Count(prometheus::Family<prometheus::Counter>& family, absl::string_view business_group);
  void CountSubmitted(absl::string_view source, absl::string_view severity);
  // An SLA target decided: `target` "ack" or "resolve", `outcome` "met" or
  // "breached".
  void CountSlaOutcome(absl::string_view business_group, absl::string_view target,
                       absl::string_view outcome);
  // A customer rating given (or, with `replaced`, one taken back because a
  // new rating replaced it).
  void CountRating(absl::string_view business_group, absl::string_view team, int rating,
                   bool replaced);
  // A dispatch loop's queue ("route" or "publish"): its size and the age of
  // its oldest item.
  void SetBacklog(absl::string_view queue, int64_t size, absl::Duration oldest_age);
  // A call of a dispatch loop to `peer` failed with `status`.
  void CountDispatchFailure(absl::string_view peer, const absl::Status& status);

  // Label values come from callers and rulesets: at most this many of each,
  // later ones are "other".
  static constexpr size_t kMaxSources = 200;
  static constexpr size_t kMaxBusinessGroups = 200;
  BoundedLabel sources{"source", kMaxSources};
  BoundedLabel business_groups{"business_group", kMaxBusinessGroups};
  static constexpr size_t kMaxTeams = 1000;
  BoundedLabel teams{"team", kMaxTeams};

  // {source, severity}
  prometheus::Family<prometheus::Counter>& submitted;
  // {business_group}
  prometheus::Family<prometheus::Counter>& routed;
  prometheus::Family<prometheus::Histogram>& time_to_route;
  prometheus::Family<prometheus::Histogram>& time_to_acknowledge;
  prometheus::Family<prometheus::Histogram>& time_to_resolve;
  prometheus::Family<prometheus::Counter>& sla_breaches;
  prometheus::Family<prometheus::Counter>& escalations;
  prometheus::Family<prometheus::Counter>& escalations_exhausted;
  // {business_group, target, outcome}
  prometheus::Family<prometheus::Counter>& sla_outcomes;
  // {business_group}: time paused waiting on customers; reopens.
  prometheus::Family<prometheus::Counter>& sla_paused_seconds;
  prometheus::Family<prometheus::Counter>& reopened;
  // {business_group, team, rating}: ratings given, and ratings replaced by a
  // later one (given minus replaced is the standing distribution).
  prometheus::Family<prometheus::Counter>& csat_ratings;
  prometheus::Family<prometheus::Counter>& csat_ratings_replaced;
  // {queue}: route, publish
  prometheus::Family<prometheus::Gauge>& backlog;
  prometheus::Family<prometheus::Gauge>& backlog_oldest_age;
  // {state, business_group}: received (business_group ""), routed,
  // acknowledged; set by OpenIssueCensus.
  prometheus::Family<prometheus::Gauge>& open_issues;
  prometheus::Family<prometheus::Gauge>& open_issue_oldest_age;
  // {peer, code}
  prometheus::Family<prometheus::Counter>& dispatch_failures;

  // Broad problems (counted by the partition that holds the problem).
  prometheus::Family<prometheus::Counter>& problems_opened;
  prometheus::Family<prometheus::Counter>& problem_links;
  prometheus::Family<prometheus::Counter>& problem_escalations;
  prometheus::Family<prometheus::Counter>& problems_resolved;
  // {state, business_group}, {business_group}, {business_group}: the
  // open-problem census (problem_census.h).
  prometheus::Family<prometheus::Gauge>& open_problems;
  prometheus::Family<prometheus::Gauge>& open_problem_customers;
  prometheus::Family<prometheus::Gauge>& open_problem_max_growth;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_INTAKE_METRICS_H_
