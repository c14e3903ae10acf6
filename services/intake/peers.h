// The intake service's view of the services it calls: interfaces, so the
// core and the dispatcher are tested against fakes, and their gRPC
// implementations over channels with deadlines and retries.
#ifndef SWITCHBOARD_SERVICES_INTAKE_PEERS_H_
#define SWITCHBOARD_SERVICES_INTAKE_PEERS_H_

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard::intake {

class RoutingPeer {
 public:
  using DecisionDone = absl::AnyInvocable<void(absl::StatusOr<routing::v1::RoutingDecision>) &&>;

  virtual ~RoutingPeer() = default;

  // Blocking; for the dispatcher's own threads, never for handlers.
  virtual absl::StatusOr<routing::v1::RouteIssuesResponse> RouteIssues(
      const routing::v1::RouteIssuesRequest& request) = 0;
  virtual absl::StatusOr<routing::v1::RoutingDecision> EscalateIssue(
      const routing::v1::EscalateIssueRequest& request) = 0;

  // Asynchronous; `done` runs on a gRPC thread. For handlers.
  virtual void RouteToTarget(const routing::v1::RouteToTargetRequest& request,
                             DecisionDone done) = 0;
};

class NotificationPeer {
 public:
  virtual ~NotificationPeer() = default;

  // Blocking; for the dispatcher's own thread.
  virtual absl::Status Publish(const notification::v1::PublishRequest& request) = 0;
};

// Over gRPC to `target` with `credentials` (common/security.h), each call
// with `timeout`.
std::unique_ptr<RoutingPeer> MakeGrpcRoutingPeer(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::Duration timeout);
std::unique_ptr<NotificationPeer> MakeGrpcNotificationPeer(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::Duration timeout);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_PEERS_H_
