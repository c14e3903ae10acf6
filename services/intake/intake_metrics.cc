#include "services/intake/intake_metrics.h"

#include <algorithm>

#include "common/status.h"

namespace switchboard::intake {
namespace {

// Seconds, from a second to two weeks: how long people take.
const std::vector<double>& HumanBuckets() {
  static const auto* buckets = new std::vector<double>{
      1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800, 1209600};
  return *buckets;
}

// Seconds, from a millisecond to ten minutes: how long routing takes.
const std::vector<double>& MachineBuckets() {
  static const auto* buckets = new std::vector<double>{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600};
  return *buckets;
}

prometheus::Family<prometheus::Counter>& Counter(prometheus::Registry& registry, const char* name,
                                                 const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Family<prometheus::Histogram>& Histogram(prometheus::Registry& registry,
                                                     const char* name, const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
}

}  // namespace

IntakeMetrics::IntakeMetrics(prometheus::Registry& registry)
    : submitted(Counter(registry, "switchboard_intake_issues_submitted_total",
                        "Issues accepted by SubmitIssue (idempotent retries not counted).")),
      routed(Counter(registry, "switchboard_intake_issues_routed_total",
                     "Issues routed to an owner, by owning business group.")),
      time_to_route(Histogram(registry, "switchboard_intake_time_to_route_seconds",
                              "From an issue's acceptance to its routing.")),
      time_to_acknowledge(Histogram(registry, "switchboard_intake_time_to_acknowledge_seconds",
                                    "From an issue's acceptance to its acknowledgement.")),
      time_to_resolve(Histogram(registry, "switchboard_intake_time_to_resolve_seconds",
                                "From an issue's acceptance to its resolution.")),
      sla_breaches(Counter(registry, "switchboard_intake_sla_breaches_total",
                           "Ack deadlines that passed while the issue was still ROUTED.")),
      escalations(
          Counter(registry, "switchboard_intake_escalations_total",
                  "Issues escalated to the next owner, by the new owner's business group.")),
      escalations_exhausted(Counter(registry, "switchboard_intake_escalations_exhausted_total",
                                    "Breached issues whose escalation list had no next owner.")),
      sla_outcomes(Counter(registry, "switchboard_intake_sla_outcomes_total",
                           "SLA targets decided, by business group, target (ack, resolve) and "
                           "outcome (met, breached).")),
      sla_paused_seconds(Counter(registry, "switchboard_intake_sla_paused_seconds_total",
                                 "SLA time paused while issues waited on their customers, on "
                                 "each issue's SLA clock, by business group.")),
      reopened(Counter(registry, "switchboard_intake_issues_reopened_total",
                       "Resolved issues reopened, by the owner's business group.")),
      csat_ratings(Counter(registry, "switchboard_intake_csat_ratings_total",
                           "Customer ratings (1-5) of resolved issues, by business group and "
                           "team.")),
      csat_ratings_replaced(Counter(registry, "switchboard_intake_csat_ratings_replaced_total",
                                    "Customer ratings replaced by a later rating of the same "
                                    "issue, by business group, team and the old rating.")),
      backlog(prometheus::BuildGauge()
                  .Name("switchboard_intake_backlog")
                  .Help("Items waiting in a dispatch queue: route (issues to route), publish "
                        "(events to publish), mail_{d} (messages to intake partition d).")
                  .Register(registry)),
      backlog_oldest_age(prometheus::BuildGauge()
                             .Name("switchboard_intake_backlog_oldest_age_seconds")
                             .Help("Age of the oldest item waiting in a dispatch queue.")
                             .Register(registry)),
      open_issues(prometheus::BuildGauge()
                      .Name("switchboard_intake_open_issues")
                      .Help("Issues not yet resolved, by state (received, routed, acknowledged, "
                            "waiting_on_customer) "
                            "and owning business group, as of the last census.")
                      .Register(registry)),
      open_issue_oldest_age(prometheus::BuildGauge()
                                .Name("switchboard_intake_open_issue_oldest_age_seconds")
                                .Help("Age (since acceptance) of the oldest issue in each "
                                      "state and business group, as of the last census.")
                                .Register(registry)),
      dispatch_failures(
          Counter(registry, "switchboard_intake_dispatch_failures_total",
                  "Failed calls to routing, notification or another intake partition, by peer "
                  "and status code.")),
      problems_opened(Counter(registry, "switchboard_intake_problems_opened_total",
                              "Problems opened by a correlation policy, by the owner's business "
                              "group.")),
      problem_links(Counter(registry, "switchboard_intake_problem_links_total",
                            "Issues linked to a problem (its opener included), by the problem "
                            "owner's business group.")),
      problem_escalations(Counter(registry, "switchboard_intake_problem_escalations_total",
                                  "Problems whose breadth crossed their policy's thresholds, by "
                                  "the owner's business group.")),
      problems_resolved(Counter(registry, "switchboard_intake_problems_resolved_total",
                                "Problems resolved (each resolving its linked issues), by the "
                                "owner's business group.")),
      open_problems(prometheus::BuildGauge()
                        .Name("switchboard_intake_open_problems")
                        .Help("Problems not yet resolved, by state (open, acknowledged) and "
                              "owning business group, as of the last census.")
                        .Register(registry)),
      open_problem_customers(prometheus::BuildGauge()
                                 .Name("switchboard_intake_open_problem_customers")
                                 .Help("Distinct customers affected by the open problems of "
                                       "each business group, added up over its problems.")
                                 .Register(registry)),
      open_problem_max_growth(prometheus::BuildGauge()
                                  .Name("switchboard_intake_open_problem_max_growth")
                                  .Help("The most issues one open problem of the business "
                                        "group gained in the last 15 minutes.")
                                  .Register(registry)) {
  for (const char* queue : {"route", "publish"}) {
    backlog.Add({{"queue", queue}});
    backlog_oldest_age.Add({{"queue", queue}});
  }
}

void IntakeMetrics::Observe(prometheus::Family<prometheus::Histogram>& family,
                            absl::string_view business_group, absl::Duration duration) {
  const bool human = &family != &time_to_route;
  family
      .Add({{"business_group", business_groups(business_group)}},
           human ? HumanBuckets() : MachineBuckets())
      .Observe(absl::ToDoubleSeconds(duration));
}

void IntakeMetrics::Count(prometheus::Family<prometheus::Counter>& family,
                          absl::string_view business_group) {
  family.Add({{"business_group", business_groups(business_group)}}).Increment();
}

void IntakeMetrics::CountSlaOutcome(absl::string_view business_group, absl::string_view target,
                                    absl::string_view outcome) {
  sla_outcomes
      .Add({{"business_group", business_groups(business_group)},
            {"target", std::string(target)},
            {"outcome", std::string(outcome)}})
      .Increment();
}

void IntakeMetrics::CountRating(absl::string_view business_group, absl::string_view team,
                                int rating, bool replaced) {
  (replaced ? csat_ratings_replaced : csat_ratings)
      .Add({{"business_group", business_groups(business_group)},
            {"team", teams(team)},
            {"rating", std::to_string(rating)}})
      .Increment();
}

void IntakeMetrics::CountSubmitted(absl::string_view source, absl::string_view severity) {
  submitted.Add({{"source", sources(source)}, {"severity", std::string(severity)}}).Increment();
}

void IntakeMetrics::SetBacklog(absl::string_view queue, int64_t size, absl::Duration oldest_age) {
  backlog.Add({{"queue", std::string(queue)}}).Set(static_cast<double>(size));
  backlog_oldest_age.Add({{"queue", std::string(queue)}})
      .Set(std::max(0.0, absl::ToDoubleSeconds(oldest_age)));
}

void IntakeMetrics::CountDispatchFailure(absl::string_view peer, const absl::Status& status) {
  dispatch_failures
      .Add({{"peer", std::string(peer)}, {"code", std::string(StatusCodeName(status.code()))}})
      .Increment();
}

}  // namespace switchboard::intake
