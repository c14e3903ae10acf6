// The gRPC adapter of switchboard.routing.v1.RoutingService: parses each
// request itself (so malformed bytes are INVALID_ARGUMENT, not UNIMPLEMENTED),
// calls RoutingCore, and converts the outcome. No routing logic lives here.
#ifndef SWITCHBOARD_SERVICES_ROUTING_ROUTING_SERVICE_H_
#define SWITCHBOARD_SERVICES_ROUTING_ROUTING_SERVICE_H_

#include "common/call_gate.h"
#include "services/routing/routing_core.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard::routing {

using RawRoutingService = v1::RoutingService::WithRawCallbackMethod_RouteIssue<
    v1::RoutingService::WithRawCallbackMethod_RouteIssues<
        v1::RoutingService::WithRawCallbackMethod_EscalateIssue<
            v1::RoutingService::WithRawCallbackMethod_RouteToTarget<
                v1::RoutingService::WithRawCallbackMethod_GetRuleset<
                    v1::RoutingService::WithRawCallbackMethod_ApplyRuleset<
                        v1::RoutingService::WithRawCallbackMethod_ListRulesetRevisions<
                            v1::RoutingService::WithRawCallbackMethod_TestRuleset<
                                v1::RoutingService::Service>>>>>>>>;

class RoutingService final : public RawRoutingService {
 public:
  // `gate` admits every call (common/call_gate.h); the default lets everyone
  // in as Caller::Local().
  explicit RoutingService(RoutingCore& core, CallGate& gate = CallGate::Open())
      : core_(core), gate_(gate) {}

  grpc::ServerUnaryReactor* RouteIssue(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RouteIssues(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* EscalateIssue(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RouteToTarget(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetRuleset(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ApplyRuleset(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListRulesetRevisions(grpc::CallbackServerContext* context,
                                                 const grpc::ByteBuffer* request,
                                                 grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* TestRuleset(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;

 private:
  RoutingCore& core_;
  CallGate& gate_;
};

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_ROUTING_SERVICE_H_
