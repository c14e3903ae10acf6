// switchboard issue submit | get | list | ack | resolve | transfer | wait | answer | resume |
// reopen | rate | explain
#include <cstdlib>
#include <optional>
#include <ostream>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/session.h"
#include "common/proto_file.h"

namespace switchboard::cli {
namespace {

using issue::v1::Issue;

const FlagSpec kActorFlag = {.name = "actor",
                             .value_name = "WHO",
                             .help = "who is acting (default $SWITCHBOARD_ACTOR, else $USER)"};
const FlagSpec kEtagFlag = {
    .name = "etag",
    .value_name = "ETAG",
    .help = "act only if the issue is unchanged since you read this etag (else ABORTED)"};

void Show(Session& session, const Issue& issue) {
  if (session.json()) {
    session.PrintJson(issue);
  } else {
    PrintIssue(session.out(), issue, absl::Now());
  }
}

std::string RandomRequestId() {
  std::random_device random;
  std::uniform_int_distribution<uint64_t> bits;
  return absl::StrCat("cli-", absl::Hex(bits(random), absl::kZeroPad16));
}

// The issue described by --file and the flags (flags win).
absl::StatusOr<Issue> IssueFromArgs(const ParsedArgs& args) {
  Issue issue;
  if (args.Has("file")) {
    if (absl::Status status = LoadJsonOrYamlFile(args.Get("file"), issue); !status.ok()) {
      return status;
    }
  }
  const auto set = [&](absl::string_view flag, std::string* field) {
    if (args.Has(flag)) *field = args.Get(flag);
  };
  set("title", issue.mutable_title());
  set("description", issue.mutable_description());
  set("customer", issue.mutable_customer()->mutable_id());
  set("customer-name", issue.mutable_customer()->mutable_display_name());
  set("country", issue.mutable_customer()->mutable_country());
  set("product", issue.mutable_product());
  set("region", issue.mutable_region());
  set("source", issue.mutable_source());
  set("submitter", issue.mutable_submitter());
  if (args.Has("severity")) {
    auto severity = ParseEnumName(*issue::v1::Severity_descriptor(), args.Get("severity"));
    if (!severity.ok()) return severity.status();
    issue.set_severity(static_cast<issue::v1::Severity>(*severity));
  }
  if (args.Has("tier")) {
    auto tier = ParseEnumName(*issue::v1::CustomerTier_descriptor(), args.Get("tier"));
    if (!tier.ok()) return tier.status();
    issue.mutable_customer()->set_tier(static_cast<issue::v1::CustomerTier>(*tier));
  }
  for (const std::string& label : args.GetAll("label")) {
    std::pair<std::string, std::string> kv = absl::StrSplit(label, absl::MaxSplits('=', 1));
    if (!absl::StrContains(label, '=')) {
      return absl::InvalidArgumentError(
          absl::StrCat("--label wants KEY=VALUE, got \"", label, "\""));
    }
    (*issue.mutable_labels())[kv.first] = kv.second;
  }
  if (issue.source().empty()) issue.set_source("cli");
  return issue;
}

// The stored issue, or nullopt after reporting why not.
std::optional<Issue> FetchIssue(Session& session, const std::string& name) {
  intake::v1::GetIssueRequest request;
  request.set_name(name);
  auto context = session.Context();
  Issue issue;
  grpc::Status status = session.intake().GetIssue(context.get(), request, &issue);
  if (!status.ok()) {
    session.Fail(absl::StrCat("cannot get ", name), status, "intake");
    return std::nullopt;
  }
  return issue;
}

int Submit(Session& session, const ParsedArgs& args) {
  absl::StatusOr<Issue> issue = IssueFromArgs(args);
  if (!issue.ok()) return session.UsageError(issue.status().message());
  auto wait = args.GetDuration("wait", absl::ZeroDuration());
  if (!wait.ok()) return session.UsageError(wait.status().message());
  intake::v1::SubmitIssueRequest request;
  *request.mutable_issue() = *std::move(issue);
  request.set_request_id(args.Has("request-id") ? args.Get("request-id") : RandomRequestId());
  auto context = session.Context();
  Issue created;
  grpc::Status status = session.intake().SubmitIssue(context.get(), request, &created);
  if (!status.ok()) {
    session.Fail("cannot submit the issue", status, "intake");
    const grpc::StatusCode code = status.error_code();
    if (code != grpc::StatusCode::UNAVAILABLE && code != grpc::StatusCode::DEADLINE_EXCEEDED &&
        code != grpc::StatusCode::UNKNOWN && code != grpc::StatusCode::INTERNAL) {
      return kExitFailure;
    }
    // The outcome is unknown: the issue may have been stored.
    session.err() << "The request id was " << request.request_id()
                  << "; retry with --request-id=" << request.request_id()
                  << " and the service will not create it twice.\n";
    return kExitFailure;
  }
  // --wait: until routing has decided (or the wait is over).
  const absl::Time deadline = absl::Now() + *wait;
  while (created.state() == issue::v1::STATE_RECEIVED && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    std::optional<Issue> latest = FetchIssue(session, created.name());
    if (!latest) return kExitFailure;
    created = *std::move(latest);
  }
  if (!session.json()) {
    session.out() << "submitted " << created.name() << " (request id " << request.request_id()
                  << ")\n\n";
  }
  Show(session, created);
  return 0;
}

int Get(Session& session, const ParsedArgs& args) {
  std::optional<Issue> issue = FetchIssue(session, IssueName(args.positional()[0]));
  if (!issue) return kExitFailure;
  Show(session, *issue);
  return 0;
}

int List(Session& session, const ParsedArgs& args) {
  std::vector<std::string> terms;
  if (args.Has("filter")) terms.push_back(args.Get("filter"));
  struct Shortcut {
    const char* flag;
    const char* field;
    const google::protobuf::EnumDescriptor* type;
  };
  const Shortcut shortcuts[] = {
      {"state", "state", issue::v1::State_descriptor()},
      {"severity", "severity", issue::v1::Severity_descriptor()},
      {"group", "business_group", nullptr},
      {"team", "team", nullptr},
      {"source", "source", nullptr},
      {"customer", "customer.id", nullptr},
      {"product", "product", nullptr},
      {"problem", "problem", nullptr},
      {"rating", "rating", nullptr},
  };
  for (const Shortcut& shortcut : shortcuts) {
    if (!args.Has(shortcut.flag)) continue;
    std::string value = args.Get(shortcut.flag);
    if (absl::string_view(shortcut.flag) == "problem") value = ProblemName(value);
    if (shortcut.type != nullptr) {
      auto number = ParseEnumName(*shortcut.type, value);
      if (!number.ok()) return session.UsageError(number.status().message());
      value = shortcut.type->FindValueByNumber(*number)->name();
    }
    terms.push_back(absl::StrCat(shortcut.field, "=", value));
  }
  intake::v1::ListIssuesRequest request;
  request.set_filter(absl::StrJoin(terms, " AND "));
  return session.List<intake::v1::ListIssuesResponse>(
      args, 50, request, "issues", "intake",
      [&](auto* context, const auto& r, auto* page) {
        return session.intake().ListIssues(context, r, page);
      },
      [&](const intake::v1::ListIssuesResponse& all) {
        if (all.issues().empty()) {
          session.out() << "no issues" << (request.filter().empty() ? "" : " match ")
                        << request.filter() << "\n";
        } else {
          PrintIssueTable(session.out(), all.issues(), absl::Now());
        }
      });
}

int Acknowledge(Session& session, const ParsedArgs& args) {
  intake::v1::AcknowledgeIssueRequest request;
  request.set_name(IssueName(args.positional()[0]));
  request.set_actor(ActorOf(args));
  request.set_etag(args.Get("etag"));
  auto context = session.Context();
  Issue issue;
  grpc::Status status = session.intake().AcknowledgeIssue(context.get(), request, &issue);
  if (!status.ok()) {
    return session.Fail(absl::StrCat("cannot acknowledge ", request.name()), status, "intake");
  }
  Show(session, issue);
  return 0;
}

int Resolve(Session& session, const ParsedArgs& args) {
  intake::v1::ResolveIssueRequest request;
  request.set_name(IssueName(args.positional()[0]));
  request.set_actor(ActorOf(args));
  request.set_resolution(args.Get("resolution"));
  request.set_etag(args.Get("etag"));
  auto context = session.Context();
  Issue issue;
  grpc::Status status = session.intake().ResolveIssue(context.get(), request, &issue);
  if (!status.ok()) {
    return session.Fail(absl::StrCat("cannot resolve ", request.name()), status, "intake");
  }
  Show(session, issue);
  return 0;
}

int Transfer(Session& session, const ParsedArgs& args) {
  if (!args.Has("team")) return session.UsageError("--team is required");
  intake::v1::TransferIssueRequest request;
  request.set_name(IssueName(args.positional()[0]));
  std::optional<issue::v1::Target> target = TargetOf(session, args);
  if (!target) return kExitFailure;
  *request.mutable_target() = *std::move(target);
  request.set_reason(args.Get("reason"));
  request.set_actor(ActorOf(args));
  request.set_etag(args.Get("etag"));
  auto context = session.Context();
  Issue issue;
  grpc::Status status = session.intake().TransferIssue(context.get(), request, &issue);
  if (!status.ok()) {
    return session.Fail(absl::StrCat("cannot transfer ", request.name()), status, "intake");
  }
  Show(session, issue);
  return 0;
}

// One of the customer-facing calls (wait, answer, resume, reopen, rate):
// `fill` sets the request's own fields; `call` makes the RPC. Each carries a
// request_id so that the CLI's retries act once.
template <typename Request, typename Fill, typename Call>
int ChangeIssue(Session& session, const ParsedArgs& args, absl::string_view verb, Fill fill,
                Call call) {
  Request request;
  request.set_name(IssueName(args.positional()[0]));
  request.set_actor(ActorOf(args));
  request.set_etag(args.Get("etag"));
  request.set_request_id(args.Has("request-id") ? args.Get("request-id") : RandomRequestId());
  if (absl::Status invalid = fill(request); !invalid.ok()) {
    return session.UsageError(invalid.message());
  }
  auto context = session.Context();
  Issue issue;
  grpc::Status status = call(context.get(), request, &issue);
  if (!status.ok()) {
    return session.Fail(absl::StrCat("cannot ", verb, " ", request.name()), status, "intake");
  }
  Show(session, issue);
  return 0;
}

int WaitOnCustomer(Session& session, const ParsedArgs& args) {
  return ChangeIssue<intake::v1::WaitOnCustomerRequest>(
      session, args, "wait on the customer of",
      [&](intake::v1::WaitOnCustomerRequest& request) {
        if (!args.Has("question")) return absl::InvalidArgumentError("--question is required");
        request.set_question(args.Get("question"));
        return absl::OkStatus();
      },
      [&](auto* context, const auto& request, Issue* issue) {
        return session.intake().WaitOnCustomer(context, request, issue);
      });
}

int Answer(Session& session, const ParsedArgs& args) {
  return ChangeIssue<intake::v1::RespondToIssueRequest>(
      session, args, "answer",
      [&](intake::v1::RespondToIssueRequest& request) {
        if (!args.Has("response")) return absl::InvalidArgumentError("--response is required");
        request.set_response(args.Get("response"));
        return absl::OkStatus();
      },
      [&](auto* context, const auto& request, Issue* issue) {
        return session.intake().RespondToIssue(context, request, issue);
      });
}

int Resume(Session& session, const ParsedArgs& args) {
  return ChangeIssue<intake::v1::ResumeIssueRequest>(
      session, args, "resume",
      [&](intake::v1::ResumeIssueRequest& request) {
        request.set_reason(args.Get("reason"));
        return absl::OkStatus();
      },
      [&](auto* context, const auto& request, Issue* issue) {
        return session.intake().ResumeIssue(context, request, issue);
      });
}

int Reopen(Session& session, const ParsedArgs& args) {
  return ChangeIssue<intake::v1::ReopenIssueRequest>(
      session, args, "reopen",
      [&](intake::v1::ReopenIssueRequest& request) {
        if (!args.Has("reason")) return absl::InvalidArgumentError("--reason is required");
        request.set_reason(args.Get("reason"));
        return absl::OkStatus();
      },
      [&](auto* context, const auto& request, Issue* issue) {
        return session.intake().ReopenIssue(context, request, issue);
      });
}

int Rate(Session& session, const ParsedArgs& args) {
  return ChangeIssue<intake::v1::RateIssueRequest>(
      session, args, "rate",
      [&](intake::v1::RateIssueRequest& request) {
        int rating = 0;
        if (!absl::SimpleAtoi(args.Get("rating"), &rating)) {
          return absl::InvalidArgumentError("--rating must be a number from 1 to 5");
        }
        request.set_rating(rating);
        request.set_comment(args.Get("comment"));
        return absl::OkStatus();
      },
      [&](auto* context, const auto& request, Issue* issue) {
        return session.intake().RateIssue(context, request, issue);
      });
}

int Explain(Session& session, const ParsedArgs& args) {
  if (args.positional().empty() == !args.Has("file")) {
    return session.UsageError("give either an issue NAME or --file FILE");
  }
  Issue issue;
  if (args.Has("file")) {
    if (absl::Status status = LoadJsonOrYamlFile(args.Get("file"), issue); !status.ok()) {
      return session.Fail("cannot read the issue", status);
    }
  } else {
    std::optional<Issue> stored = FetchIssue(session, IssueName(args.positional()[0]));
    if (!stored) return kExitFailure;
    issue = *std::move(stored);
  }
  routing::v1::RouteIssueRequest request;
  *request.mutable_issue() = issue;
  request.set_explain(true);
  auto context = session.Context();
  routing::v1::RoutingDecision decision;
  grpc::Status status = session.routing().RouteIssue(context.get(), request, &decision);
  if (!status.ok()) return session.Fail("cannot explain the route", status, "routing");
  if (session.json()) {
    session.PrintJson(decision);
    return 0;
  }
  std::ostream& out = session.out();
  if (issue.has_assignment()) {
    out << issue.name() << " is owned by " << FormatTarget(issue.assignment().target());
    if (issue.assignment().manual()) {
      out << " (transferred by hand; rules no longer apply to it)";
    } else if (issue.assignment().escalation_level() > 0) {
      out << " (escalated to level " << issue.assignment().escalation_level() << ")";
    } else {
      out << " (rule " << (issue.assignment().rule().empty() ? "-" : issue.assignment().rule())
          << ", revision " << issue.assignment().ruleset_revision() << ")";
    }
    out << ".\n";
  }
  out << "Routing it on ruleset revision " << decision.ruleset_revision()
      << " (rules in order, first match wins):\n";
  PrintDecision(out, decision);
  return 0;
}

}  // namespace

namespace {

// The business group of `team` in the active ruleset (team ids are unique),
// or nullopt after reporting why not.
std::optional<std::string> GroupOfTeam(Session& session, const std::string& team) {
  auto context = session.Context();
  routing::v1::Ruleset ruleset;
  grpc::Status status =
      session.routing().GetRuleset(context.get(), routing::v1::GetRulesetRequest(), &ruleset);
  if (!status.ok()) {
    session.Fail("cannot read the active ruleset to find the team's group (or pass --group)",
                 status, "routing");
    return std::nullopt;
  }
  for (const auto& group : ruleset.business_groups()) {
    for (const auto& candidate : group.teams()) {
      if (candidate.id() == team) return group.id();
    }
  }
  session.err() << "error: no team \"" << team << "\" in ruleset revision " << ruleset.revision()
                << "\n";
  return std::nullopt;
}

}  // namespace

std::optional<issue::v1::Target> TargetOf(Session& session, const ParsedArgs& args) {
  issue::v1::Target target;
  target.set_team(args.Get("team"));
  if (args.Has("group")) {
    target.set_business_group(args.Get("group"));
  } else {
    std::optional<std::string> group = GroupOfTeam(session, target.team());
    if (!group) return std::nullopt;
    target.set_business_group(*group);
  }
  return target;
}

std::string IssueName(absl::string_view arg) {
  return absl::StartsWith(arg, "issues/") ? std::string(arg) : absl::StrCat("issues/", arg);
}

std::string ActorOf(const ParsedArgs& args) {
  if (args.Has("actor")) return args.Get("actor");
  for (const char* env : {"SWITCHBOARD_ACTOR", "USER"}) {
    const char* value = std::getenv(env);
    if (value != nullptr && *value != '\0') return value;
  }
  return "cli";
}

void AddIssueCommands(CommandLine& command_line) {
  command_line.AddGroup("issue", "Submit issues and follow them to closure (IntakeService).");
  command_line.Add({
      .path = {"issue", "submit"},
      .summary = "submit an issue",
      .description =
          "Reads the issue from --file (JSON or YAML with the Issue fields) and/or the flags;\n"
          "flags override the file. Required: title, customer, product, severity (and a\n"
          "source, \"cli\" unless given). The reply means the issue is stored durably; routing\n"
          "happens right after (--wait to see the owner). Retrying with the same --request-id\n"
          "never creates the issue twice.\n\n"
          "Example:\n"
          "  switchboard issue submit --title \"Blob writes fail with 503\" --customer contoso \\\n"
          "    --tier strategic --product azure-storage --severity critical --source crm",
      .flags =
          {{.name = "file",
            .value_name = "FILE",
            .help = "the issue as JSON or YAML (- for stdin)"},
           {.name = "title", .value_name = "TEXT", .help = "one line, 1..256 characters"},
           {.name = "description", .value_name = "TEXT", .help = "details, up to 64 KiB"},
           {.name = "customer", .value_name = "ID", .help = "customer id, e.g. contoso"},
           {.name = "customer-name", .value_name = "NAME", .help = "customer display name"},
           {.name = "tier", .value_name = "TIER", .help = "strategic, enterprise, smb or consumer"},
           {.name = "country", .value_name = "CC", .help = "ISO 3166-1 alpha-2, e.g. DE"},
           {.name = "product", .value_name = "ID", .help = "product id, e.g. azure-storage"},
           {.name = "severity", .value_name = "SEVERITY", .help = "critical, high, medium or low"},
           {.name = "region", .value_name = "REGION", .help = "e.g. emea, amer, apac"},
           {.name = "label", .value_name = "KEY=VALUE", .help = "a label", .repeated = true},
           {.name = "source", .value_name = "SYSTEM", .help = "submitting system (default cli)"},
           {.name = "submitter", .value_name = "WHO", .help = "the person who raised it"},
           {.name = "request-id",
            .value_name = "ID",
            .help = "idempotency key (default: a new random one)"},
           {.name = "wait",
            .value_name = "DURATION",
            .help = "wait up to this long for the routing decision"}},
      .run = Submit,
  });
  command_line.Add({
      .path = {"issue", "get"},
      .arguments = "NAME",
      .summary = "show an issue",
      .description = "NAME is issues/ID or just ID.",
      .min_args = 1,
      .max_args = 1,
      .run = Get,
  });
  command_line.Add({
      .path = {"issue", "list"},
      .summary = "list issues, newest first",
      .description = "Filters combine with AND. --filter takes the service's syntax, e.g.\n"
                     "  --filter 'state=STATE_ROUTED AND team=storage-oncall'",
      .flags = JoinFlags(
          {{.name = "state",
            .value_name = "STATE",
            .help = "received, routed, acknowledged, waiting_on_customer or resolved"},
           {.name = "severity", .value_name = "SEVERITY", .help = "critical, high, medium or low"},
           {.name = "group", .value_name = "ID", .help = "owning business group"},
           {.name = "team", .value_name = "ID", .help = "owning team"},
           {.name = "source", .value_name = "SYSTEM", .help = "submitting system"},
           {.name = "customer", .value_name = "ID", .help = "customer id"},
           {.name = "product", .value_name = "ID", .help = "product id"},
           {.name = "problem", .value_name = "ID", .help = "the issues linked to this problem"},
           {.name = "rating", .value_name = "1-5", .help = "resolved issues the customer rated so"},
           {.name = "filter", .value_name = "EXPR", .help = "a raw filter expression"}},
          PagingFlags(50)),
      .run = List,
  });
  command_line.Add({
      .path = {"issue", "ack"},
      .arguments = "NAME",
      .summary = "acknowledge an issue: the owning team takes it",
      .flags = {kActorFlag, kEtagFlag},
      .min_args = 1,
      .max_args = 1,
      .run = Acknowledge,
  });
  command_line.Add({
      .path = {"issue", "resolve"},
      .arguments = "NAME",
      .summary = "resolve an issue with a resolution",
      .flags = {{.name = "resolution", .value_name = "TEXT", .help = "what was done (required)"},
                kActorFlag,
                kEtagFlag},
      .min_args = 1,
      .max_args = 1,
      .run = Resolve,
  });
  command_line.Add({
      .path = {"issue", "transfer"},
      .arguments = "NAME",
      .summary = "hand an issue to another team",
      .description = "Rules never override a manual transfer; escalation still applies.",
      .flags = {{.name = "team", .value_name = "ID", .help = "the new owning team (required)"},
                {.name = "group",
                 .value_name = "ID",
                 .help = "its business group (default: looked up in the active ruleset)"},
                {.name = "reason", .value_name = "TEXT", .help = "why"},
                kActorFlag,
                kEtagFlag},
      .min_args = 1,
      .max_args = 1,
      .run = Transfer,
  });
  const FlagSpec request_id = {
      .name = "request-id",
      .value_name = "ID",
      .help = "retry a call whose reply was lost with its request id (default: a new one)"};
  command_line.Add({
      .path = {"issue", "wait"},
      .arguments = "NAME",
      .summary = "ask the customer something; the SLA clocks pause until they answer",
      .flags = {{.name = "question", .value_name = "TEXT", .help = "what to ask (required)"},
                kActorFlag,
                kEtagFlag,
                request_id},
      .min_args = 1,
      .max_args = 1,
      .run = WaitOnCustomer,
  });
  command_line.Add({
      .path = {"issue", "answer"},
      .arguments = "NAME",
      .summary = "answer the team's question for the customer (as the issue's source)",
      .flags = {{.name = "response", .value_name = "TEXT", .help = "the answer (required)"},
                kActorFlag,
                kEtagFlag,
                request_id},
      .min_args = 1,
      .max_args = 1,
      .run = Answer,
  });
  command_line.Add({
      .path = {"issue", "resume"},
      .arguments = "NAME",
      .summary = "stop waiting on the customer without an answer",
      .flags = {{.name = "reason", .value_name = "TEXT", .help = "why"},
                kActorFlag,
                kEtagFlag,
                request_id},
      .min_args = 1,
      .max_args = 1,
      .run = Resume,
  });
  command_line.Add({
      .path = {"issue", "reopen"},
      .arguments = "NAME",
      .summary = "reopen a resolved issue within its SLA policy's reopen window",
      .flags = {{.name = "reason", .value_name = "TEXT", .help = "why it is not fixed (required)"},
                kActorFlag,
                kEtagFlag,
                request_id},
      .min_args = 1,
      .max_args = 1,
      .run = Reopen,
  });
  command_line.Add({
      .path = {"issue", "rate"},
      .arguments = "NAME",
      .summary = "record the customer's rating (1-5) of a resolved issue",
      .flags = {{.name = "rating", .value_name = "1-5", .help = "5 is very satisfied (required)"},
                {.name = "comment", .value_name = "TEXT", .help = "the customer's words"},
                kActorFlag,
                kEtagFlag,
                request_id},
      .min_args = 1,
      .max_args = 1,
      .run = Rate,
  });
  command_line.Add({
      .path = {"issue", "explain"},
      .arguments = "[NAME]",
      .summary = "explain how the active ruleset routes an issue",
      .description = "Shows each rule's verdict in order. NAME is a stored issue; --file explains\n"
                     "an issue that was never submitted.",
      .flags = {{.name = "file", .value_name = "FILE", .help = "an issue as JSON or YAML instead"}},
      .max_args = 1,
      .run = Explain,
  });
}

}  // namespace switchboard::cli
