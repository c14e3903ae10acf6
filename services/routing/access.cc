#include "services/routing/access.h"

namespace switchboard::routing {

absl::Status MayDecide(const Caller& caller, absl::string_view verb) {
  if (caller.HasAny({Role::kService, Role::kOperator})) return absl::OkStatus();
  return caller.Deny(verb);
}

absl::Status MayReadRulesets(const Caller& caller, absl::string_view verb) {
  if (caller.HasAny({Role::kService, Role::kOperator, Role::kRulesetAdmin, Role::kTeamMember})) {
    return absl::OkStatus();
  }
  return caller.Deny(verb);
}

absl::Status MayWatchRulesets(const Caller& caller) {
  if (caller.HasAny({Role::kService, Role::kOperator, Role::kRulesetAdmin})) {
    return absl::OkStatus();
  }
  return caller.Deny("watch the active ruleset");
}

absl::Status MayApplyRulesets(const Caller& caller) {
  if (caller.Has(Role::kRulesetAdmin)) return absl::OkStatus();
  return caller.Deny("apply rulesets");
}

}  // namespace switchboard::routing
