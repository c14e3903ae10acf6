#include "services/intake/intake_service.h"

#include "common/unary_call.h"

namespace switchboard::intake {

grpc::ServerUnaryReactor* IntakeService::SubmitIssue(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  return ServeUnary<v1::SubmitIssueRequest>(
      context, request, response,
      [this](const v1::SubmitIssueRequest& parsed, UnaryResponder done) {
        core_.Submit(parsed,
                     [done](const absl::StatusOr<issue::v1::Issue>& issue) { done.Finish(issue); });
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
