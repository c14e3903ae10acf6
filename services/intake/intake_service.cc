#include "services/intake/intake_service.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/unary_call.h"

namespace switchboard::intake {
namespace {

// Fills `actor` with the caller's identity when the request names nobody
// and the caller is authenticated, so that tools need not repeat it.
void DefaultActor(const Caller& caller, std::string* actor) {
  if (actor->empty() && !caller.local()) *actor = caller.name();
}

// SubmitIssue's source is the caller's: given, it must be one the caller
// submits as; left empty, it is the caller's only source.
absl::Status CheckSource(const Caller& caller, issue::v1::Issue& issue) {
  if (!caller.Has(Role::kSubmitter)) return caller.Deny("submit issues");
  if (issue.source().empty()) {
    issue.set_source(caller.SoleSource());
    if (issue.source().empty() && !caller.local()) {
      return InvalidArgumentWithViolations(
          "invalid SubmitIssueRequest: issue.source is required",
          {{"issue.source",
            absl::StrCat("required: ", caller.name(), " submits as several sources; name one")}});
    }
    return absl::OkStatus();
  }
  if (!caller.SubmitsAs(issue.source())) {
    return caller.Deny(absl::StrCat("submit as source \"", issue.source(), "\""));
  }
  return absl::OkStatus();
}

}  // namespace

// An RPC of the owning team whose core method completes asynchronously
// with an Issue.
#define SWITCHBOARD_SERVE_ISSUE_WRITE(Rpc, Request, CoreMethod, verb)                              \
  grpc::ServerUnaryReactor* IntakeService::Rpc(grpc::CallbackServerContext* context,               \
                                               const grpc::ByteBuffer* request,                    \
                                               grpc::ByteBuffer* response) {                       \
    return ServeUnary<v1::Request>(                                                                \
        *options_.gate, context, request, response,                                                \
        [this](const Caller& caller, v1::Request& parsed, UnaryResponder done) {                   \
          if (!caller.Has(Role::kTeamMember)) return done.Finish(caller.Deny(verb " issues"));     \
          DefaultActor(caller, parsed.mutable_actor());                                            \
          core_.CoreMethod(parsed, caller, [done](const absl::StatusOr<issue::v1::Issue>& issue) { \
            done.Finish(issue);                                                                    \
          });                                                                                      \
        });                                                                                        \
  }

SWITCHBOARD_SERVE_ISSUE_WRITE(AcknowledgeIssue, AcknowledgeIssueRequest, Acknowledge, "acknowledge")
SWITCHBOARD_SERVE_ISSUE_WRITE(ResolveIssue, ResolveIssueRequest, Resolve, "resolve")
SWITCHBOARD_SERVE_ISSUE_WRITE(TransferIssue, TransferIssueRequest, Transfer, "transfer")

#undef SWITCHBOARD_SERVE_ISSUE_WRITE

grpc::ServerUnaryReactor* IntakeService::SubmitIssue(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  return ServeUnary<v1::SubmitIssueRequest>(
      *options_.gate, context, request, response,
      [this](const Caller& caller, v1::SubmitIssueRequest& parsed, UnaryResponder done) {
        if (absl::Status denied = CheckSource(caller, *parsed.mutable_issue()); !denied.ok()) {
          return done.Finish(denied);
        }
        if (options_.noop_submit) return done.Finish(parsed.issue());
        core_.Submit(parsed,
                     [done](const absl::StatusOr<issue::v1::Issue>& issue) { done.Finish(issue); });
      });
}

grpc::ServerUnaryReactor* IntakeService::GetIssue(grpc::CallbackServerContext* context,
                                                  const grpc::ByteBuffer* request,
                                                  grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetIssueRequest>(
      *options_.gate, context, request, response,
      [this](const Caller& caller, const v1::GetIssueRequest& parsed, UnaryResponder done) {
        done.Finish(core_.Get(parsed, caller));
      });
}

grpc::ServerUnaryReactor* IntakeService::ListIssues(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request,
                                                    grpc::ByteBuffer* response) {
  return ServeUnary<v1::ListIssuesRequest>(
      *options_.gate, context, request, response,
      [this](const Caller& caller, const v1::ListIssuesRequest& parsed, UnaryResponder done) {
        if (!caller.HasAny(
                {Role::kOperator, Role::kService, Role::kSubmitter, Role::kTeamMember})) {
          return done.Finish(caller.Deny("list issues"));
        }
        done.Finish(core_.List(parsed, caller));
      });
}

}  // namespace switchboard::intake
