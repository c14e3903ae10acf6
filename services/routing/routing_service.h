// The gRPC adapter of switchboard.routing.v1.RoutingService: parses each
// request itself (so malformed bytes are INVALID_ARGUMENT, not UNIMPLEMENTED),
// calls RoutingCore, and converts the outcome. No routing logic lives here.
#ifndef SWITCHBOARD_SERVICES_ROUTING_ROUTING_SERVICE_H_
#define SWITCHBOARD_SERVICES_ROUTING_ROUTING_SERVICE_H_

#include "common/call_gate.h"
#include "common/forwarding.h"
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
                                v1::RoutingService::WithRawCallbackMethod_WatchActiveRuleset<
                                    v1::RoutingService::Service>>>>>>>>>;

class RoutingService final : public RawRoutingService {
 public:
  // `gate` admits every call (common/call_gate.h); the default lets everyone
  // in as Caller::Local(). `writer`, on a replica that follows a writer
  // (docs/scale-out.md), reaches it: applies and the revision history are
  // forwarded there; decisions are made here.
  explicit RoutingService(RoutingCore& core, CallGate& gate = CallGate::Open(),
                          PartitionPeers* writer = nullptr)
      : core_(core), gate_(gate), writer_(writer) {}

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
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchActiveRuleset(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override;

 private:
  // The writer's "partition" (0) for what only it has, or here (-1).
  int Writer() const { return writer_ == nullptr ? -1 : 0; }

  RoutingCore& core_;
  CallGate& gate_;
  PartitionPeers* const writer_;
};

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_ROUTING_SERVICE_H_
