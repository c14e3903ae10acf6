#include "services/routing/ruleset_validator.h"

#include <algorithm>
#include <string>

#include <re2/re2.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/business_calendar.h"
#include "services/routing/correlation.h"
#include "services/routing/issue_fields.h"

namespace switchboard::routing {
namespace {

using issue::v1::Target;
using v1::Condition;
using v1::Operator;
using v1::Rule;
using v1::Ruleset;
using v1::SlaPolicy;

std::string At(absl::string_view prefix, absl::string_view field, int index) {
  return absl::StrCat(prefix, ".", field, "[", index, "]");
}

std::string Dot(absl::string_view prefix, absl::string_view field) {
  return absl::StrCat(prefix, ".", field);
}

class RulesetChecker {
 public:
  RulesetChecker(const Ruleset& ruleset, absl::string_view prefix, Violations& violations,
                 ZoneData zone_data)
      : ruleset_(ruleset), prefix_(prefix), violations_(violations), zone_data_(zone_data) {}

  void Run() {
    IndexDirectory();
    CheckCalendars();
    CheckSlaPolicies();
    CheckGroups();
    CheckRules();
    CheckCorrelationPolicies();
    CheckTarget(ruleset_.default_target(), ruleset_.has_default_target(),
                Dot(prefix_, "default_target"));
    CheckText(violations_, Dot(prefix_, "comment"), ruleset_.comment(), 0, kMaxTextChars);
  }

 private:
  // Records every group, team, policy and calendar id first, so that
  // references can be checked wherever they appear.
  void IndexDirectory() {
    if (ruleset_.business_groups().empty()) {
      violations_.Add(Dot(prefix_, "business_groups"), "at least one business group is required");
    } else if (ruleset_.business_groups_size() > kMaxBusinessGroups) {
      violations_.Add(Dot(prefix_, "business_groups"),
                      absl::StrCat("at most ", kMaxBusinessGroups, " business groups"));
    }
    for (int g = 0; g < ruleset_.business_groups_size(); ++g) {
      const auto& group = ruleset_.business_groups(g);
      const std::string path = At(prefix_, "business_groups", g);
      CheckId(violations_, Dot(path, "id"), group.id(), Presence::kRequired);
      if (!group.id().empty() && !groups_.emplace(group.id(), g).second) {
        violations_.Add(Dot(path, "id"),
                        absl::StrCat("duplicate business group id \"", group.id(),
                                     "\" (also business_groups[", groups_[group.id()], "])"));
      }
      for (int t = 0; t < group.teams_size(); ++t) {
        const auto& team = group.teams(t);
        const std::string team_path = At(path, "teams", t);
        CheckId(violations_, Dot(team_path, "id"), team.id(), Presence::kRequired);
        if (team.id().empty()) continue;
        auto [it, inserted] = team_groups_.emplace(team.id(), group.id());
        if (!inserted) {
          violations_.Add(
              Dot(team_path, "id"),
              absl::StrCat("duplicate team id \"", team.id(), "\" (also in business group \"",
                           it->second, "\"); team ids are unique across the ruleset"));
        }
      }
    }
    for (int p = 0; p < ruleset_.sla_policies_size(); ++p) {
      const std::string& id = ruleset_.sla_policies(p).id();
      if (!id.empty() && !policies_.insert(id).second) {
        violations_.Add(Dot(At(prefix_, "sla_policies", p), "id"),
                        absl::StrCat("duplicate SLA policy id \"", id, "\""));
      }
    }
    for (int c = 0; c < ruleset_.calendars_size(); ++c) {
      const std::string& id = ruleset_.calendars(c).id();
      if (id.empty()) continue;
      auto [it, inserted] = calendars_.emplace(id, c);
      if (!inserted) {
        violations_.Add(
            Dot(At(prefix_, "calendars", c), "id"),
            absl::StrCat("duplicate calendar id \"", id, "\" (also calendars[", it->second, "])"));
      }
    }
  }

  void CheckCalendars() {
    if (ruleset_.calendars_size() > kMaxCalendars) {
      violations_.Add(Dot(prefix_, "calendars"),
                      absl::StrCat("at most ", kMaxCalendars, " calendars"));
      return;
    }
    for (int c = 0; c < ruleset_.calendars_size(); ++c) {
      BusinessCalendar::Validate(ruleset_.calendars(c), At(prefix_, "calendars", c), violations_,
                                 zone_data_);
    }
  }

  void CheckSlaPolicies() {
    if (ruleset_.sla_policies_size() > kMaxSlaPolicies) {
      violations_.Add(Dot(prefix_, "sla_policies"),
                      absl::StrCat("at most ", kMaxSlaPolicies, " policies"));
    }
    for (int p = 0; p < ruleset_.sla_policies_size(); ++p) {
      const SlaPolicy& policy = ruleset_.sla_policies(p);
      const std::string path = At(prefix_, "sla_policies", p);
      CheckId(violations_, Dot(path, "id"), policy.id(), Presence::kRequired);
      CheckDurations(policy.ack_within(), Dot(path, "ack_within"));
      CheckDurations(policy.resolve_within(), Dot(path, "resolve_within"));
      CheckClocks(policy.clock(), Dot(path, "clock"));
      if (policy.has_reopen_window()) {
        CheckSlaDuration(policy.reopen_window(), Dot(path, "reopen_window"));
      }
    }
  }

  void CheckDurations(const google::protobuf::Map<std::string, google::protobuf::Duration>& map,
                      const std::string& path) {
    for (const auto& [severity, duration] : map) {
      if (IsSeverityKey(severity, path)) {
        CheckSlaDuration(duration, absl::StrCat(path, "[", severity, "]"));
      }
    }
  }

  void CheckClocks(const google::protobuf::Map<std::string, issue::v1::SlaClock>& map,
                   const std::string& path) {
    for (const auto& [severity, clock] : map) {
      if (IsSeverityKey(severity, path)) {
        CheckEnum<issue::v1::SlaClock>(violations_, absl::StrCat(path, "[", severity, "]"), clock,
                                       Presence::kOptional);
      }
    }
  }

  // Whether `severity`, a key of the map at `path`, names a Severity.
  bool IsSeverityKey(const std::string& severity, const std::string& path) {
    issue::v1::Severity value;
    if (issue::v1::Severity_Parse(severity, &value) && value != issue::v1::SEVERITY_UNSPECIFIED) {
      return true;
    }
    violations_.Add(path, "keys must be Severity names such as SEVERITY_CRITICAL, got \"" +
                              (IsValidUtf8(severity) ? severity : "<invalid UTF-8>") + "\"");
    return false;
  }

  void CheckSlaDuration(const google::protobuf::Duration& duration, const std::string& path) {
    if (duration.seconds() < 0 || duration.nanos() < 0 || duration.nanos() > 999'999'999) {
      violations_.Add(path, "not a valid positive duration");
      return;
    }
    const absl::Duration value =
        absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
    if (value <= absl::ZeroDuration() || value > kMaxSlaDuration) {
      violations_.Add(path, "must be positive and at most 366 days");
    }
  }

  void CheckGroups() {
    for (int g = 0; g < ruleset_.business_groups_size(); ++g) {
      const auto& group = ruleset_.business_groups(g);
      const std::string path = At(prefix_, "business_groups", g);
      CheckText(violations_, Dot(path, "display_name"), group.display_name(), 0, kMaxTextChars);
      if (group.teams().empty()) {
        violations_.Add(Dot(path, "teams"), "at least one team is required");
      } else if (group.teams_size() > kMaxTeamsPerGroup) {
        violations_.Add(Dot(path, "teams"), absl::StrCat("at most ", kMaxTeamsPerGroup, " teams"));
      }
      CheckPolicyReference(group.default_sla_policy(), Dot(path, "default_sla_policy"));
      CheckCalendarReference(group.calendar(), Dot(path, "calendar"));
      for (int t = 0; t < group.teams_size(); ++t) {
        const auto& team = group.teams(t);
        const std::string team_path = At(path, "teams", t);
        CheckText(violations_, Dot(team_path, "display_name"), team.display_name(), 0,
                  kMaxTextChars);
        CheckTargetList(team.escalation(), Dot(team_path, "escalation"));
        CheckCalendarReference(team.calendar(), Dot(team_path, "calendar"));
        for (int e = 0; e < team.escalation_size(); ++e) {
          if (team.escalation(e).team() == team.id() && !team.id().empty()) {
            violations_.Add(At(team_path, "escalation", e), "a team cannot escalate to itself");
          }
        }
      }
    }
  }

  void CheckRules() {
    if (ruleset_.rules_size() > kMaxRules) {
      violations_.Add(Dot(prefix_, "rules"), absl::StrCat("at most ", kMaxRules, " rules"));
      return;
    }
    for (int r = 0; r < ruleset_.rules_size(); ++r) {
      const Rule& rule = ruleset_.rules(r);
      const std::string path = At(prefix_, "rules", r);
      CheckId(violations_, Dot(path, "id"), rule.id(), Presence::kRequired);
      if (!rule.id().empty()) {
        auto [it, inserted] = rule_ids_.emplace(rule.id(), r);
        if (!inserted) {
          violations_.Add(Dot(path, "id"), absl::StrCat("duplicate rule id \"", rule.id(),
                                                        "\" (also rules[", it->second, "])"));
        }
      }
      CheckText(violations_, Dot(path, "description"), rule.description(), 0, kMaxTextChars);
      if (rule.conditions_size() > kMaxConditionsPerRule) {
        violations_.Add(Dot(path, "conditions"),
                        absl::StrCat("at most ", kMaxConditionsPerRule, " conditions"));
      } else {
        for (int c = 0; c < rule.conditions_size(); ++c) {
          CheckCondition(rule.conditions(c), At(path, "conditions", c));
        }
      }
      CheckTarget(rule.target(), rule.has_target(), Dot(path, "target"));
      CheckTargetList(rule.watchers(), Dot(path, "watchers"));
      CheckPolicyReference(rule.sla_policy(), Dot(path, "sla_policy"));
    }
    if (regex_conditions_ > kMaxRegexConditions) {
      violations_.Add(
          Dot(prefix_, "rules"),
          absl::StrCat("at most ", kMaxRegexConditions,
                       " OPERATOR_REGEX conditions in a ruleset, got ", regex_conditions_));
    }
  }

  void CheckCorrelationPolicies() {
    if (ruleset_.correlation_policies_size() > kMaxCorrelationPolicies) {
      violations_.Add(Dot(prefix_, "correlation_policies"),
                      absl::StrCat("at most ", kMaxCorrelationPolicies, " policies"));
      return;
    }
    absl::flat_hash_map<std::string, int> ids;
    for (int p = 0; p < ruleset_.correlation_policies_size(); ++p) {
      const v1::CorrelationPolicy& policy = ruleset_.correlation_policies(p);
      const std::string path = At(prefix_, "correlation_policies", p);
      CheckId(violations_, Dot(path, "id"), policy.id(), Presence::kRequired);
      if (!policy.id().empty()) {
        auto [it, inserted] = ids.emplace(policy.id(), p);
        if (!inserted) {
          violations_.Add(Dot(path, "id"),
                          absl::StrCat("duplicate correlation policy id \"", policy.id(),
                                       "\" (also correlation_policies[", it->second, "])"));
        }
      }
      CheckText(violations_, Dot(path, "description"), policy.description(), 0, kMaxTextChars);
      CheckKeyFields(policy, path);
      CheckWindow(policy, Dot(path, "window"));
      if (policy.rules_size() > kMaxCorrelationScope) {
        violations_.Add(Dot(path, "rules"),
                        absl::StrCat("at most ", kMaxCorrelationScope, " rules"));
      }
      if (policy.business_groups_size() > kMaxCorrelationScope) {
        violations_.Add(Dot(path, "business_groups"),
                        absl::StrCat("at most ", kMaxCorrelationScope, " business groups"));
      }
      // Too many rules were reported already, and their ids not recorded.
      const bool rules_known = ruleset_.rules_size() <= kMaxRules;
      for (int r = 0; rules_known && r < std::min(policy.rules_size(), kMaxCorrelationScope); ++r) {
        const std::string& rule = policy.rules(r);
        if (!rule_ids_.contains(rule)) {
          violations_.Add(
              At(path, "rules", r),
              absl::StrCat("unknown rule \"", IsValidUtf8(rule) ? rule : "<invalid UTF-8>", "\""));
        }
      }
      for (int g = 0; g < std::min(policy.business_groups_size(), kMaxCorrelationScope); ++g) {
        const std::string& group = policy.business_groups(g);
        if (!groups_.contains(group)) {
          violations_.Add(At(path, "business_groups", g),
                          absl::StrCat("unknown business group \"",
                                       IsValidUtf8(group) ? group : "<invalid UTF-8>", "\""));
        }
      }
      const v1::CorrelationThresholds& escalation = policy.escalation();
      const int min_customers = escalation.min_customers();
      if (min_customers != 0 &&
          (min_customers < 2 || min_customers > kMaxCorrelationMinCustomers)) {
        violations_.Add(Dot(path, "escalation.min_customers"),
                        absl::StrCat("0 (off) or 2..", kMaxCorrelationMinCustomers));
      }
      CheckEnum<issue::v1::Severity>(violations_, Dot(path, "escalation.raise_severity_to"),
                                     escalation.raise_severity_to(), Presence::kOptional);
    }
  }

  void CheckKeyFields(const v1::CorrelationPolicy& policy, const std::string& path) {
    const std::string fields_path = Dot(path, "key_fields");
    if (policy.key_fields().empty()) {
      violations_.Add(fields_path, "at least one key field is required");
      return;
    }
    if (policy.key_fields_size() > kMaxCorrelationKeyFields) {
      violations_.Add(fields_path, absl::StrCat("at most ", kMaxCorrelationKeyFields, " fields"));
      return;
    }
    absl::flat_hash_set<std::string> seen;
    for (int f = 0; f < policy.key_fields_size(); ++f) {
      const std::string& name = policy.key_fields(f);
      const std::string field_path = At(path, "key_fields", f);
      if (!ParseKeyField(name).has_value()) {
        violations_.Add(
            field_path,
            name == "title"
                ? std::string("titles differ in every detail: use title.fingerprint")
                : absl::StrCat("unknown key field; one of ", kCorrelationKeyFieldNames));
      } else if (!seen.insert(name).second) {
        violations_.Add(field_path, absl::StrCat("\"", name, "\" is named twice"));
      }
    }
  }

  void CheckWindow(const v1::CorrelationPolicy& policy, const std::string& path) {
    if (!policy.has_window()) {
      violations_.Add(path, "required");
      return;
    }
    const google::protobuf::Duration& window = policy.window();
    const bool well_formed =
        window.seconds() >= 0 && window.nanos() >= 0 && window.nanos() <= 999'999'999;
    const absl::Duration value =
        absl::Seconds(window.seconds()) + absl::Nanoseconds(window.nanos());
    if (!well_formed || value <= absl::ZeroDuration() || value > kMaxCorrelationWindow) {
      violations_.Add(path, "must be positive and at most 30 days");
    }
  }

  void CheckCondition(const Condition& condition, const std::string& path) {
    const absl::optional<FieldRef> field = ParseField(condition.field());
    if (!field.has_value()) {
      violations_.Add(Dot(path, "field"),
                      "unknown field; one of product, severity, region, source, submitter, title, "
                      "description, customer.id, customer.tier, customer.country, labels.<key>");
    }
    CheckEnum<Operator>(violations_, Dot(path, "op"), condition.op(), Presence::kRequired);
    const int n = condition.values_size();
    const std::string values_path = Dot(path, "values");
    switch (condition.op()) {
      case v1::OPERATOR_EQUALS:
      case v1::OPERATOR_REGEX:
        if (n != 1) violations_.Add(values_path, "exactly one value is required");
        break;
      case v1::OPERATOR_IN:
      case v1::OPERATOR_PREFIX:
      case v1::OPERATOR_CONTAINS:
        if (n < 1) violations_.Add(values_path, "at least one value is required");
        if (n > kMaxValuesPerCondition) {
          violations_.Add(values_path, absl::StrCat("at most ", kMaxValuesPerCondition, " values"));
          return;
        }
        break;
      case v1::OPERATOR_EXISTS:
        if (n != 0) violations_.Add(values_path, "OPERATOR_EXISTS takes no values");
        break;
      default:
        return;  // the operator is already reported
    }
    for (int v = 0; v < n; ++v) {
      const std::string& value = condition.values(v);
      const std::string value_path = At(path, "values", v);
      if (value.empty()) {
        violations_.Add(value_path, "values must not be empty");
        continue;
      }
      CheckBytes(violations_, value_path, value, kMaxValueBytes);
      if (field.has_value() && IsEnumField(field->id) &&
          (condition.op() == v1::OPERATOR_EQUALS || condition.op() == v1::OPERATOR_IN) &&
          !IsEnumValueName(field->id, value)) {
        violations_.Add(value_path,
                        absl::StrCat(field->Name(), " compares by enum value name, e.g. ",
                                     field->id == FieldId::kSeverity ? "SEVERITY_CRITICAL"
                                                                     : "CUSTOMER_TIER_STRATEGIC"));
      }
    }
    if (condition.op() == v1::OPERATOR_REGEX) ++regex_conditions_;
    if (condition.op() == v1::OPERATOR_REGEX && n == 1 && IsValidUtf8(condition.values(0))) {
      RE2 pattern(condition.values(0), RuleRegexOptions());
      if (!pattern.ok()) {
        violations_.Add(At(path, "values", 0), "invalid RE2 pattern: " + pattern.error());
      } else if (pattern.ProgramSize() > kMaxRegexProgramSize) {
        violations_.Add(At(path, "values", 0),
                        absl::StrCat("pattern too large: RE2 program size ", pattern.ProgramSize(),
                                     ", at most ", kMaxRegexProgramSize));
      }
    }
  }

  // A target of this ruleset: both ids, the group known, the team in it.
  void CheckTarget(const Target& target, bool present, const std::string& path) {
    if (!present) {
      violations_.Add(path, "required");
      return;
    }
    Violations ids;
    ValidateTarget(target, path, ids);
    for (const FieldViolation& violation : ids.list())
      violations_.Add(violation.field, violation.description);
    if (!ids.empty()) return;
    if (!groups_.contains(target.business_group())) {
      violations_.Add(Dot(path, "business_group"),
                      absl::StrCat("unknown business group \"", target.business_group(), "\""));
      return;
    }
    auto team = team_groups_.find(target.team());
    if (team == team_groups_.end()) {
      violations_.Add(Dot(path, "team"), absl::StrCat("unknown team \"", target.team(), "\""));
    } else if (team->second != target.business_group()) {
      violations_.Add(Dot(path, "team"),
                      absl::StrCat("team \"", target.team(), "\" belongs to business group \"",
                                   team->second, "\", not \"", target.business_group(), "\""));
    }
  }

  void CheckTargetList(const google::protobuf::RepeatedPtrField<Target>& targets,
                       const std::string& path) {
    if (targets.size() > kMaxTargetsPerList) {
      violations_.Add(path, absl::StrCat("at most ", kMaxTargetsPerList, " targets"));
      return;
    }
    for (int i = 0; i < targets.size(); ++i) {
      CheckTarget(targets.Get(i), true, absl::StrCat(path, "[", i, "]"));
    }
  }

  void CheckPolicyReference(const std::string& policy, const std::string& path) {
    if (!policy.empty() && !policies_.contains(policy)) {
      violations_.Add(path, absl::StrCat("unknown SLA policy \"",
                                         IsValidUtf8(policy) ? policy : "<invalid UTF-8>", "\""));
    }
  }

  void CheckCalendarReference(const std::string& calendar, const std::string& path) {
    if (!calendar.empty() && !calendars_.contains(calendar)) {
      violations_.Add(path,
                      absl::StrCat("unknown calendar \"",
                                   IsValidUtf8(calendar) ? calendar : "<invalid UTF-8>", "\""));
    }
  }

  const Ruleset& ruleset_;
  const std::string prefix_;
  int regex_conditions_ = 0;
  Violations& violations_;
  const ZoneData zone_data_;
  absl::flat_hash_map<std::string, int> groups_;               // id → index
  absl::flat_hash_map<std::string, std::string> team_groups_;  // team → group
  absl::flat_hash_set<std::string> policies_;
  absl::flat_hash_map<std::string, int> calendars_;  // id → index
  absl::flat_hash_map<std::string, int> rule_ids_;   // id → index
};

}  // namespace

RE2::Options RuleRegexOptions() {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(256 << 10);
  return options;
}

void ValidateRuleset(const Ruleset& ruleset, absl::string_view prefix, Violations& violations,
                     ZoneData zone_data) {
  RulesetChecker(ruleset, prefix, violations, zone_data).Run();
}

}  // namespace switchboard::routing
