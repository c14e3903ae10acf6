// The routing service's own metrics.
#ifndef SWITCHBOARD_SERVICES_ROUTING_ROUTING_METRICS_H_
#define SWITCHBOARD_SERVICES_ROUTING_ROUTING_METRICS_H_

#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/strings/string_view.h"
#include "common/metrics.h"

namespace switchboard::routing {

struct RoutingMetrics {
  explicit RoutingMetrics(prometheus::Registry& registry);

  // The decision counter of one (business group, rule); rule "" is the
  // default route. Created once per compiled rule, then reused.
  prometheus::Counter& Decisions(absl::string_view business_group, absl::string_view rule);

  // switchboard_routing_decisions_total{business_group,rule}; at most
  // kMaxRuleLabels rule names over the process's life, later ones "other".
  static constexpr size_t kMaxRuleLabels = 1000;
  BoundedLabel rules{"rule", kMaxRuleLabels};
  prometheus::Family<prometheus::Counter>& decisions;
  // switchboard_routing_default_decisions_total
  prometheus::Counter& default_decisions;
  // switchboard_routing_decision_seconds: one decision, routing or escalation
  prometheus::Histogram& decision_seconds;
  // switchboard_routing_active_revision, switchboard_routing_active_rules
  prometheus::Gauge& active_revision;
  prometheus::Gauge& active_rules;
  // switchboard_routing_applies_total{result}: ok, invalid, aborted, error
  prometheus::Family<prometheus::Counter>& applies;

  // The correlation counter of one policy. Created once per compiled policy.
  prometheus::Counter& CorrelationMatches(absl::string_view policy);

  // switchboard_routing_correlation_matches_total{policy}: routing decisions
  // that a correlation policy applied to; at most kMaxPolicyLabels policy
  // names over the process's life, later ones "other".
  static constexpr size_t kMaxPolicyLabels = 1000;
  BoundedLabel policies{"policy", kMaxPolicyLabels};
  prometheus::Family<prometheus::Counter>& correlation_matches;
};

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_ROUTING_METRICS_H_
