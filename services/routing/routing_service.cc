#include "services/routing/routing_service.h"

#include "common/unary_call.h"

namespace switchboard::routing {

// Each synchronous RPC: parse, call the core, finish with its outcome.
#define SWITCHBOARD_SERVE_SYNC(Rpc, Request, CoreMethod)                                    \
  grpc::ServerUnaryReactor* RoutingService::Rpc(grpc::CallbackServerContext* context,       \
                                                const grpc::ByteBuffer* request,            \
                                                grpc::ByteBuffer* response) {               \
    return ServeUnary<v1::Request>(context, request, response,                              \
                                   [this](const v1::Request& parsed, UnaryResponder done) { \
                                     done.Finish(core_.CoreMethod(parsed));                 \
                                   });                                                      \
  }

SWITCHBOARD_SERVE_SYNC(RouteIssue, RouteIssueRequest, Route)
SWITCHBOARD_SERVE_SYNC(RouteIssues, RouteIssuesRequest, RouteBatch)
SWITCHBOARD_SERVE_SYNC(EscalateIssue, EscalateIssueRequest, Escalate)
SWITCHBOARD_SERVE_SYNC(RouteToTarget, RouteToTargetRequest, RouteToTarget)
SWITCHBOARD_SERVE_SYNC(GetRuleset, GetRulesetRequest, GetRuleset)
SWITCHBOARD_SERVE_SYNC(ListRulesetRevisions, ListRulesetRevisionsRequest, ListRevisions)
SWITCHBOARD_SERVE_SYNC(TestRuleset, TestRulesetRequest, TestRuleset)

#undef SWITCHBOARD_SERVE_SYNC

grpc::ServerUnaryReactor* RoutingService::ApplyRuleset(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeUnary<v1::ApplyRulesetRequest>(
      context, request, response,
      [this](const v1::ApplyRulesetRequest& parsed, UnaryResponder done) {
        // Callers are not authenticated yet; the author records that.
        core_.ApplyRuleset(parsed, "anonymous", [done](const absl::StatusOr<v1::Ruleset>& result) {
          done.Finish(result);
        });
      });
}

}  // namespace switchboard::routing
