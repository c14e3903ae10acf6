#include "services/routing/compiled_ruleset.h"

#include <algorithm>
#include <climits>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/validation.h"
#include "services/routing/ruleset_validator.h"

namespace switchboard::routing {

using issue::v1::Issue;
using issue::v1::Target;
using v1::RoutingDecision;

namespace {

// An IN condition with more values than this is tested with a hash set.
constexpr int kLinearInValues = 8;
// Explain traces at most this many rules; the rest are summarized.
constexpr int kMaxTraceEntries = 5000;

bool ContainsIgnoreCase(absl::string_view haystack, absl::string_view lowered_needle) {
  return std::search(haystack.begin(), haystack.end(), lowered_needle.begin(), lowered_needle.end(),
                     [](char a, char b) {
                       return absl::ascii_tolower(static_cast<unsigned char>(a)) == b;
                     }) != haystack.end();
}

std::string Shown(absl::string_view value) {
  if (value.empty()) return "(unset)";
  if (value.size() <= 60) return std::string(value);
  // Cut at a character boundary.
  size_t cut = 60;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(value.substr(0, cut), "…");
}

std::string ShownList(const std::vector<std::string>& values) {
  constexpr size_t kShown = 5;
  std::vector<std::string> shown;
  for (size_t i = 0; i < values.size() && i < kShown; ++i) shown.push_back(Shown(values[i]));
  std::string list = absl::StrJoin(shown, ", ");
  if (values.size() > kShown) absl::StrAppend(&list, ", … (+", values.size() - kShown, " more)");
  return absl::StrCat("[", list, "]");
}

}  // namespace

struct CompiledRuleset::Condition {
  FieldRef field;
  v1::Operator op;
  bool negate;
  std::vector<std::string> values;  // lowercased for OPERATOR_CONTAINS
  absl::flat_hash_set<std::string> value_set;
  std::unique_ptr<RE2> regex;

  // Whether the comparison holds for `value`, before negation.
  bool Compare(absl::string_view value) const {
    switch (op) {
      case v1::OPERATOR_EQUALS:
        return value == values.front();
      case v1::OPERATOR_IN:
        if (!value_set.empty()) return value_set.contains(value);
        return std::find(values.begin(), values.end(), value) != values.end();
      case v1::OPERATOR_PREFIX:
        return std::any_of(values.begin(), values.end(), [&](const std::string& prefix) {
          return absl::StartsWith(value, prefix);
        });
      case v1::OPERATOR_REGEX:
        return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *regex);
      case v1::OPERATOR_CONTAINS:
        return std::any_of(values.begin(), values.end(), [&](const std::string& part) {
          return ContainsIgnoreCase(value, part);
        });
      case v1::OPERATOR_EXISTS:
        return !value.empty();
      default:
        return false;
    }
  }

  // What the comparison found, for explain traces.
  std::string Describe(absl::string_view value, bool compared) const {
    const std::string name = field.Name();
    std::string text;
    switch (op) {
      case v1::OPERATOR_EQUALS:
        text = absl::StrCat(name, ": ", Shown(value), compared ? " == " : " != ", values.front());
        break;
      case v1::OPERATOR_IN:
        text = absl::StrCat(name, ": ", Shown(value), compared ? " in " : " not in ",
                            ShownList(values));
        break;
      case v1::OPERATOR_PREFIX:
        text = absl::StrCat(name, ": ", Shown(value),
                            compared ? " starts with one of " : " starts with none of ",
                            ShownList(values));
        break;
      case v1::OPERATOR_REGEX:
        text = absl::StrCat(name, ": ", Shown(value), compared ? " matches /" : " does not match /",
                            regex->pattern(), "/");
        break;
      case v1::OPERATOR_CONTAINS:
        text =
            absl::StrCat(name, ": ", Shown(value),
                         compared ? " contains one of " : " contains none of ", ShownList(values));
        break;
      case v1::OPERATOR_EXISTS:
        text = absl::StrCat(name, compared ? " is set" : " is not set");
        break;
      default:
        text = absl::StrCat(name, ": unknown operator");
    }
    if (negate) absl::StrAppend(&text, " (negated)");
    return text;
  }
};

struct CompiledRuleset::Rule {
  const v1::Rule* proto;
  std::vector<Condition> conditions;
  const v1::SlaPolicy* sla = nullptr;  // the rule's own policy, if it names one
  prometheus::Counter* decisions = nullptr;
};

struct CompiledRuleset::Team {
  const v1::Team* proto;
  std::string business_group;
};

// Rules filed by the values of one field they test for equality.
struct CompiledRuleset::Index {
  FieldRef field;
  absl::flat_hash_map<std::string, std::vector<int>> rules;  // value → rule indices, ascending
};

CompiledRuleset::CompiledRuleset() = default;
CompiledRuleset::~CompiledRuleset() = default;

absl::StatusOr<std::shared_ptr<const CompiledRuleset>> CompiledRuleset::Compile(
    v1::Ruleset ruleset, RoutingMetrics* metrics, absl::string_view field, ZoneData zone_data) {
  Violations violations;
  ValidateRuleset(ruleset, field, violations, zone_data);
  RETURN_IF_ERROR(violations.ToStatus(field));

  std::shared_ptr<CompiledRuleset> compiled(new CompiledRuleset());
  compiled->ruleset_ = std::move(ruleset);
  const v1::Ruleset& proto = compiled->ruleset_;

  for (const v1::SlaPolicy& policy : proto.sla_policies())
    compiled->policies_[policy.id()] = &policy;
  for (const issue::v1::Calendar& calendar : proto.calendars())
    compiled->calendars_[calendar.id()] = &calendar;
  for (const v1::BusinessGroup& group : proto.business_groups()) {
    compiled->groups_[group.id()] = &group;
    for (const v1::Team& team : group.teams())
      compiled->teams_[team.id()] = Team{&team, group.id()};
  }

  // How many distinct equality values each field has across the rules: the
  // field with more values splits the rules finer, so rules are filed under it.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> distinct;
  for (const v1::Rule& rule : proto.rules()) {
    for (const v1::Condition& condition : rule.conditions()) {
      if (condition.negate() ||
          (condition.op() != v1::OPERATOR_EQUALS && condition.op() != v1::OPERATOR_IN)) {
        continue;
      }
      auto& values = distinct[condition.field()];
      values.insert(condition.values().begin(), condition.values().end());
    }
  }

  absl::flat_hash_map<std::string, int> index_of_field;
  compiled->rules_.reserve(proto.rules_size());
  for (int r = 0; r < proto.rules_size(); ++r) {
    const v1::Rule& rule_proto = proto.rules(r);
    Rule& rule = compiled->rules_.emplace_back();
    rule.proto = &rule_proto;
    if (!rule_proto.sla_policy().empty())
      rule.sla = compiled->policies_.at(rule_proto.sla_policy());
    if (metrics != nullptr) {
      rule.decisions = &metrics->Decisions(rule_proto.target().business_group(), rule_proto.id());
    }
    const v1::Condition* filed_under = nullptr;
    size_t best_distinct = 0;
    for (const v1::Condition& condition_proto : rule_proto.conditions()) {
      Condition& condition = rule.conditions.emplace_back();
      condition.field = *ParseField(condition_proto.field());
      condition.op = condition_proto.op();
      condition.negate = condition_proto.negate();
      condition.values.assign(condition_proto.values().begin(), condition_proto.values().end());
      if (condition.op == v1::OPERATOR_CONTAINS) {
        for (std::string& value : condition.values) absl::AsciiStrToLower(&value);
      }
      if (condition.op == v1::OPERATOR_IN && condition.values.size() > kLinearInValues) {
        condition.value_set.insert(condition.values.begin(), condition.values.end());
      }
      if (condition.op == v1::OPERATOR_REGEX) {
        condition.regex = std::make_unique<RE2>(condition.values.front(), RuleRegexOptions());
        if (!condition.regex->ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("rule ", rule_proto.id(), ": ", condition.regex->error()));
        }
      }
      if (!condition.negate &&
          (condition.op == v1::OPERATOR_EQUALS || condition.op == v1::OPERATOR_IN)) {
        const size_t n = distinct[condition_proto.field()].size();
        if (n > best_distinct) {
          best_distinct = n;
          filed_under = &condition_proto;
        }
      }
    }
    if (filed_under == nullptr) {
      compiled->unindexed_.push_back(r);
      continue;
    }
    auto [slot, added] = index_of_field.emplace(filed_under->field(), compiled->indexes_.size());
    if (added) compiled->indexes_.push_back(Index{*ParseField(filed_under->field()), {}});
    Index& index = compiled->indexes_[slot->second];
    for (const std::string& value : filed_under->values()) {
      std::vector<int>& bucket = index.rules[value];
      if (bucket.empty() || bucket.back() != r) bucket.push_back(r);
    }
  }
  compiled->correlation_ = std::make_unique<const CompiledCorrelation>(proto, metrics);
  if (metrics != nullptr) {
    compiled->default_decisions_ = &metrics->Decisions(proto.default_target().business_group(), "");
    compiled->default_total_ = &metrics->default_decisions;
  }
  return std::shared_ptr<const CompiledRuleset>(std::move(compiled));
}

bool CompiledRuleset::Matches(const Rule& rule, const Issue& issue, std::string* reason) const {
  for (const Condition& condition : rule.conditions) {
    const absl::string_view value = FieldValue(issue, condition.field);
    const bool compared = condition.Compare(value);
    if (compared == condition.negate) {
      if (reason != nullptr) *reason = condition.Describe(value, compared);
      return false;
    }
  }
  if (reason != nullptr) {
    *reason = rule.conditions.empty()
                  ? "no conditions: always matches"
                  : absl::StrCat("all ", rule.conditions.size(), " conditions hold");
  }
  return true;
}

RoutingDecision CompiledRuleset::Route(const Issue& issue, bool explain) const {
  if (explain) {
    RoutingDecision decision;
    const Rule* matched = nullptr;
    int traced = 0;
    for (const Rule& rule : rules_) {
      std::string reason;
      const bool matches = Matches(rule, issue, &reason);
      if (traced < kMaxTraceEntries) {
        v1::RuleTrace* trace = decision.add_trace();
        trace->set_rule(rule.proto->id());
        trace->set_matched(matches);
        trace->set_reason(std::move(reason));
      }
      ++traced;
      if (matches) {
        matched = &rule;
        break;
      }
    }
    if (traced > kMaxTraceEntries) {
      v1::RuleTrace* summary = decision.add_trace();
      summary->set_reason(absl::StrCat(traced - kMaxTraceEntries, " more rules did not match"));
    }
    auto trace = std::move(*decision.mutable_trace());
    decision = Decide(matched, issue);
    *decision.mutable_trace() = std::move(trace);
    return decision;
  }

  // Candidate rules, each list ascending: the unfiled rules, and per index
  // the rules filed under the issue's value. A rule is in at most one list.
  absl::InlinedVector<const std::vector<int>*, 8> lists;
  if (!unindexed_.empty()) lists.push_back(&unindexed_);
  for (const Index& index : indexes_) {
    const absl::string_view value = FieldValue(issue, index.field);
    if (value.empty()) continue;
    auto it = index.rules.find(value);
    if (it != index.rules.end()) lists.push_back(&it->second);
  }
  absl::InlinedVector<size_t, 8> next(lists.size(), 0);
  while (true) {
    int first = INT_MAX;
    size_t from = lists.size();
    for (size_t i = 0; i < lists.size(); ++i) {
      if (next[i] < lists[i]->size() && (*lists[i])[next[i]] < first) {
        first = (*lists[i])[next[i]];
        from = i;
      }
    }
    if (from == lists.size()) break;
    ++next[from];
    if (Matches(rules_[first], issue, nullptr)) return Decide(&rules_[first], issue);
  }
  return Decide(nullptr, issue);
}

RoutingDecision CompiledRuleset::RouteSequentially(const Issue& issue) const {
  for (const Rule& rule : rules_) {
    if (Matches(rule, issue, nullptr)) return Decide(&rule, issue);
  }
  return Decide(nullptr, issue);
}

RoutingDecision CompiledRuleset::Decide(const Rule* rule, const Issue& issue) const {
  RoutingDecision decision;
  decision.set_ruleset_revision(revision());
  const v1::SlaPolicy* policy;
  if (rule != nullptr) {
    *decision.mutable_target() = rule->proto->target();
    decision.set_rule(rule->proto->id());
    *decision.mutable_watchers() = rule->proto->watchers();
    policy = rule->sla != nullptr ? rule->sla : GroupPolicy(rule->proto->target().business_group());
    if (rule->decisions != nullptr) rule->decisions->Increment();
  } else {
    *decision.mutable_target() = ruleset_.default_target();
    policy = GroupPolicy(ruleset_.default_target().business_group());
    if (default_decisions_ != nullptr) {
      default_decisions_->Increment();
      default_total_->Increment();
    }
  }
  *decision.mutable_original_target() = decision.target();
  SetSla(policy, issue.severity(), decision);
  SetEscalationContacts(decision);
  if (!correlation_->empty()) {
    if (absl::optional<v1::CorrelationMatch> match = correlation_->Match(issue, decision)) {
      *decision.mutable_correlation() = *std::move(match);
    }
  }
  return decision;
}

const v1::SlaPolicy* CompiledRuleset::GroupPolicy(absl::string_view business_group) const {
  auto group = groups_.find(business_group);
  if (group == groups_.end() || group->second->default_sla_policy().empty()) return nullptr;
  return policies_.at(group->second->default_sla_policy());
}

const issue::v1::Calendar* CompiledRuleset::CalendarOf(const Target& target) const {
  auto team = teams_.find(target.team());
  if (team == teams_.end()) return nullptr;
  absl::string_view id = team->second.proto->calendar();
  if (id.empty()) id = groups_.at(team->second.business_group)->calendar();
  if (id.empty()) return nullptr;
  return calendars_.at(id);
}

void CompiledRuleset::SetSla(const v1::SlaPolicy* policy, issue::v1::Severity severity,
                             RoutingDecision& decision) const {
  issue::v1::SlaTerms& terms = *decision.mutable_sla();
  terms.set_clock(issue::v1::SLA_CLOCK_CALENDAR);
  if (policy != nullptr && policy->has_reopen_window()) {
    *terms.mutable_reopen_window() = policy->reopen_window();
  } else {
    terms.mutable_reopen_window()->set_seconds(absl::ToInt64Seconds(kDefaultReopenWindow));
  }
  if (policy == nullptr) return;
  const std::string& name = issue::v1::Severity_Name(severity);
  if (auto ack = policy->ack_within().find(name); ack != policy->ack_within().end()) {
    *decision.mutable_ack_within() = ack->second;
    *terms.mutable_ack_within() = ack->second;
  }
  if (auto resolve = policy->resolve_within().find(name);
      resolve != policy->resolve_within().end()) {
    *decision.mutable_resolve_within() = resolve->second;
    *terms.mutable_resolve_within() = resolve->second;
  }
  // Business time needs a calendar; an owner without one counts every minute.
  auto clock = policy->clock().find(name);
  if (clock == policy->clock().end() || clock->second != issue::v1::SLA_CLOCK_BUSINESS) return;
  if (const issue::v1::Calendar* calendar = CalendarOf(decision.target())) {
    terms.set_clock(issue::v1::SLA_CLOCK_BUSINESS);
    *terms.mutable_calendar() = *calendar;
  }
}

absl::StatusOr<RoutingDecision> CompiledRuleset::Escalate(const Issue& issue) const {
  if (!issue.has_assignment() || !issue.assignment().has_target()) {
    return InvalidArgumentWithViolations(
        "the issue has no assignment to escalate from",
        {{"issue.assignment.target", "required: the current owner"}});
  }
  const issue::v1::Assignment& assignment = issue.assignment();
  // The rule that routed the issue, if it names one this revision has.
  const Rule* routed_by = nullptr;
  if (!assignment.rule().empty()) {
    for (const Rule& rule : rules_) {
      if (rule.proto->id() == assignment.rule()) {
        routed_by = &rule;
        break;
      }
    }
  }
  // Whose escalation list to follow: the first owner; without one, the
  // target of the rule that routed the issue; without that, the current owner.
  const Target& origin = assignment.has_original_target() ? assignment.original_target()
                         : routed_by != nullptr           ? routed_by->proto->target()
                                                          : assignment.target();
  const int level = assignment.escalation_level();
  if (level < 0) {
    return InvalidArgumentWithViolations("negative escalation level",
                                         {{"issue.assignment.escalation_level", "must be >= 0"}});
  }
  auto team = teams_.find(origin.team());
  if (team == teams_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("team \"", origin.team(),
                                                      "\" is not in ruleset revision ", revision(),
                                                      "; cannot escalate"));
  }
  const auto& escalation = team->second.proto->escalation();
  if (level >= escalation.size()) {
    return absl::FailedPreconditionError(absl::StrCat("the escalation list of team \"",
                                                      origin.team(), "\" is exhausted at level ",
                                                      level, " (", escalation.size(), " entries)"));
  }
  RoutingDecision decision;
  decision.set_ruleset_revision(revision());
  *decision.mutable_target() = escalation.Get(level);
  decision.set_escalation_level(level + 1);
  *decision.mutable_original_target() = origin;
  // The SLA of the rule that routed the issue, if it named one; else the new
  // owner's group default.
  const v1::SlaPolicy* policy = routed_by != nullptr ? routed_by->sla : nullptr;
  if (policy == nullptr) policy = GroupPolicy(decision.target().business_group());
  SetSla(policy, issue.severity(), decision);
  SetEscalationContacts(decision);
  return decision;
}

absl::StatusOr<RoutingDecision> CompiledRuleset::RouteTo(const Issue& issue, const Target& target,
                                                         absl::string_view field) const {
  Violations violations;
  ValidateTarget(target, field, violations);
  if (violations.empty()) {
    auto team = teams_.find(target.team());
    if (team == teams_.end() || team->second.business_group != target.business_group()) {
      violations.Add(std::string(field),
                     absl::StrCat("no team \"", target.team(), "\" in business group \"",
                                  target.business_group(), "\" in ruleset revision ", revision()));
    }
  }
  RETURN_IF_ERROR(violations.ToStatus("target"));
  RoutingDecision decision;
  decision.set_ruleset_revision(revision());
  *decision.mutable_target() = target;
  *decision.mutable_original_target() = target;
  SetSla(GroupPolicy(target.business_group()), issue.severity(), decision);
  SetEscalationContacts(decision);
  return decision;
}

void CompiledRuleset::SetEscalationContacts(RoutingDecision& decision) const {
  auto team = teams_.find(decision.original_target().team());
  if (team != teams_.end())
    *decision.mutable_escalation_contacts() = team->second.proto->escalation();
}

}  // namespace switchboard::routing
