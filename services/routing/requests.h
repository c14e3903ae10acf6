// Validation of routing's requests: every check that needs no ruleset, made
// before a request reaches the core's ruleset. Each returns OK or
// INVALID_ARGUMENT with a field violation per problem (common/validation.h).
// Whether a candidate ruleset is valid is the ruleset validator's question
// (ruleset_validator.h), asked when it is compiled.
#ifndef SWITCHBOARD_SERVICES_ROUTING_REQUESTS_H_
#define SWITCHBOARD_SERVICES_ROUTING_REQUESTS_H_

#include "absl/status/status.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::routing {

// Issues in one RouteIssues or TestRuleset call.
inline constexpr int kMaxBatch = 1000;

absl::Status ValidateRouteIssueRequest(const v1::RouteIssueRequest& request);
absl::Status ValidateRouteIssuesRequest(const v1::RouteIssuesRequest& request);
absl::Status ValidateEscalateIssueRequest(const v1::EscalateIssueRequest& request);
absl::Status ValidateRouteToTargetRequest(const v1::RouteToTargetRequest& request);
absl::Status ValidateGetRulesetRequest(const v1::GetRulesetRequest& request);
absl::Status ValidateTestRulesetRequest(const v1::TestRulesetRequest& request);
absl::Status ValidateApplyRulesetRequest(const v1::ApplyRulesetRequest& request);

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_REQUESTS_H_
