#include "services/routing/requests.h"

#include "absl/strings/str_cat.h"
#include "common/validation.h"
#include "services/routing/ruleset_validator.h"

namespace switchboard::routing {
namespace {

void CheckBatchSize(int size, const char* field, Violations& violations) {
  if (size < 1 || size > kMaxBatch) {
    violations.Add(field, absl::StrCat("between 1 and ", kMaxBatch, " entries, got ", size));
  }
}

// The assignment EscalateIssue escalates from: the current owner (required),
// the first owner, the rule that routed it and its watchers, all of the
// forms routing hands out.
void ValidateAssignment(const issue::v1::Issue& issue, Violations& violations) {
  if (!issue.has_assignment() || !issue.assignment().has_target()) {
    violations.Add("issue.assignment.target", "required: the current owner");
    return;
  }
  const issue::v1::Assignment& assignment = issue.assignment();
  ValidateTarget(assignment.target(), "issue.assignment.target", violations);
  if (assignment.has_original_target()) {
    ValidateTarget(assignment.original_target(), "issue.assignment.original_target", violations);
  }
  CheckId(violations, "issue.assignment.rule", assignment.rule(), Presence::kOptional);
  if (assignment.watchers_size() > kMaxTargetsPerList) {
    violations.Add("issue.assignment.watchers", absl::StrCat("at most ", kMaxTargetsPerList,
                                                             ", got ", assignment.watchers_size()));
  } else {
    for (int i = 0; i < assignment.watchers_size(); ++i) {
      ValidateTarget(assignment.watchers(i), absl::StrCat("issue.assignment.watchers[", i, "]"),
                     violations);
    }
  }
  if (assignment.escalation_level() < 0) {
    violations.Add("issue.assignment.escalation_level", "must be >= 0");
  }
}

}  // namespace

absl::Status ValidateRouteIssueRequest(const v1::RouteIssueRequest& request) {
  Violations violations;
  ValidateIssueInput(request.issue(), "issue", violations);
  return violations.ToStatus("RouteIssueRequest");
}

absl::Status ValidateRouteIssuesRequest(const v1::RouteIssuesRequest& request) {
  Violations violations;
  CheckBatchSize(request.requests_size(), "requests", violations);
  for (int i = 0; i < request.requests_size() && i < kMaxBatch; ++i) {
    ValidateIssueInput(request.requests(i).issue(), absl::StrCat("requests[", i, "].issue"),
                       violations);
  }
  return violations.ToStatus("RouteIssuesRequest");
}

absl::Status ValidateEscalateIssueRequest(const v1::EscalateIssueRequest& request) {
  Violations violations;
  ValidateIssueInput(request.issue(), "issue", violations);
  ValidateAssignment(request.issue(), violations);
  return violations.ToStatus("EscalateIssueRequest");
}

absl::Status ValidateRouteToTargetRequest(const v1::RouteToTargetRequest& request) {
  Violations violations;
  ValidateIssueInput(request.issue(), "issue", violations);
  if (!request.has_target()) violations.Add("target", "required");
  return violations.ToStatus("RouteToTargetRequest");
}

absl::Status ValidateGetRulesetRequest(const v1::GetRulesetRequest& request) {
  Violations violations;
  if (request.revision() < 0) violations.Add("revision", "must be 0 (active) or a revision");
  return violations.ToStatus("GetRulesetRequest");
}

absl::Status ValidateTestRulesetRequest(const v1::TestRulesetRequest& request) {
  Violations violations;
  if (!request.has_candidate()) violations.Add("candidate", "required");
  CheckBatchSize(request.issues_size(), "issues", violations);
  for (int i = 0; i < request.issues_size() && i < kMaxBatch; ++i) {
    ValidateIssueInput(request.issues(i), absl::StrCat("issues[", i, "]"), violations);
  }
  return violations.ToStatus("TestRulesetRequest");
}

absl::Status ValidateApplyRulesetRequest(const v1::ApplyRulesetRequest& request) {
  Violations violations;
  if (!request.has_ruleset()) violations.Add("ruleset", "required");
  return violations.ToStatus("ApplyRulesetRequest");
}

}  // namespace switchboard::routing
