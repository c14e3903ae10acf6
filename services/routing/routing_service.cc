#include "services/routing/routing_service.h"

#include "common/unary_call.h"

namespace switchboard::routing {
namespace {

// Who may call what. Routing decisions for real issues are the intake
// service's to ask for (operators may too); reading and trying rulesets is
// open to everyone who works with them; applying one is for ruleset admins.
constexpr std::initializer_list<Role> kDecide = {Role::kService, Role::kOperator};
constexpr std::initializer_list<Role> kRead = {Role::kService, Role::kOperator, Role::kRulesetAdmin,
                                               Role::kTeamMember};

}  // namespace

// Each synchronous RPC: admit, check the caller's roles, parse, call the
// core, finish with its outcome.
#define SWITCHBOARD_SERVE_SYNC(Rpc, Request, CoreMethod, roles, verb)                  \
  grpc::ServerUnaryReactor* RoutingService::Rpc(grpc::CallbackServerContext* context,  \
                                                const grpc::ByteBuffer* request,       \
                                                grpc::ByteBuffer* response) {          \
    return ServeUnary<v1::Request>(                                                    \
        gate_, context, request, response,                                             \
        [this](const Caller& caller, const v1::Request& parsed, UnaryResponder done) { \
          if (!caller.HasAny(roles)) return done.Finish(caller.Deny(verb));            \
          done.Finish(core_.CoreMethod(parsed));                                       \
        });                                                                            \
  }

SWITCHBOARD_SERVE_SYNC(RouteIssue, RouteIssueRequest, Route, kRead, "explain routing")
SWITCHBOARD_SERVE_SYNC(RouteIssues, RouteIssuesRequest, RouteBatch, kDecide, "route issues")
SWITCHBOARD_SERVE_SYNC(EscalateIssue, EscalateIssueRequest, Escalate, kDecide, "escalate issues")
SWITCHBOARD_SERVE_SYNC(RouteToTarget, RouteToTargetRequest, RouteToTarget, kDecide,
                       "route to a target")
SWITCHBOARD_SERVE_SYNC(GetRuleset, GetRulesetRequest, GetRuleset, kRead, "read rulesets")
SWITCHBOARD_SERVE_SYNC(ListRulesetRevisions, ListRulesetRevisionsRequest, ListRevisions, kRead,
                       "read rulesets")
SWITCHBOARD_SERVE_SYNC(TestRuleset, TestRulesetRequest, TestRuleset, kRead, "test rulesets")

#undef SWITCHBOARD_SERVE_SYNC

grpc::ServerUnaryReactor* RoutingService::ApplyRuleset(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeUnary<v1::ApplyRulesetRequest>(
      gate_, context, request, response,
      [this](const Caller& caller, const v1::ApplyRulesetRequest& parsed, UnaryResponder done) {
        if (!caller.Has(Role::kRulesetAdmin)) return done.Finish(caller.Deny("apply rulesets"));
        // The author is who applied it: the authenticated identity, or
        // "local" on a stack that authenticates nobody.
        core_.ApplyRuleset(
            parsed, caller.name(),
            [done](const absl::StatusOr<v1::Ruleset>& result) { done.Finish(result); });
      });
}

}  // namespace switchboard::routing
