// A plain reference router for tests: every rule in order, every condition
// tested directly, patterns compiled on the spot. Written independently of
// CompiledRuleset so that the two can be compared on random rulesets.
#ifndef SWITCHBOARD_SERVICES_ROUTING_REFERENCE_ROUTER_H_
#define SWITCHBOARD_SERVICES_ROUTING_REFERENCE_ROUTER_H_

#include <string>

#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::routing {

// The id of the first rule of `ruleset` whose conditions all hold for
// `issue`, or "" when none does (the default target).
std::string ReferenceRoute(const v1::Ruleset& ruleset, const issue::v1::Issue& issue);

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_REFERENCE_ROUTER_H_
