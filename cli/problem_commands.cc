// switchboard problem get | list: broad problems, the issues a correlation
// policy grouped together (docs/problems.md).
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

int Get(Session& session, const ParsedArgs& args) {
  intake::v1::GetProblemRequest request;
  request.set_name(ProblemName(args.positional()[0]));
  auto context = session.Context();
  Problem problem;
  grpc::Status status = session.intake().GetProblem(context.get(), request, &problem);
  if (!status.ok())
    return session.Fail(absl::StrCat("cannot get ", request.name()), status, "intake");
  if (session.json()) {
    session.PrintJson(problem);
  } else {
    PrintProblem(session.out(), problem, absl::Now());
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
}

}  // namespace switchboard::cli
