#include "services/intake/access.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace switchboard::intake {

absl::Status MaySubmit(const Caller& caller, issue::v1::Issue& issue) {
  if (!caller.Has(Role::kSubmitter)) return caller.Deny("submit issues");
  if (issue.source().empty()) {
    issue.set_source(caller.SoleSource());
    if (issue.source().empty() && !caller.local()) {
      return InvalidArgumentWithViolations(
          "invalid SubmitIssueRequest: issue.source is required",
          {{"issue.source",
            absl::StrCat("required: ", caller.name(), " submits as several sources; name one")}});
    }
    return absl::OkStatus();
  }
  if (!caller.SubmitsAs(issue.source())) {
    return caller.Deny(absl::StrCat("submit as source \"", issue.source(), "\""));
  }
  return absl::OkStatus();
}

absl::Status MayDeliverMessages(const Caller& caller) {
  if (caller.Has(Role::kService)) return absl::OkStatus();
  return caller.Deny("deliver messages between intake partitions");
}

absl::Status MayList(const Caller& caller) {
  if (caller.HasAny({Role::kOperator, Role::kService, Role::kSubmitter, Role::kTeamMember})) {
    return absl::OkStatus();
  }
  return caller.Deny("list issues");
}

absl::Status MayChangeIssues(const Caller& caller, absl::string_view verb) {
  if (caller.Has(Role::kTeamMember)) return absl::OkStatus();
  return caller.Deny(absl::StrCat(verb, " issues"));
}

absl::Status MayActForCustomers(const Caller& caller, absl::string_view verb) {
  if (caller.HasAny({Role::kSubmitter, Role::kOperator})) return absl::OkStatus();
  return caller.Deny(absl::StrCat(verb, " issues"));
}

absl::Status MayActForSource(const Caller& caller, const issue::v1::Issue& issue,
                             absl::string_view verb, bool operators) {
  if (caller.SubmitsAs(issue.source())) return absl::OkStatus();
  if (operators && caller.Has(Role::kOperator)) return absl::OkStatus();
  return caller.Deny(
      absl::StrCat(verb, " ", issue.name(), ", submitted by source ", issue.source()));
}

bool MaySee(const Caller& caller, const issue::v1::Issue& issue) {
  return caller.Has(Role::kOperator) || caller.Has(Role::kService) ||
         caller.SubmitsAs(issue.source()) || caller.ActsForTeam(issue.assignment().target().team());
}

absl::Status MayRead(const Caller& caller, const issue::v1::Issue& issue) {
  if (MaySee(caller, issue)) return absl::OkStatus();
  return caller.Deny(absl::StrCat("read ", issue.name()));
}

absl::Status MayChange(const Caller& caller, const issue::v1::Issue& issue,
                       absl::string_view verb) {
  const std::string& team = issue.assignment().target().team();
  if (caller.ActsForTeam(team)) return absl::OkStatus();
  return caller.Deny(absl::StrCat(verb, " ", issue.name(), ", owned by ",
                                  team.empty() ? "no team yet" : absl::StrCat("team ", team)));
}

absl::Status MayChangeProblem(const Caller& caller, const issue::v1::Problem& problem,
                              absl::string_view verb) {
  const std::string& team = problem.owner().team();
  if (caller.ActsForTeam(team)) return absl::OkStatus();
  return caller.Deny(absl::StrCat(verb, " ", problem.name(), ", owned by team ", team));
}

std::string CallerIdentity(const Caller& caller) { return caller.local() ? "" : caller.name(); }

}  // namespace switchboard::intake
