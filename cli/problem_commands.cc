// switchboard problem get | list | ack | resolve | transfer | link | unlink: broad problems, the
// issues a correlation policy grouped together (docs/problems.md).
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/session.h"

namespace switchboard::cli {
namespace {

using issue::v1::Problem;

void Show(Session& session, const Problem& problem);

int Get(Session& session, const ParsedArgs& args) {
  intake::v1::GetProblemRequest request;
  request.set_name(ProblemName(args.positional()[0]));
  auto context = session.Context();
  Problem problem;
  grpc::Status status = session.intake().GetProblem(context.get(), request, &problem);
  if (!status.ok())
    return session.Fail(absl::StrCat("cannot get ", request.name()), status, "intake");
  Show(session, problem);
  return 0;
}

void Show(Session& session, const Problem& problem) {
  if (session.json()) {
    session.PrintJson(problem);
  } else {
    PrintProblem(session.out(), problem, absl::Now());
  }
}

int Acknowledge(Session& session, const ParsedArgs& args) {
  intake::v1::AcknowledgeProblemRequest request;
  request.set_name(ProblemName(args.positional()[0]));
  request.set_actor(ActorOf(args));
  request.set_etag(args.Get("etag"));
  auto context = session.Context();
  Problem problem;
  grpc::Status status = session.intake().AcknowledgeProblem(context.get(), request, &problem);
  if (!status.ok()) {
    return session.Fail(absl::StrCat("cannot acknowledge ", request.name()), status, "intake");
  }
  Show(session, problem);
  return 0;
}

int Resolve(Session& session, const ParsedArgs& args) {
  if (!args.Has("resolution")) return session.UsageError("--resolution is required");
  intake::v1::ResolveProblemRequest request;
  request.set_name(ProblemName(args.positional()[0]));
  request.set_actor(ActorOf(args));
  request.set_resolution(args.Get("resolution"));
  request.set_etag(args.Get("etag"));
  auto context = session.Context();
  Problem problem;
  grpc::Status status = session.intake().ResolveProblem(context.get(), request, &problem);
  if (!status.ok()) {
    return session.Fail(absl::StrCat("cannot resolve ", request.name()), status, "intake");
  }
  Show(session, problem);
  if (!session.json()) {
    session.out() << "\nits " << problem.linked_issue_count()
                  << " linked issues are being resolved with it\n";
  }
  return 0;
}

int Transfer(Session& session, const ParsedArgs& args) {
  if (!args.Has("team")) return session.UsageError("--team is required");
  intake::v1::TransferProblemRequest request;
  request.set_name(ProblemName(args.positional()[0]));
  std::optional<issue::v1::Target> target = TargetOf(session, args);
  if (!target) return kExitFailure;
  *request.mutable_target() = *std::move(target);
  request.set_reason(args.Get("reason"));
  request.set_actor(ActorOf(args));
  request.set_etag(args.Get("etag"));
  auto context = session.Context();
  Problem problem;
  grpc::Status status = session.intake().TransferProblem(context.get(), request, &problem);
  if (!status.ok()) {
    return session.Fail(absl::StrCat("cannot transfer ", request.name()), status, "intake");
  }
  Show(session, problem);
  if (!session.json()) {
    session.out() << "\nthe linked issues its previous owner held are moving with it\n";
  }
  return 0;
}

int Link(Session& session, const ParsedArgs& args) {
  intake::v1::LinkIssueRequest request;
  request.set_name(IssueName(args.positional()[1]));
  request.set_problem(ProblemName(args.positional()[0]));
  request.set_actor(ActorOf(args));
  request.set_etag(args.Get("etag"));
  auto context = session.Context();
  issue::v1::Issue issue;
  grpc::Status status = session.intake().LinkIssue(context.get(), request, &issue);
  if (!status.ok()) {
    return session.Fail(absl::StrCat("cannot link ", request.name(), " to ", request.problem()),
                        status, "intake");
  }
  if (session.json()) {
    session.PrintJson(issue);
  } else {
    session.out() << issue.name() << " is linked to " << issue.problem() << ", owned by "
                  << issue.assignment().target().team() << " (etag " << issue.etag() << ")\n";
  }
  return 0;
}

int Unlink(Session& session, const ParsedArgs& args) {
  intake::v1::UnlinkIssueRequest request;
  request.set_name(IssueName(args.positional()[1]));
  request.set_problem(ProblemName(args.positional()[0]));
  request.set_actor(ActorOf(args));
  request.set_etag(args.Get("etag"));
  request.set_reason(args.Get("reason"));
  auto context = session.Context();
  issue::v1::Issue issue;
  grpc::Status status = session.intake().UnlinkIssue(context.get(), request, &issue);
  if (!status.ok()) {
    return session.Fail(absl::StrCat("cannot unlink ", request.name(), " from ", request.problem()),
                        status, "intake");
  }
  if (session.json()) {
    session.PrintJson(issue);
  } else {
    session.out() << issue.name() << " is no longer linked to " << request.problem()
                  << "; its owner " << issue.assignment().target().team()
                  << " has its own ack deadline again (etag " << issue.etag() << ")\n";
  }
  return 0;
}

int List(Session& session, const ParsedArgs& args) {
  std::vector<std::string> terms;
  if (args.Has("filter")) terms.push_back(args.Get("filter"));
  if (args.Has("state")) {
    auto number = ParseEnumName(*issue::v1::ProblemState_descriptor(), args.Get("state"));
    if (!number.ok()) return session.UsageError(number.status().message());
    terms.push_back(absl::StrCat(
        "state=", issue::v1::ProblemState_descriptor()->FindValueByNumber(*number)->name()));
  }
  for (const auto& [flag, field] : {std::pair<const char*, const char*>{"group", "business_group"},
                                    {"team", "team"},
                                    {"product", "product"}}) {
    if (args.Has(flag)) terms.push_back(absl::StrCat(field, "=", args.Get(flag)));
  }
  intake::v1::ListProblemsRequest request;
  request.set_filter(absl::StrJoin(terms, " AND "));
  return session.List<intake::v1::ListProblemsResponse>(
      args, 50, request, "problems", "intake",
      [&](auto* context, const auto& r, auto* page) {
        return session.intake().ListProblems(context, r, page);
      },
      [&](const intake::v1::ListProblemsResponse& all) {
        if (all.problems().empty()) {
          session.out() << "no problems" << (request.filter().empty() ? "" : " match ")
                        << request.filter() << "\n";
        } else {
          PrintProblemTable(session.out(), all.problems(), absl::Now());
        }
      });
}

}  // namespace

std::string ProblemName(absl::string_view arg) {
  return absl::StartsWith(arg, "problems/") ? std::string(arg) : absl::StrCat("problems/", arg);
}

void AddProblemCommands(CommandLine& command_line) {
  command_line.Add({
      .path = {"problem", "get"},
      .arguments = "NAME",
      .summary = "show a problem: issues a correlation policy grouped together",
      .description = "NAME is problems/ID or just ID. `issue list --problem ID` lists all of its\n"
                     "issues.",
      .min_args = 1,
      .max_args = 1,
      .run = Get,
  });
  command_line.Add({
      .path = {"problem", "list"},
      .summary = "list problems, newest first within each intake partition",
      .description = "Filters combine with AND. --filter takes the service's syntax, e.g.\n"
                     "  --filter 'state=PROBLEM_STATE_OPEN AND business_group=cloud-infra'",
      .flags = JoinFlags(
          {{.name = "state", .value_name = "STATE", .help = "open, acknowledged or resolved"},
           {.name = "group", .value_name = "ID", .help = "owning business group"},
           {.name = "team", .value_name = "ID", .help = "owning team"},
           {.name = "product", .value_name = "ID", .help = "product id"},
           {.name = "filter", .value_name = "EXPR", .help = "a raw filter expression"}},
          PagingFlags(50)),
      .run = List,
  });
  const FlagSpec actor = {.name = "actor",
                          .value_name = "WHO",
                          .help = "who is acting (default $SWITCHBOARD_ACTOR, else $USER)"};
  const FlagSpec etag = {
      .name = "etag",
      .value_name = "ETAG",
      .help = "act only if the problem is unchanged since you read this etag (else ABORTED)"};
  command_line.Add({
      .path = {"problem", "ack"},
      .arguments = "NAME",
      .summary = "acknowledge a problem and, with it, its linked issues",
      .flags = {actor, etag},
      .min_args = 1,
      .max_args = 1,
      .run = Acknowledge,
  });
  command_line.Add({
      .path = {"problem", "resolve"},
      .arguments = "NAME",
      .summary = "resolve a problem and every issue linked to it; each submitter is told",
      .flags = {{.name = "resolution",
                 .value_name = "TEXT",
                 .help = "how it was resolved (required)"},
                actor,
                etag},
      .min_args = 1,
      .max_args = 1,
      .run = Resolve,
  });
  command_line.Add({
      .path = {"problem", "transfer"},
      .arguments = "NAME",
      .summary = "hand a problem, and the linked issues its owner holds, to another team",
      .description = "The problem becomes open again: the new owner acknowledges it anew.",
      .flags = {{.name = "team", .value_name = "ID", .help = "the new owning team (required)"},
                {.name = "group",
                 .value_name = "ID",
                 .help = "its business group (default: looked up in the active ruleset)"},
                {.name = "reason", .value_name = "TEXT", .help = "why"},
                actor,
                etag},
      .min_args = 1,
      .max_args = 1,
      .run = Transfer,
  });
  const FlagSpec issue_etag = {
      .name = "etag",
      .value_name = "ETAG",
      .help = "act only if the issue is unchanged since you read this etag (else ABORTED)"};
  command_line.Add({
      .path = {"problem", "link"},
      .arguments = "PROBLEM ISSUE",
      .summary = "link an issue to a problem by hand; the problem's owner takes it",
      .description = "An issue belongs to at most one problem: unlink it from another first.",
      .flags = {actor, issue_etag},
      .min_args = 2,
      .max_args = 2,
      .run = Link,
  });
  command_line.Add({
      .path = {"problem", "unlink"},
      .arguments = "PROBLEM ISSUE",
      .summary = "unlink an issue from its problem; it keeps its owner and its own SLA",
      .flags = {{.name = "reason", .value_name = "TEXT", .help = "why"}, actor, issue_etag},
      .min_args = 2,
      .max_args = 2,
      .run = Unlink,
  });
}

}  // namespace switchboard::cli
