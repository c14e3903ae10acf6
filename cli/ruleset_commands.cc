// switchboard ruleset apply | show | history | test
#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/session.h"
#include "common/proto_file.h"

namespace switchboard::cli {
namespace {

using routing::v1::Ruleset;

std::string Route(const routing::v1::RoutingDecision& decision) {
  return absl::StrCat(FormatTarget(decision.target()), " (",
                      decision.rule().empty() ? "default route" : decision.rule(), ")");
}

int Apply(Session& session, const ParsedArgs& args) {
  routing::v1::ApplyRulesetRequest request;
  if (absl::Status status = LoadJsonOrYamlFile(args.positional()[0], *request.mutable_ruleset());
      !status.ok()) {
    return session.Fail("cannot read the ruleset", status);
  }
  if (args.Has("comment")) request.mutable_ruleset()->set_comment(args.Get("comment"));
  auto expected = args.GetInt("expected-revision", 0, 0, INT64_MAX);
  if (!expected.ok()) return session.UsageError(expected.status().message());
  request.set_expected_revision(*expected);
  request.set_validate_only(args.Has("validate-only"));
  auto context = session.Context();
  Ruleset applied;
  grpc::Status status = session.routing().ApplyRuleset(context.get(), request, &applied);
  if (!status.ok()) {
    return session.Fail(
        request.validate_only() ? "the ruleset is not valid" : "cannot apply the ruleset", status,
        "routing");
  }
  if (session.json()) {
    session.PrintJson(applied);
  } else if (request.validate_only()) {
    session.out() << "valid: " << applied.rules_size() << " rules, "
                  << applied.business_groups_size() << " business groups (nothing applied)\n";
  } else {
    session.out() << "applied: ruleset revision " << applied.revision() << " is active ("
                  << applied.rules_size() << " rules)\n";
  }
  return 0;
}

int Show(Session& session, const ParsedArgs& args) {
  auto revision = args.GetInt("revision", 0, 0, INT64_MAX);
  if (!revision.ok()) return session.UsageError(revision.status().message());
  routing::v1::GetRulesetRequest request;
  request.set_revision(*revision);
  auto context = session.Context();
  Ruleset ruleset;
  grpc::Status status = session.routing().GetRuleset(context.get(), request, &ruleset);
  if (!status.ok()) return session.Fail("cannot get the ruleset", status, "routing");
  if (session.json()) {
    session.PrintJson(ruleset);
  } else {
    PrintRuleset(session.out(), ruleset, absl::Now());
  }
  return 0;
}

int History(Session& session, const ParsedArgs& args) {
  return session.List<routing::v1::ListRulesetRevisionsResponse>(
      args, 20, routing::v1::ListRulesetRevisionsRequest(), "ruleset revisions", "routing",
      [&](auto* context, const auto& r, auto* page) {
        return session.routing().ListRulesetRevisions(context, r, page);
      },
      [&](const routing::v1::ListRulesetRevisionsResponse& all) {
        const absl::Time now = absl::Now();
        int author_width = 6;
        for (const Ruleset& ruleset : all.rulesets()) {
          author_width = std::max(author_width, static_cast<int>(ruleset.author().size()));
        }
        session.out() << absl::StrFormat("%-8s  %-34s  %-5s  %-*s  %s\n", "REVISION", "CREATED",
                                         "RULES", author_width, "AUTHOR", "COMMENT");
        for (const Ruleset& ruleset : all.rulesets()) {
          session.out() << absl::StrFormat("%-8d  %-34s  %-5d  %-*s  %s\n", ruleset.revision(),
                                           FormatTime(ruleset.create_time(), now),
                                           ruleset.rules_size(), author_width, ruleset.author(),
                                           ruleset.comment());
        }
      });
}

// A decision without what says how it was made (rule, revision, trace,
// original target): what remains is its outcome.
routing::v1::RoutingDecision WithoutProvenance(routing::v1::RoutingDecision decision) {
  decision.clear_rule();
  decision.clear_ruleset_revision();
  decision.clear_trace();
  decision.clear_original_target();
  decision.clear_escalation_contacts();
  return decision;
}

// The problems the candidate's correlation policies would make, largest
// first, at most 20 of them.
void PrintCorrelationGroups(std::ostream& out, const routing::v1::TestRulesetRequest& request,
                            const routing::v1::TestRulesetResponse& response) {
  if (request.candidate().correlation_policies().empty()) return;
  int correlated = 0;
  std::vector<const routing::v1::CorrelationGroup*> groups;
  for (const routing::v1::CorrelationGroup& group : response.correlation_groups()) {
    correlated += group.issue_indexes_size();
    groups.push_back(&group);
  }
  out << "\n"
      << correlated << " of " << response.results_size()
      << " issues fall under a correlation policy: " << response.problem_count()
      << (response.problem_count() == 1 ? " problem\n" : " problems\n");
  std::stable_sort(groups.begin(), groups.end(), [](const auto* a, const auto* b) {
    return a->issue_indexes_size() > b->issue_indexes_size();
  });
  constexpr size_t kShown = 20;
  for (size_t g = 0; g < std::min(groups.size(), kShown); ++g) {
    const routing::v1::CorrelationGroup& group = *groups[g];
    std::vector<std::string> names;
    for (const int i : group.issue_indexes()) {
      const std::string& name = request.issues(i).name();
      names.push_back(name.empty() ? absl::StrCat("#", i + 1) : name);
      if (names.size() == 5 && group.issue_indexes_size() > 5) {
        names.push_back(absl::StrCat("and ", group.issue_indexes_size() - 5, " more"));
        break;
      }
    }
    out << "  " << group.key() << "\n    " << group.issue_indexes_size()
        << (group.issue_indexes_size() == 1 ? " issue, " : " issues, ") << group.customers()
        << (group.customers() == 1 ? " customer" : " customers")
        << (group.would_escalate() ? ", would escalate" : "") << ": " << absl::StrJoin(names, ", ")
        << "\n";
  }
  if (groups.size() > kShown) out << "  (" << groups.size() - kShown << " more; see --json)\n";
}

int Test(Session& session, const ParsedArgs& args) {
  routing::v1::TestRulesetRequest request;
  if (absl::Status status = LoadJsonOrYamlFile(args.positional()[0], *request.mutable_candidate());
      !status.ok()) {
    return session.Fail("cannot read the candidate ruleset", status);
  }
  auto limit = args.GetInt("limit", 500, 1, 1000);
  if (!limit.ok()) return session.UsageError(limit.status().message());
  if (args.Has("issues")) {
    intake::v1::ListIssuesResponse issues;  // a file with `issues: [...]`
    if (absl::Status status = LoadJsonOrYamlFile(args.Get("issues"), issues); !status.ok()) {
      return session.Fail("cannot read the issues", status);
    }
    *request.mutable_issues() = std::move(*issues.mutable_issues());
  } else {
    // The newest stored issues (matching --filter).
    intake::v1::ListIssuesRequest list;
    list.set_filter(args.Get("filter"));
    while (request.issues_size() < *limit) {
      list.set_page_size(static_cast<int>(*limit) - request.issues_size());
      auto context = session.Context();
      intake::v1::ListIssuesResponse page;
      grpc::Status status = session.intake().ListIssues(context.get(), list, &page);
      if (!status.ok()) return session.Fail("cannot list issues to test on", status, "intake");
      request.mutable_issues()->MergeFrom(page.issues());
      if (page.next_page_token().empty()) break;
      list.set_page_token(page.next_page_token());
    }
  }
  if (request.issues().empty()) {
    session.err() << "error: no issues to test the candidate on\n";
    return kExitFailure;
  }
  auto context = session.Context();
  routing::v1::TestRulesetResponse response;
  grpc::Status status = session.routing().TestRuleset(context.get(), request, &response);
  if (!status.ok()) return session.Fail("cannot test the ruleset", status, "routing");
  if (session.json()) {
    session.PrintJson(response);
    return 0;
  }
  // A result is `changed` when the owner, watchers, SLA or problem key
  // differ; the key is shown apart, so a new policy does not read as a move.
  int routed = 0;
  int rekeyed = 0;
  for (int i = 0; i < response.results_size(); ++i) {
    const routing::v1::RouteComparison& result = response.results(i);
    if (!result.changed()) continue;
    const std::string& name = request.issues(i).name();
    const std::string label = name.empty() ? absl::StrCat("issue #", i + 1) : name;
    const std::string& before = result.active().correlation().key();
    const std::string& after = result.candidate().correlation().key();
    routing::v1::RoutingDecision active = result.active();
    routing::v1::RoutingDecision candidate = result.candidate();
    active.clear_correlation();
    candidate.clear_correlation();
    if (!google::protobuf::util::MessageDifferencer::Equals(WithoutProvenance(active),
                                                            WithoutProvenance(candidate))) {
      ++routed;
      session.out() << label << "  " << Route(result.active()) << "  →  "
                    << Route(result.candidate()) << "\n";
    }
    if (before != after) {
      ++rekeyed;
      session.out() << label << "  problem key " << (before.empty() ? "(none)" : before) << "  →  "
                    << (after.empty() ? "(none)" : after) << "\n";
    }
  }
  session.out() << (routed + rekeyed > 0 ? "\n" : "") << routed << " of " << response.results_size()
                << " issues would be routed differently, " << rekeyed
                << " would get another problem key\n";
  PrintCorrelationGroups(session.out(), request, response);
  return 0;
}

}  // namespace

void AddRulesetCommands(CommandLine& command_line) {
  command_line.AddGroup("ruleset", "Manage the routing rules (RoutingService).");
  command_line.Add({
      .path = {"ruleset", "apply"},
      .arguments = "FILE",
      .summary = "validate and activate a ruleset from a JSON or YAML file",
      .description = "Every violation is listed if the ruleset is invalid. The new revision is\n"
                     "stored durably and activated atomically; re-apply an old one to roll back\n"
                     "(see `ruleset history` and `ruleset show --revision N --json`).",
      .flags = {{.name = "validate-only", .help = "check it, apply nothing"},
                {.name = "expected-revision",
                 .value_name = "N",
                 .help = "apply only if revision N is active (else ABORTED)"},
                {.name = "comment", .value_name = "TEXT", .help = "why (overrides the file's)"}},
      .min_args = 1,
      .max_args = 1,
      .run = Apply,
  });
  command_line.Add({
      .path = {"ruleset", "show"},
      .summary = "show the active ruleset (or a past revision)",
      .description = "With --json the output is a file `ruleset apply` accepts.",
      .flags = {{.name = "revision",
                 .value_name = "N",
                 .help = "a past revision (default: active)"}},
      .run = Show,
  });
  command_line.Add({
      .path = {"ruleset", "history"},
      .summary = "list ruleset revisions, newest first",
      .flags = PagingFlags(20),
      .run = History,
  });
  command_line.Add({
      .path = {"ruleset", "test"},
      .arguments = "FILE",
      .summary = "backtest a candidate ruleset: which issues would move",
      .description =
          "Routes issues with both the active ruleset and the candidate in FILE and\n"
          "lists those whose owner or rule would change. The issues are the newest\n"
          "stored ones (--filter, --limit), or those of --issues FILE (`issues: [...]`).",
      .flags = {{.name = "filter",
                 .value_name = "EXPR",
                 .help = "which stored issues, e.g. 'source=crm'"},
                {.name = "limit",
                 .value_name = "N",
                 .help = "at most N issues, 1..1000 (default 500)"},
                {.name = "issues", .value_name = "FILE", .help = "test on these issues instead"}},
      .min_args = 1,
      .max_args = 1,
      .run = Test,
  });
}

}  // namespace switchboard::cli
