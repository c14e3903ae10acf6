#include "services/routing/routing_metrics.h"

namespace switchboard::routing {
namespace {

const std::vector<double>& DecisionBuckets() {
  static const auto* buckets = new std::vector<double>{
      1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1};
  return *buckets;
}

}  // namespace

RoutingMetrics::RoutingMetrics(prometheus::Registry& registry)
    : decisions(prometheus::BuildCounter()
                    .Name("switchboard_routing_decisions_total")
                    .Help("Routing decisions, by owning business group and deciding rule "
                          "(rule=\"\" for the default route).")
                    .Register(registry)),
      default_decisions(prometheus::BuildCounter()
                            .Name("switchboard_routing_default_decisions_total")
                            .Help("Routing decisions that fell back to the default target.")
                            .Register(registry)
                            .Add({})),
      decision_seconds(prometheus::BuildHistogram()
                           .Name("switchboard_routing_decision_seconds")
                           .Help("Time to make one routing or escalation decision.")
                           .Register(registry)
                           .Add({}, DecisionBuckets())),
      active_revision(prometheus::BuildGauge()
                          .Name("switchboard_routing_active_revision")
                          .Help("Revision of the active ruleset; 0 before the first apply.")
                          .Register(registry)
                          .Add({})),
      active_rules(prometheus::BuildGauge()
                       .Name("switchboard_routing_active_rules")
                       .Help("Rules in the active ruleset.")
                       .Register(registry)
                       .Add({})),
      applies(prometheus::BuildCounter()
                  .Name("switchboard_routing_applies_total")
                  .Help("ApplyRuleset outcomes: ok, invalid, aborted or error.")
                  .Register(registry)),
      correlation_matches(prometheus::BuildCounter()
                              .Name("switchboard_routing_correlation_matches_total")
                              .Help("Routing decisions that a correlation policy applied to, by "
                                    "policy: issues that are, or may become, part of a problem.")
                              .Register(registry)) {}

prometheus::Counter& RoutingMetrics::Decisions(absl::string_view business_group,
                                               absl::string_view rule) {
  return decisions.Add({{"business_group", std::string(business_group)}, {"rule", rules(rule)}});
}

prometheus::Counter& RoutingMetrics::CorrelationMatches(absl::string_view policy) {
  return correlation_matches.Add({{"policy", policies(policy)}});
}

}  // namespace switchboard::routing
