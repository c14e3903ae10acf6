#include "services/intake/intake_service.h"

#include "common/handler.h"
#include "services/intake/access.h"

namespace switchboard::intake {
namespace {

// Fills `actor` with the caller's identity when the request names nobody
// and the caller is authenticated, so that tools need not repeat it.
template <typename Request>
void DefaultActor(const Caller& caller, Request& request) {
  if (request.actor().empty() && !caller.local()) request.set_actor(caller.name());
}

}  // namespace

grpc::ServerUnaryReactor* IntakeService::SubmitIssue(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  return ServeLater<issue::v1::Issue, v1::SubmitIssueRequest>(
      *options_.gate, context, request, response,
      [](const Caller& caller, v1::SubmitIssueRequest& parsed) {
        return MaySubmit(caller, *parsed.mutable_issue());
      },
      [this](const Caller& caller, const v1::SubmitIssueRequest& parsed,
             IntakeCore::IssueDone done) {
        if (options_.noop_submit) return std::move(done)(parsed.issue());
        core_.Submit(parsed, caller, std::move(done));
      });
}

grpc::ServerUnaryReactor* IntakeService::GetIssue(grpc::CallbackServerContext* context,
                                                  const grpc::ByteBuffer* request,
                                                  grpc::ByteBuffer* response) {
  return ServeNow<v1::GetIssueRequest>(
      *options_.gate, context, request, response, Anyone<v1::GetIssueRequest>,
      [this](const Caller& caller, const v1::GetIssueRequest& parsed) {
        return core_.Get(parsed, caller);
      });
}

grpc::ServerUnaryReactor* IntakeService::ListIssues(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request,
                                                    grpc::ByteBuffer* response) {
  return ServeNow<v1::ListIssuesRequest>(
      *options_.gate, context, request, response,
      [](const Caller& caller, const v1::ListIssuesRequest&) { return MayList(caller); },
      [this](const Caller& caller, const v1::ListIssuesRequest& parsed) {
        return core_.List(parsed, caller);
      });
}

grpc::ServerUnaryReactor* IntakeService::AcknowledgeIssue(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request,
                                                          grpc::ByteBuffer* response) {
  return ServeLater<issue::v1::Issue, v1::AcknowledgeIssueRequest>(
      *options_.gate, context, request, response,
      [](const Caller& caller, v1::AcknowledgeIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "acknowledge");
      },
      [this](const Caller& caller, const v1::AcknowledgeIssueRequest& parsed,
             IntakeCore::IssueDone done) { core_.Acknowledge(parsed, caller, std::move(done)); });
}

grpc::ServerUnaryReactor* IntakeService::ResolveIssue(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeLater<issue::v1::Issue, v1::ResolveIssueRequest>(
      *options_.gate, context, request, response,
      [](const Caller& caller, v1::ResolveIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "resolve");
      },
      [this](const Caller& caller, const v1::ResolveIssueRequest& parsed,
             IntakeCore::IssueDone done) { core_.Resolve(parsed, caller, std::move(done)); });
}

grpc::ServerUnaryReactor* IntakeService::TransferIssue(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeLater<issue::v1::Issue, v1::TransferIssueRequest>(
      *options_.gate, context, request, response,
      [](const Caller& caller, v1::TransferIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "transfer");
      },
      [this](const Caller& caller, const v1::TransferIssueRequest& parsed,
             IntakeCore::IssueDone done) { core_.Transfer(parsed, caller, std::move(done)); });
}

}  // namespace switchboard::intake
