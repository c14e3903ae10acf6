// A ruleset compiled for routing: immutable once built, shared by every
// request through a std::shared_ptr<const CompiledRuleset>, so an apply swaps
// one pointer and no decision ever sees half of one ruleset and half of
// another.
//
// Routing keeps the first-match order of the rules exactly, without testing
// every rule: each rule that has an equality or IN condition on a field such
// as product, source, region, customer or a label is filed under those
// values, and only the rules filed under the issue's values (plus the rules
// that could not be filed) are tested, in rule order. RE2 patterns are
// compiled once, here.
//
//   ASSIGN_OR_RETURN(auto compiled, CompiledRuleset::Compile(ruleset, &metrics));
//   RoutingDecision decision = compiled->Route(issue, /*explain=*/false);
#ifndef SWITCHBOARD_SERVICES_ROUTING_COMPILED_RULESET_H_
#define SWITCHBOARD_SERVICES_ROUTING_COMPILED_RULESET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <re2/re2.h>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/business_calendar.h"
#include "services/routing/correlation.h"
#include "services/routing/issue_fields.h"
#include "services/routing/routing_metrics.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::routing {

class CompiledRuleset {
 public:
  // Validates and compiles `ruleset`: INVALID_ARGUMENT listing every
  // violation (see ValidateRuleset), with field paths under `field`. With
  // `metrics`, decisions are counted by business group and rule; candidates
  // under test pass none. A ruleset already stored passes
  // ZoneData::kNotRequired: it loads even where a calendar's time zone is
  // missing from this machine's zone data (intake then counts calendar time
  // for it), since refusing it would stop routing altogether.
  static absl::StatusOr<std::shared_ptr<const CompiledRuleset>> Compile(
      v1::Ruleset ruleset, RoutingMetrics* metrics, absl::string_view field = "ruleset",
      ZoneData zone_data = ZoneData::kRequired);

  ~CompiledRuleset();

  const v1::Ruleset& ruleset() const { return ruleset_; }
  int64_t revision() const { return ruleset_.revision(); }

  // The owner of `issue`: the target of the first rule, in order, whose
  // conditions all hold, or the default target; with the correlation policy
  // that applies to the issue, if one does. With `explain`, the decision
  // carries one trace entry per rule considered, in order.
  v1::RoutingDecision Route(const issue::v1::Issue& issue, bool explain) const;

  // The same decision as Route(issue, false), found by testing every rule in
  // order without the index: the baseline for benchmarks and tests.
  v1::RoutingDecision RouteSequentially(const issue::v1::Issue& issue) const;

  // The next owner after `issue.assignment`: entry `escalation_level` of the
  // escalation list of the original owner's team. FAILED_PRECONDITION when
  // that team is not in this ruleset or its list is exhausted.
  absl::StatusOr<v1::RoutingDecision> Escalate(const issue::v1::Issue& issue) const;

  // A decision for a manual transfer to `target`, with its group's default
  // SLA. INVALID_ARGUMENT (a violation on `field`) when the target is not a
  // team of this ruleset.
  absl::StatusOr<v1::RoutingDecision> RouteTo(const issue::v1::Issue& issue,
                                              const issue::v1::Target& target,
                                              absl::string_view field) const;

 private:
  struct Condition;
  struct Rule;
  struct Team;
  struct Index;

  CompiledRuleset();

  // Whether all of `rule`'s conditions hold; with `reason`, why or why not.
  bool Matches(const Rule& rule, const issue::v1::Issue& issue, std::string* reason) const;
  v1::RoutingDecision Decide(const Rule* rule, const issue::v1::Issue& issue) const;
  // Sets the decision's SLA for an issue of `severity` owned by its target:
  // the targets of `policy` (none without one) and `decision.sla`, the terms
  // intake keeps on the issue.
  void SetSla(const v1::SlaPolicy* policy, issue::v1::Severity severity,
              v1::RoutingDecision& decision) const;
  const v1::SlaPolicy* GroupPolicy(absl::string_view business_group) const;
  // The calendar of `target`'s team, else of its group; null when neither
  // names one.
  const issue::v1::Calendar* CalendarOf(const issue::v1::Target& target) const;
  // Sets the decision's escalation_contacts from its original target's team.
  void SetEscalationContacts(v1::RoutingDecision& decision) const;

  v1::Ruleset ruleset_;
  std::vector<Rule> rules_;
  std::vector<Index> indexes_;
  std::vector<int> unindexed_;  // rules filed under no value, in order
  absl::flat_hash_map<std::string, Team> teams_;
  absl::flat_hash_map<std::string, const v1::SlaPolicy*> policies_;
  absl::flat_hash_map<std::string, const v1::BusinessGroup*> groups_;
  absl::flat_hash_map<std::string, const issue::v1::Calendar*> calendars_;
  std::unique_ptr<const CompiledCorrelation> correlation_;  // over ruleset_
  prometheus::Counter* default_decisions_ = nullptr;        // {business_group, rule=""}
  prometheus::Counter* default_total_ = nullptr;            // all default-route decisions
};

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_COMPILED_RULESET_H_
