#include "services/routing/routing_service.h"

#include "common/handler.h"
#include "services/routing/access.h"

namespace switchboard::routing {

grpc::ServerUnaryReactor* RoutingService::RouteIssue(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  return ServeNow<v1::RouteIssueRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayReadRulesets(caller, "explain routing"); },
      [this](const Caller&, const v1::RouteIssueRequest& parsed) { return core_.Route(parsed); });
}

grpc::ServerUnaryReactor* RoutingService::RouteIssues(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeNow<v1::RouteIssuesRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayDecide(caller, "route issues"); },
      [this](const Caller&, const v1::RouteIssuesRequest& parsed) {
        return core_.RouteBatch(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::EscalateIssue(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request,
                                                        grpc::ByteBuffer* response) {
  return ServeNow<v1::EscalateIssueRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayDecide(caller, "escalate issues"); },
      [this](const Caller&, const v1::EscalateIssueRequest& parsed) {
        return core_.Escalate(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::RouteToTarget(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request,
                                                        grpc::ByteBuffer* response) {
  return ServeNow<v1::RouteToTargetRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayDecide(caller, "route to a target"); },
      [this](const Caller&, const v1::RouteToTargetRequest& parsed) {
        return core_.RouteToTarget(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::GetRuleset(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  return ServeNow<v1::GetRulesetRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayReadRulesets(caller, "read rulesets"); },
      [this](const Caller&, const v1::GetRulesetRequest& parsed) {
        return core_.GetRuleset(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::ListRulesetRevisions(grpc::CallbackServerContext* context,
                                                               const grpc::ByteBuffer* request,
                                                               grpc::ByteBuffer* response) {
  return ServeNow<v1::ListRulesetRevisionsRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayReadRulesets(caller, "read rulesets"); },
      [this](const Caller&, const v1::ListRulesetRevisionsRequest& parsed) {
        return core_.ListRevisions(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::TestRuleset(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeNow<v1::TestRulesetRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayReadRulesets(caller, "test rulesets"); },
      [this](const Caller&, const v1::TestRulesetRequest& parsed) {
        return core_.TestRuleset(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::ApplyRuleset(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeLater<v1::Ruleset, v1::ApplyRulesetRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayApplyRulesets(caller); },
      [this](const Caller& caller, const v1::ApplyRulesetRequest& parsed, auto done) {
        // The author is who applied it: the authenticated identity, or
        // "local" on a stack that authenticates nobody.
        core_.ApplyRuleset(parsed, caller.name(), std::move(done));
      });
}

}  // namespace switchboard::routing
