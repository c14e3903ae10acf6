#include "cli/format.h"

#include <algorithm>
#include <ostream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/proto_time.h"

namespace switchboard::cli {
namespace {

// The prefix every value of `type` shares, e.g. "SEVERITY_".
std::string EnumPrefix(const google::protobuf::EnumDescriptor& type) {
  const std::string& zero = type.value(0)->name();  // "SEVERITY_UNSPECIFIED"
  return absl::EndsWith(zero, "UNSPECIFIED") ? zero.substr(0, zero.size() - 11) : "";
}

std::string Shorten(absl::string_view text, size_t width) {
  if (text.size() <= width) return std::string(text);
  // Cut at a UTF-8 character boundary.
  size_t cut = width - 1;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(text.substr(0, cut), "…");
}

std::string SeverityOf(const issue::v1::Issue& issue) {
  return ShortEnumName(*issue::v1::Severity_descriptor(), issue.severity());
}

std::string StateOf(const issue::v1::Issue& issue) {
  return ShortEnumName(*issue::v1::State_descriptor(), issue.state());
}

void Field(std::ostream& out, absl::string_view label, absl::string_view value) {
  if (value.empty()) return;
  out << "  " << absl::StrFormat("%-12s", label) << value << "\n";
}

}  // namespace

std::string ShortEnumName(const google::protobuf::EnumDescriptor& type, int number) {
  const google::protobuf::EnumValueDescriptor* value = type.FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat(number);
  return std::string(absl::StripPrefix(value->name(), EnumPrefix(type)));
}

absl::StatusOr<int> ParseEnumName(const google::protobuf::EnumDescriptor& type,
                                  absl::string_view text) {
  const std::string prefix = EnumPrefix(type);
  std::string upper = absl::AsciiStrToUpper(text);
  absl::StrReplaceAll({{"-", "_"}}, &upper);
  std::vector<std::string> accepted;
  for (int i = 1; i < type.value_count(); ++i) {
    const std::string& name = type.value(i)->name();
    if (upper == name || absl::StrCat(prefix, upper) == name) return type.value(i)->number();
    accepted.push_back(absl::AsciiStrToLower(absl::StripPrefix(name, prefix)));
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a ", type.name(),
                                                 "; use one of ", absl::StrJoin(accepted, ", ")));
}

std::string HumanDuration(absl::Duration duration) {
  if (duration < absl::ZeroDuration()) duration = -duration;
  const int64_t seconds = absl::ToInt64Seconds(duration);
  struct Unit {
    const char* suffix;
    int64_t seconds;
  };
  constexpr Unit kUnits[] = {{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
  if (seconds == 0) return absl::StrCat(absl::ToInt64Milliseconds(duration), "ms");
  std::string text;
  int parts = 0;
  int64_t rest = seconds;
  for (const Unit& unit : kUnits) {
    if (parts == 2) break;
    const int64_t count = rest / unit.seconds;
    if (count == 0) {
      if (parts > 0) break;  // "1d3h", never "1d0h5m"
      continue;
    }
    absl::StrAppend(&text, count, unit.suffix);
    rest -= count * unit.seconds;
    ++parts;
  }
  return text;
}

std::string FormatTime(const google::protobuf::Timestamp& time, absl::Time now) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  const absl::Time t = FromProtoTime(time);
  const std::string when = absl::FormatTime("%Y-%m-%d %H:%M:%SZ", t, absl::UTCTimeZone());
  const absl::Duration delta = now - t;
  if (absl::AbsDuration(delta) < absl::Seconds(1)) return absl::StrCat(when, " (now)");
  return delta > absl::ZeroDuration() ? absl::StrCat(when, " (", HumanDuration(delta), " ago)")
                                      : absl::StrCat(when, " (in ", HumanDuration(delta), ")");
}

std::string FormatTarget(const issue::v1::Target& target) {
  if (target.team().empty()) return "-";
  return absl::StrCat(target.business_group(), "/", target.team());
}

void PrintIssue(std::ostream& out, const issue::v1::Issue& issue, absl::Time now) {
  out << issue.name() << "  " << StateOf(issue) << "  " << SeverityOf(issue) << "\n";
  out << "  " << issue.title() << "\n";
  const issue::v1::Customer& customer = issue.customer();
  std::vector<std::string> about;
  if (!customer.display_name().empty()) about.push_back(customer.display_name());
  if (customer.tier() != issue::v1::CUSTOMER_TIER_UNSPECIFIED) {
    about.push_back(ShortEnumName(*issue::v1::CustomerTier_descriptor(), customer.tier()));
  }
  if (!customer.country().empty()) about.push_back(customer.country());
  Field(out, "customer",
        about.empty() ? customer.id()
                      : absl::StrCat(customer.id(), " (", absl::StrJoin(about, ", "), ")"));
  Field(out, "product", issue.product());
  Field(out, "region", issue.region());
  Field(out, "source", issue.source());
  Field(out, "submitter", issue.submitter());
  if (issue.has_assignment()) {
    const issue::v1::Assignment& assignment = issue.assignment();
    std::string how;
    if (assignment.manual()) {
      how = "transferred by hand";
    } else if (assignment.rule().empty()) {
      how = absl::StrCat("default route, revision ", assignment.ruleset_revision());
    } else {
      how = absl::StrCat("rule ", assignment.rule(), ", revision ", assignment.ruleset_revision());
    }
    if (assignment.escalation_level() > 0) {
      absl::StrAppend(&how, ", escalation level ", assignment.escalation_level());
    }
    Field(out, "owner", absl::StrCat(FormatTarget(assignment.target()), " (", how, ")"));
    std::vector<std::string> watchers;
    for (const auto& watcher : assignment.watchers()) watchers.push_back(FormatTarget(watcher));
    Field(out, "watchers", absl::StrJoin(watchers, ", "));
  }
  Field(out, "problem", issue.problem());
  Field(out, "created", FormatTime(issue.create_time(), now));
  Field(out, "updated", FormatTime(issue.update_time(), now));
  if (issue.state() == issue::v1::STATE_ROUTED) {
    Field(out, "ack by", FormatTime(issue.ack_deadline(), now));
  }
  if (issue.state() == issue::v1::STATE_ROUTED || issue.state() == issue::v1::STATE_ACKNOWLEDGED ||
      issue.state() == issue::v1::STATE_WAITING_ON_CUSTOMER) {
    Field(out, "resolve by", FormatTime(issue.resolve_deadline(), now));
  }
  std::vector<std::string> labels;
  for (const auto& [key, value] : issue.labels()) labels.push_back(absl::StrCat(key, "=", value));
  std::sort(labels.begin(), labels.end());
  Field(out, "labels", absl::StrJoin(labels, ", "));
  Field(out, "resolution", issue.resolution());
  PrintSla(out, issue, now);
  Field(out, "etag", issue.etag());
  if (!issue.description().empty()) out << "\n  " << issue.description() << "\n";
}

namespace {

std::string OutcomeOf(issue::v1::SlaOutcome outcome) {
  switch (outcome) {
    case issue::v1::SLA_OUTCOME_MET:
      return "met";
    case issue::v1::SLA_OUTCOME_BREACHED:
      return "breached";
    default:
      return "";
  }
}

}  // namespace

void PrintSla(std::ostream& out, const issue::v1::Issue& issue, absl::Time now) {
  const issue::v1::SlaStatus& sla = issue.sla();
  if (issue.state() == issue::v1::STATE_WAITING_ON_CUSTOMER) {
    Field(out, "asked",
          absl::StrCat("\"", sla.question(), "\" ", FormatTime(sla.pause_start(), now)));
  }
  std::vector<std::string> parts;
  if (sla.terms().clock() == issue::v1::SLA_CLOCK_BUSINESS) {
    parts.push_back(absl::StrCat("business hours (", sla.terms().calendar().id(), ")"));
  }
  if (!OutcomeOf(sla.ack_outcome()).empty()) {
    parts.push_back(absl::StrCat("ack ", OutcomeOf(sla.ack_outcome())));
  }
  if (!OutcomeOf(sla.resolve_outcome()).empty()) {
    parts.push_back(absl::StrCat("resolve ", OutcomeOf(sla.resolve_outcome())));
  }
  if (sla.has_paused_duration()) {
    parts.push_back(
        absl::StrCat("paused ", HumanDuration(FromProtoDuration(sla.paused_duration()))));
  }
  if (sla.reopen_count() > 0) parts.push_back(absl::StrCat("reopened ", sla.reopen_count(), "x"));
  Field(out, "sla", absl::StrJoin(parts, ", "));
  if (sla.rating() > 0) {
    Field(out, "rating",
          absl::StrCat(
              sla.rating(), "/5",
              sla.rating_comment().empty() ? "" : absl::StrCat(" \"", sla.rating_comment(), "\"")));
  }
}

void PrintIssueTable(std::ostream& out,
                     const google::protobuf::RepeatedPtrField<issue::v1::Issue>& issues,
                     absl::Time now) {
  size_t name_width = 4;
  for (const auto& issue : issues) name_width = std::max(name_width, issue.name().size());
  const auto row = [&](absl::string_view name, absl::string_view state, absl::string_view severity,
                       absl::string_view owner, absl::string_view age, absl::string_view title) {
    out << absl::StrFormat("%-*s  %-12s  %-8s  %-36s  %-6s  %s\n", name_width, name, state,
                           severity, owner, age, title);
  };
  row("NAME", "STATE", "SEVERITY", "OWNER", "AGE", "TITLE");
  for (const auto& issue : issues) {
    row(issue.name(), StateOf(issue), SeverityOf(issue),
        issue.has_assignment() ? FormatTarget(issue.assignment().target()) : "-",
        HumanDuration(now - FromProtoTime(issue.create_time())), Shorten(issue.title(), 60));
  }
}

void PrintProblem(std::ostream& out, const issue::v1::Problem& problem, absl::Time now) {
  out << problem.name() << "  "
      << ShortEnumName(*issue::v1::ProblemState_descriptor(), problem.state()) << "  "
      << ShortEnumName(*issue::v1::Severity_descriptor(), problem.severity())
      << (problem.escalated() ? "  escalated" : "") << "\n";
  out << "  " << problem.title() << "\n";
  Field(out, "owner", FormatTarget(problem.owner()));
  Field(out, "key",
        absl::StrCat(problem.correlation_key(), " (policy ", problem.correlation_policy(), ")"));
  Field(out, "product", problem.product());
  Field(out, "region", problem.region());
  std::vector<std::string> tiers;
  for (const issue::v1::CustomerTierCount& count : problem.affected_customer_tiers()) {
    tiers.push_back(
        absl::StrCat(count.customers(), " ",
                     ShortEnumName(*issue::v1::CustomerTier_descriptor(), count.tier())));
  }
  Field(out, "customers",
        absl::StrCat(problem.affected_customer_count(),
                     tiers.empty() ? "" : absl::StrCat(" (", absl::StrJoin(tiers, ", "), ")")));
  Field(out, "issues",
        absl::StrCat(problem.linked_issue_count(), " linked, first ", problem.opening_issue()));
  Field(out, "first seen", FormatTime(problem.first_seen_time(), now));
  Field(out, "last seen", FormatTime(problem.last_seen_time(), now));
  Field(out, "window ends", FormatTime(problem.window_end_time(), now));
  if (problem.escalated()) Field(out, "escalated", FormatTime(problem.escalate_time(), now));
  if (problem.state() == issue::v1::PROBLEM_STATE_OPEN && problem.has_ack_deadline()) {
    Field(out, "ack by", FormatTime(problem.ack_deadline(), now));
  }
  Field(out, "resolution", problem.resolution());
  Field(out, "etag", problem.etag());
  if (!problem.linked_issues().empty()) {
    out << "\n  newest linked issues:\n";
    for (const std::string& issue : problem.linked_issues()) out << "    " << issue << "\n";
  }
}

void PrintProblemTable(std::ostream& out,
                       const google::protobuf::RepeatedPtrField<issue::v1::Problem>& problems,
                       absl::Time now) {
  size_t name_width = 4;
  for (const auto& problem : problems) name_width = std::max(name_width, problem.name().size());
  const auto row = [&](absl::string_view name, absl::string_view state, absl::string_view severity,
                       absl::string_view owner, absl::string_view issues,
                       absl::string_view customers, absl::string_view age,
                       absl::string_view title) {
    out << absl::StrFormat("%-*s  %-12s  %-8s  %-30s  %6s  %9s  %-6s  %s\n", name_width, name,
                           state, severity, owner, issues, customers, age, title);
  };
  row("NAME", "STATE", "SEVERITY", "OWNER", "ISSUES", "CUSTOMERS", "AGE", "TITLE");
  for (const auto& problem : problems) {
    row(problem.name(), ShortEnumName(*issue::v1::ProblemState_descriptor(), problem.state()),
        ShortEnumName(*issue::v1::Severity_descriptor(), problem.severity()),
        FormatTarget(problem.owner()), absl::StrCat(problem.linked_issue_count()),
        absl::StrCat(problem.affected_customer_count()),
        HumanDuration(now - FromProtoTime(problem.create_time())), Shorten(problem.title(), 50));
  }
}

std::string FormatNotification(const notification::v1::Notification& notification) {
  const issue::v1::IssueEvent& event = notification.event();
  const std::string type = ShortEnumName(*issue::v1::EventType_descriptor(), event.type());
  if (!event.has_issue()) {  // a problem's own event
    const issue::v1::Problem& problem = event.problem();
    return absl::StrFormat(
        "#%-5d %-12s  %s  %-34s  %-8s  %s", notification.sequence(), type, problem.name(),
        problem.has_owner() ? FormatTarget(problem.owner()) : "-",
        ShortEnumName(*issue::v1::Severity_descriptor(), problem.severity()),
        Shorten(absl::StrCat(problem.title(), " (", problem.affected_customer_count(),
                             problem.affected_customer_count() == 1 ? " customer)" : " customers)"),
                60));
  }
  const issue::v1::Issue& issue = event.issue();
  std::string line = absl::StrFormat(
      "#%-5d %-12s  %s  %-34s  %-8s  %s", notification.sequence(), type, issue.name(),
      issue.has_assignment() ? FormatTarget(issue.assignment().target()) : "-", SeverityOf(issue),
      Shorten(issue.title(), 60));
  if (event.has_problem()) absl::StrAppend(&line, "  [", event.problem().name(), "]");
  return line;
}

void PrintDecision(std::ostream& out, const routing::v1::RoutingDecision& decision) {
  if (!decision.trace().empty()) {
    size_t width = 0;
    for (const auto& trace : decision.trace()) width = std::max(width, trace.rule().size());
    for (const auto& trace : decision.trace()) {
      out << "  " << (trace.matched() ? "match  " : "skip   ")
          << absl::StrFormat("%-*s", width, trace.rule()) << "  " << trace.reason() << "\n";
    }
  }
  out << "→ " << FormatTarget(decision.target()) << " ("
      << (decision.rule().empty() ? "default route" : absl::StrCat("rule ", decision.rule()))
      << ", revision " << decision.ruleset_revision() << ")\n";
  std::vector<std::string> watchers;
  for (const auto& watcher : decision.watchers()) watchers.push_back(FormatTarget(watcher));
  if (!watchers.empty()) out << "  watchers    " << absl::StrJoin(watchers, ", ") << "\n";
  if (decision.has_ack_within()) {
    out << "  ack within  " << HumanDuration(FromProtoDuration(decision.ack_within())) << "\n";
  }
  if (decision.has_resolve_within()) {
    out << "  resolve in  " << HumanDuration(FromProtoDuration(decision.resolve_within())) << "\n";
  }
  if (decision.has_correlation()) {
    out << "  problem key " << decision.correlation().key() << " (policy "
        << decision.correlation().policy() << ", window "
        << HumanDuration(FromProtoDuration(decision.correlation().window())) << ")\n";
  }
}

void PrintRuleset(std::ostream& out, const routing::v1::Ruleset& ruleset, absl::Time now) {
  out << "revision " << ruleset.revision() << "  by " << ruleset.author() << "  "
      << FormatTime(ruleset.create_time(), now) << "\n";
  if (!ruleset.comment().empty()) out << "  " << ruleset.comment() << "\n";
  out << "\nbusiness groups (" << ruleset.business_groups_size() << "):\n";
  for (const auto& group : ruleset.business_groups()) {
    std::vector<std::string> teams;
    for (const auto& team : group.teams()) teams.push_back(team.id());
    out << "  " << absl::StrFormat("%-16s", group.id()) << absl::StrJoin(teams, ", ") << "\n";
  }
  std::vector<std::string> policies;
  for (const auto& policy : ruleset.sla_policies()) policies.push_back(policy.id());
  out << "\nSLA policies: " << absl::StrJoin(policies, ", ") << "\n";
  out << "\nrules (" << ruleset.rules_size() << ", first match wins):\n";
  size_t width = 0;
  for (const auto& rule : ruleset.rules()) width = std::max(width, rule.id().size());
  for (const auto& rule : ruleset.rules()) {
    out << "  " << absl::StrFormat("%-*s", width, rule.id()) << "  → "
        << FormatTarget(rule.target()) << "\n";
  }
  out << "  " << absl::StrFormat("%-*s", width, "(default)") << "  → "
      << FormatTarget(ruleset.default_target()) << "\n";
  if (ruleset.correlation_policies().empty()) return;
  out << "\ncorrelation policies (" << ruleset.correlation_policies_size()
      << ", first that applies wins):\n";
  for (const auto& policy : ruleset.correlation_policies()) {
    out << "  " << policy.id() << "  key " << absl::StrJoin(policy.key_fields(), "+") << ", window "
        << HumanDuration(FromProtoDuration(policy.window()));
    if (!policy.business_groups().empty()) {
      out << ", groups " << absl::StrJoin(policy.business_groups(), ", ");
    }
    if (!policy.rules().empty()) out << ", rules " << absl::StrJoin(policy.rules(), ", ");
    out << "\n";
  }
}

}  // namespace switchboard::cli
