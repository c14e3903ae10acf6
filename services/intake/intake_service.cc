#include "services/intake/intake_service.h"

#include "common/unary_call.h"

namespace switchboard::intake {

// An RPC whose core method completes asynchronously with an Issue.
#define SWITCHBOARD_SERVE_ISSUE_WRITE(Rpc, Request, CoreMethod)                              \
  grpc::ServerUnaryReactor* IntakeService::Rpc(grpc::CallbackServerContext* context,         \
                                               const grpc::ByteBuffer* request,              \
                                               grpc::ByteBuffer* response) {                 \
    return ServeUnary<v1::Request>(                                                          \
        context, request, response, [this](const v1::Request& parsed, UnaryResponder done) { \
          core_.CoreMethod(parsed, [done](const absl::StatusOr<issue::v1::Issue>& issue) {   \
            done.Finish(issue);                                                              \
          });                                                                                \
        });                                                                                  \
  }

SWITCHBOARD_SERVE_ISSUE_WRITE(SubmitDurably, SubmitIssueRequest, Submit)
SWITCHBOARD_SERVE_ISSUE_WRITE(AcknowledgeIssue, AcknowledgeIssueRequest, Acknowledge)
SWITCHBOARD_SERVE_ISSUE_WRITE(ResolveIssue, ResolveIssueRequest, Resolve)
SWITCHBOARD_SERVE_ISSUE_WRITE(TransferIssue, TransferIssueRequest, Transfer)

#undef SWITCHBOARD_SERVE_ISSUE_WRITE

grpc::ServerUnaryReactor* IntakeService::SubmitIssue(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  if (!options_.noop_submit) return SubmitDurably(context, request, response);
  return ServeUnary<v1::SubmitIssueRequest>(
      context, request, response, [](const v1::SubmitIssueRequest& parsed, UnaryResponder done) {
        done.Finish(parsed.issue());
      });
}

grpc::ServerUnaryReactor* IntakeService::GetIssue(grpc::CallbackServerContext* context,
                                                  const grpc::ByteBuffer* request,
                                                  grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetIssueRequest>(
      context, request, response, [this](const v1::GetIssueRequest& parsed, UnaryResponder done) {
        done.Finish(core_.Get(parsed));
      });
}

grpc::ServerUnaryReactor* IntakeService::ListIssues(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request,
                                                    grpc::ByteBuffer* response) {
  return ServeUnary<v1::ListIssuesRequest>(
      context, request, response, [this](const v1::ListIssuesRequest& parsed, UnaryResponder done) {
        done.Finish(core_.List(parsed));
      });
}

}  // namespace switchboard::intake
