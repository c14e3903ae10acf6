// Ruleset validation and compilation: any bytes, parsed as the Ruleset of an
// ApplyRulesetRequest. Validation must never crash; a ruleset it accepts
// must compile (the two agree), and the compiled ruleset must route an
// issue to a team it declares, the indexed and the sequential evaluator
// agreeing on the owner and on the correlation key.
#include <cstdint>

#include "common/validation.h"
#include "services/routing/compiled_ruleset.h"
#include "services/routing/ruleset_validator.h"

namespace routing = switchboard::routing;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  routing::v1::Ruleset ruleset;
  if (!ruleset.ParseFromArray(data, static_cast<int>(size))) return 0;
  switchboard::Violations violations;
  routing::ValidateRuleset(ruleset, "ruleset", violations);
  auto compiled = routing::CompiledRuleset::Compile(ruleset, nullptr);
  if (violations.ToStatus("Ruleset").ok() != compiled.ok()) __builtin_trap();
  if (!compiled.ok()) return 0;
  switchboard::issue::v1::Issue issue;
  issue.set_title("storage outage: blob");
  issue.set_product("azure-storage");
  issue.set_severity(switchboard::issue::v1::SEVERITY_CRITICAL);
  issue.mutable_customer()->set_tier(switchboard::issue::v1::CUSTOMER_TIER_STRATEGIC);
  const routing::v1::RoutingDecision fast = (*compiled)->Route(issue, /*explain=*/true);
  const routing::v1::RoutingDecision slow = (*compiled)->RouteSequentially(issue);
  if (fast.target().team() != slow.target().team() || fast.rule() != slow.rule()) __builtin_trap();
  if (fast.target().team().empty()) __builtin_trap();
  // Both evaluators find the same correlation, and a key stays bounded.
  if (fast.correlation().key() != slow.correlation().key()) __builtin_trap();
  if (fast.correlation().key().size() > routing::kMaxCorrelationKeyBytes) __builtin_trap();
  return 0;
}
