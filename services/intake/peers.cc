#include "services/intake/peers.h"

#include "absl/strings/str_cat.h"
#include "common/channel.h"
#include "common/logging.h"
#include "common/status.h"

namespace switchboard::intake {
namespace {

// What a caller of intake is told when a call to `peer` failed. Its verdict
// on the request (INVALID_ARGUMENT naming a field, NOT_FOUND, ...) is passed
// on as it is; a failure to reach it, or of its own, is said in intake's
// words, without the addresses and transport details that only operators
// need: those go to the log.
absl::Status PeerError(absl::string_view peer, const grpc::Status& status) {
  const absl::Status error = FromGrpcStatus(status);
  switch (error.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return error;
    default:
      break;
  }
  log::Warning("a call to a peer failed", {{"peer", peer}, {"status", error}});
  switch (error.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
      return absl::UnavailableError(
          absl::StrCat("the ", peer,
                       " service is unavailable just now; the call changed nothing and can be "
                       "retried"));
    default:
      return absl::InternalError(
          absl::StrCat("the ", peer, " service failed the call (", StatusCodeName(error.code()),
                       "); the call changed nothing; operators: see intake's log"));
  }
}

using routing::v1::RoutingService;

class GrpcRoutingPeer final : public RoutingPeer {
 public:
  GrpcRoutingPeer(const std::string& target,
                  const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                  absl::Duration timeout)
      : stub_(RoutingService::NewStub(
            MakeServiceChannel(target, credentials, {RoutingService::service_full_name()}))),
        timeout_(timeout) {}

  absl::StatusOr<routing::v1::RouteIssuesResponse> RouteIssues(
      const routing::v1::RouteIssuesRequest& request) override {
    grpc::ClientContext context;
    SetTimeout(context, timeout_);
    routing::v1::RouteIssuesResponse response;
    RETURN_IF_ERROR(FromGrpcStatus(stub_->RouteIssues(&context, request, &response)));
    return response;
  }

  absl::StatusOr<routing::v1::RoutingDecision> EscalateIssue(
      const routing::v1::EscalateIssueRequest& request) override {
    grpc::ClientContext context;
    SetTimeout(context, timeout_);
    routing::v1::RoutingDecision decision;
    RETURN_IF_ERROR(FromGrpcStatus(stub_->EscalateIssue(&context, request, &decision)));
    return decision;
  }

  void RouteToTarget(const routing::v1::RouteToTargetRequest& request, DecisionDone done) override {
    struct Call {
      grpc::ClientContext context;
      routing::v1::RouteToTargetRequest request;
      routing::v1::RoutingDecision decision;
      DecisionDone done;
    };
    auto* call = new Call{{}, request, {}, std::move(done)};  // freed in the callback
    SetTimeout(call->context, timeout_);
    stub_->async()->RouteToTarget(&call->context, &call->request, &call->decision,
                                  [call](const grpc::Status& status) {
                                    std::unique_ptr<Call> owned(call);
                                    if (status.ok()) {
                                      std::move(owned->done)(std::move(owned->decision));
                                    } else {
                                      std::move(owned->done)(PeerError("routing", status));
                                    }
                                  });
  }

 private:
  std::unique_ptr<RoutingService::Stub> stub_;
  const absl::Duration timeout_;
};

class GrpcNotificationPeer final : public NotificationPeer {
 public:
  GrpcNotificationPeer(const std::string& target,
                       const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                       absl::Duration timeout)
      : stub_(notification::v1::NotificationService::NewStub(MakeServiceChannel(
            target, credentials, {notification::v1::NotificationService::service_full_name()}))),
        timeout_(timeout) {}

  absl::Status Publish(const notification::v1::PublishRequest& request) override {
    grpc::ClientContext context;
    SetTimeout(context, timeout_);
    notification::v1::PublishResponse response;
    return FromGrpcStatus(stub_->Publish(&context, request, &response));
  }

 private:
  std::unique_ptr<notification::v1::NotificationService::Stub> stub_;
  const absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<RoutingPeer> MakeGrpcRoutingPeer(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::Duration timeout) {
  return std::make_unique<GrpcRoutingPeer>(target, credentials, timeout);
}

std::unique_ptr<NotificationPeer> MakeGrpcNotificationPeer(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::Duration timeout) {
  return std::make_unique<GrpcNotificationPeer>(target, credentials, timeout);
}

}  // namespace switchboard::intake
