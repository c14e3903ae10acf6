// Who may do what in routing, in one place: routing decisions for real
// issues are intake's to ask for (operators may too); reading and trying
// rulesets is open to everyone who works with them; applying one is for
// ruleset admins. Each returns OK or the caller's PERMISSION_DENIED.
#ifndef SWITCHBOARD_SERVICES_ROUTING_ACCESS_H_
#define SWITCHBOARD_SERVICES_ROUTING_ACCESS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/caller.h"

namespace switchboard::routing {

// RouteIssues, EscalateIssue, RouteToTarget. `verb` names the action.
absl::Status MayDecide(const Caller& caller, absl::string_view verb);

// RouteIssue (an explained decision), GetRuleset, ListRulesetRevisions,
// TestRuleset.
absl::Status MayReadRulesets(const Caller& caller, absl::string_view verb);

// ApplyRuleset.
absl::Status MayApplyRulesets(const Caller& caller);

// WatchActiveRuleset: routing replicas (service), operators and ruleset
// admins.
absl::Status MayWatchRulesets(const Caller& caller);

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_ACCESS_H_
