// build/bin/switchboard against the real stack: every command a user types,
// its human and --json output, its exit codes and error messages.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/stack.h"

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using testing::Service;

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

template <typename Message>
Message ParseJson(const std::string& line) {
  Message message;
  const auto status = google::protobuf::util::JsonStringToMessage(line, &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in: " << line;
  return message;
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = testing::Stack::Launch({});
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
  }
  static void TearDownTestSuite() { delete stack_; }

  // Runs `switchboard args...` against the stack (addresses from the
  // environment, as a user would set them).
  CliResult Cli(const std::vector<std::string>& args) {
    setenv("SWITCHBOARD_INTAKE", stack_->target(Service::kIntake).c_str(), 1);
    setenv("SWITCHBOARD_ROUTING", stack_->target(Service::kRouting).c_str(), 1);
    setenv("SWITCHBOARD_NOTIFICATION", stack_->target(Service::kNotification).c_str(), 1);
    const std::string err_path = stack_->dir() + "/cli.err";
    std::filesystem::remove(err_path);
    CliResult result;
    auto process = testing::Subprocess::Start(testing::BinaryPath("switchboard"), args,
                                              {.capture_stdout = true, .stderr_path = err_path});
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return result;
    result.out = (*process)->ReadToEnd(absl::Seconds(60));
    absl::StatusOr<int> code = (*process)->Wait(absl::Seconds(30));
    EXPECT_TRUE(code.ok()) << code.status();
    result.code = code.ok() ? *code : -1;
    std::ifstream err(err_path);
    result.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
    return result;
  }

  issue::v1::Issue SubmitJson(std::vector<std::string> args) {
    args.insert(args.begin(), {"issue", "submit", "--json", "--wait=20s"});
    const CliResult result = Cli(args);
    EXPECT_EQ(result.code, 0) << result.err;
    return ParseJson<issue::v1::Issue>(result.out);
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = stack_->dir() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  static testing::Stack* stack_;
};

testing::Stack* CliTest::stack_ = nullptr;

TEST_F(CliTest, AnIssueWaitsOnItsCustomerIsReopenedAndRated) {
  const issue::v1::Issue issue =
      SubmitJson({"--title", "Report totals differ", "--customer", "fabrikam", "--product",
                  "power-bi", "--severity", "high", "--source", "crm"});
  ASSERT_EQ(issue.state(), issue::v1::STATE_ROUTED);
  EXPECT_EQ(Cli({"issue", "wait", issue.name()}).code, 2) << "--question is required";
  const CliResult waiting = Cli({"issue", "wait", issue.name(), "--question", "Which report?"});
  ASSERT_EQ(waiting.code, 0) << waiting.err;
  EXPECT_THAT(waiting.out, HasSubstr("WAITING_ON_CUSTOMER"));
  EXPECT_THAT(waiting.out, HasSubstr("asked       \"Which report?\""));
  const CliResult again = Cli({"issue", "wait", issue.name(), "--question", "Which one?"});
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("FAILED_PRECONDITION"));
  const CliResult answered = Cli({"issue", "answer", issue.name(), "--response", "Q3 sales"});
  ASSERT_EQ(answered.code, 0) << answered.err;
  EXPECT_THAT(answered.out, HasSubstr("  ROUTED  "));
  EXPECT_THAT(answered.out, HasSubstr("sla         paused "));
  ASSERT_EQ(Cli({"issue", "resolve", issue.name(), "--resolution", "Rebuilt the cache"}).code, 0);
  // A retry of a reopen with its request id reopens once.
  const CliResult reopened = Cli({"issue", "reopen", issue.name(), "--reason", "Still wrong",
                                  "--request-id", "cli-reopen-1", "--json"});
  ASSERT_EQ(reopened.code, 0) << reopened.err;
  const auto first = ParseJson<issue::v1::Issue>(reopened.out);
  EXPECT_EQ(first.state(), issue::v1::STATE_ROUTED);
  EXPECT_EQ(first.sla().reopen_count(), 1);
  const CliResult retried = Cli({"issue", "reopen", issue.name(), "--reason", "Still wrong",
                                 "--request-id", "cli-reopen-1", "--json"});
  ASSERT_EQ(retried.code, 0) << retried.err;
  EXPECT_EQ(ParseJson<issue::v1::Issue>(retried.out).etag(), first.etag());
  const CliResult early = Cli({"issue", "rate", issue.name(), "--rating", "5"});
  EXPECT_EQ(early.code, 1);
  EXPECT_THAT(early.err, HasSubstr("only RESOLVED issues can be"));
  ASSERT_EQ(Cli({"issue", "resolve", issue.name(), "--resolution", "Fixed the filter"}).code, 0);
  EXPECT_EQ(Cli({"issue", "rate", issue.name(), "--rating", "many"}).code, 2);
  const CliResult bad = Cli({"issue", "rate", issue.name(), "--rating", "9"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("rating"));
  const CliResult rated =
      Cli({"issue", "rate", issue.name(), "--rating", "2", "--comment", "Took two tries"});
  ASSERT_EQ(rated.code, 0) << rated.err;
  EXPECT_THAT(rated.out, HasSubstr("rating      2/5 \"Took two tries\""));
  EXPECT_THAT(rated.out, HasSubstr("reopened 1x"));
  const CliResult unhappy = Cli({"issue", "list", "--rating", "2"});
  ASSERT_EQ(unhappy.code, 0) << unhappy.err;
  EXPECT_THAT(unhappy.out, HasSubstr(issue.name()));
  // Resume: the team stops waiting by itself.
  const issue::v1::Issue other =
      SubmitJson({"--title", "Dashboard slow", "--customer", "fabrikam", "--product", "power-bi",
                  "--severity", "high", "--source", "crm"});
  ASSERT_EQ(Cli({"issue", "wait", other.name(), "--question", "Since when?"}).code, 0);
  const CliResult resumed = Cli({"issue", "resume", other.name(), "--reason", "found it"});
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_THAT(resumed.out, HasSubstr("  ROUTED  "));
}

TEST_F(CliTest, IssuesOfOneOutageShowTheirProblem) {
  std::vector<issue::v1::Issue> issues;
  for (const char* customer : {"fabrikam", "tailspin"}) {
    issues.push_back(SubmitJson({"--title", "Blob writes fail", "--customer", customer, "--tier",
                                 "enterprise", "--product", "azure-storage", "--severity",
                                 "critical", "--region", "cli-test-region", "--source", "crm"}));
  }
  issue::v1::Issue linked;
  for (int attempt = 0; attempt < 200; ++attempt) {
    const CliResult get = Cli({"issue", "get", "--json", issues[1].name()});
    ASSERT_EQ(get.code, 0) << get.err;
    linked = ParseJson<issue::v1::Issue>(get.out);
    if (!linked.problem().empty()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_FALSE(linked.problem().empty()) << "the second issue was never linked";

  const CliResult shown = Cli({"issue", "get", issues[1].name()});
  EXPECT_THAT(shown.out, HasSubstr("problem     " + linked.problem()));
  const CliResult problem = Cli({"problem", "get", linked.problem().substr(9)});
  ASSERT_EQ(problem.code, 0) << problem.err;
  EXPECT_THAT(problem.out, HasSubstr("2 linked, first " + issues[0].name()));
  EXPECT_THAT(problem.out,
              HasSubstr("regional-outage|product=azure-storage|region=cli-test-region"));
  const CliResult list = Cli({"problem", "list", "--state", "open", "--product", "azure-storage"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr(linked.problem()));
  const CliResult members = Cli({"issue", "list", "--problem", linked.problem()});
  ASSERT_EQ(members.code, 0) << members.err;
  EXPECT_THAT(members.out, HasSubstr(issues[0].name()));
  EXPECT_THAT(members.out, HasSubstr(issues[1].name()));
  EXPECT_EQ(Cli({"problem", "list", "--state", "sideways"}).code, 2);
  EXPECT_EQ(Cli({"problem", "resolve", linked.problem()}).code, 2) << "--resolution is required";

  // By hand: an issue no policy grouped joins the problem, then leaves it.
  const issue::v1::Issue mail =
      SubmitJson({"--title", "Cannot attach files", "--customer", "contoso", "--product", "outlook",
                  "--severity", "high", "--source", "crm"});
  ASSERT_EQ(mail.assignment().target().team(), "mail-calendar");
  const CliResult stale = Cli({"problem", "link", linked.problem(), mail.name(), "--etag", "99"});
  EXPECT_EQ(stale.code, 1);
  EXPECT_THAT(stale.err, HasSubstr("ABORTED"));
  const CliResult unknown = Cli({"problem", "link", "01hzzzzzzzzzzzzzzzzzzzzzzz", mail.name()});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
  const CliResult joined = Cli({"problem", "link", linked.problem(), mail.name()});
  ASSERT_EQ(joined.code, 0) << joined.err;
  EXPECT_THAT(joined.out, HasSubstr(" is linked to " + linked.problem() + ", owned by " +
                                    linked.assignment().target().team()));
  EXPECT_THAT(Cli({"problem", "link", linked.problem(), mail.name()}).out,
              HasSubstr("is linked to"))
      << "linking again to the same problem succeeds unchanged";
  bool counted = false;
  for (int attempt = 0; attempt < 200 && !counted; ++attempt) {
    counted = absl::StrContains(Cli({"problem", "get", linked.problem()}).out, "3 linked");
    if (!counted) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(counted) << "the problem counts the issue linked by hand";
  const CliResult left = Cli({"problem", "unlink", linked.problem(), mail.name(), "--reason",
                              "a mail client fault, not the storage outage"});
  ASSERT_EQ(left.code, 0) << left.err;
  EXPECT_THAT(left.out, HasSubstr("is no longer linked to " + linked.problem()));
  const CliResult not_linked = Cli({"problem", "unlink", linked.problem(), mail.name()});
  EXPECT_EQ(not_linked.code, 1);
  EXPECT_THAT(not_linked.err, HasSubstr("FAILED_PRECONDITION"));

  // Handed to the leads, with the issues it holds.
  EXPECT_EQ(Cli({"problem", "transfer", linked.problem()}).code, 2) << "--team is required";
  const CliResult moved = Cli({"problem", "transfer", linked.problem(), "--team", "storage-leads",
                               "--reason", "needs a quota change"});
  ASSERT_EQ(moved.code, 0) << moved.err;
  EXPECT_THAT(moved.out, HasSubstr("storage-leads"));
  bool followed = false;
  for (int attempt = 0; attempt < 200 && !followed; ++attempt) {
    const CliResult held =
        Cli({"issue", "list", "--problem", linked.problem(), "--team", "storage-leads"});
    followed = absl::StrContains(held.out, issues[0].name()) &&
               absl::StrContains(held.out, issues[1].name());
    if (!followed) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(followed) << "the linked issues moved with their problem";

  const CliResult resolved =
      Cli({"problem", "resolve", linked.problem(), "--resolution", "Throttling limit raised"});
  ASSERT_EQ(resolved.code, 0) << resolved.err;
  EXPECT_THAT(resolved.out, HasSubstr("RESOLVED"));
  EXPECT_THAT(resolved.out, HasSubstr("its 2 linked issues are being resolved with it"));
  bool all_resolved = false;
  for (int attempt = 0; attempt < 200 && !all_resolved; ++attempt) {
    const CliResult resolved_issues =
        Cli({"issue", "list", "--problem", linked.problem(), "--state", "resolved"});
    all_resolved = absl::StrContains(resolved_issues.out, issues[0].name()) &&
                   absl::StrContains(resolved_issues.out, issues[1].name());
    if (!all_resolved) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(all_resolved);
  const CliResult again = Cli({"problem", "ack", linked.problem()});
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("FAILED_PRECONDITION"));
}

TEST_F(CliTest, SubmitFollowAndCloseAnIssue) {
  const issue::v1::Issue routed =
      SubmitJson({"--title", "Blob writes fail with 503", "--customer", "contoso", "--tier",
                  "strategic", "--product", "azure-storage", "--severity", "critical", "--source",
                  "crm", "--submitter", "jane@contoso.com", "--label", "ticket=CRM-1"});
  ASSERT_EQ(routed.state(), issue::v1::STATE_ROUTED);
  EXPECT_EQ(routed.assignment().target().team(), "storage-oncall");
  EXPECT_EQ(routed.labels().at("ticket"), "CRM-1");

  const CliResult get = Cli({"issue", "get", routed.name().substr(7)});  // the bare id works
  ASSERT_EQ(get.code, 0) << get.err;
  EXPECT_THAT(get.out, HasSubstr(routed.name() + "  ROUTED  CRITICAL"));
  EXPECT_THAT(get.out, HasSubstr("cloud-infra/storage-oncall (rule strategic-critical-storage"));

  const CliResult explain = Cli({"issue", "explain", routed.name()});
  ASSERT_EQ(explain.code, 0) << explain.err;
  EXPECT_THAT(explain.out, HasSubstr("match  strategic-critical-storage"));
  EXPECT_THAT(explain.out, HasSubstr("skip   security-breach-keywords"));
  EXPECT_THAT(explain.out, HasSubstr("ack within  15m"));

  const CliResult transfer =
      Cli({"issue", "transfer", routed.name(), "--team", "compute-oncall", "--reason", "VM disk",
           "--actor", "lead@storage", "--json"});  // the group is looked up
  ASSERT_EQ(transfer.code, 0) << transfer.err;
  const auto transferred = ParseJson<issue::v1::Issue>(transfer.out);
  EXPECT_EQ(transferred.assignment().target().business_group(), "cloud-infra");
  EXPECT_EQ(transferred.assignment().target().team(), "compute-oncall");

  const CliResult stale = Cli({"issue", "ack", routed.name(), "--etag", routed.etag()});
  EXPECT_EQ(stale.code, 1);
  EXPECT_THAT(stale.err, HasSubstr("ABORTED"));
  ASSERT_EQ(Cli({"issue", "ack", routed.name(), "--etag", transferred.etag()}).code, 0);
  const CliResult resolve =
      Cli({"issue", "resolve", routed.name(), "--resolution", "Re-attached the disk", "--json"});
  ASSERT_EQ(resolve.code, 0) << resolve.err;
  EXPECT_EQ(ParseJson<issue::v1::Issue>(resolve.out).state(), issue::v1::STATE_RESOLVED);

  const CliResult watch = Cli({"notifications", "watch", "sources/crm", "--json", "--count=4"});
  ASSERT_EQ(watch.code, 0) << watch.err;
  std::vector<std::string> types;
  for (absl::string_view line : absl::StrSplit(watch.out, '\n', absl::SkipEmpty())) {
    const auto n = ParseJson<notification::v1::Notification>(std::string(line));
    if (n.event().issue().name() == routed.name()) {
      types.push_back(issue::v1::EventType_Name(n.event().type()));
    }
  }
  EXPECT_THAT(types, ::testing::ElementsAre("EVENT_TYPE_RECEIVED", "EVENT_TYPE_TRANSFERRED",
                                            "EVENT_TYPE_ACKNOWLEDGED", "EVENT_TYPE_RESOLVED"));
}

TEST_F(CliTest, SubmitFromAYamlFileAndListWithFiltersAndPages) {
  const std::string file = Write("issue.yaml", R"(
title: Users locked out after conditional access change
customer: {id: woodgrove-bank, tier: CUSTOMER_TIER_ENTERPRISE}
product: entra-id
severity: SEVERITY_HIGH
source: partner-portal
)");
  const issue::v1::Issue first = SubmitJson({"--file", file});
  EXPECT_EQ(first.assignment().target().team(), "identity-oncall");
  const issue::v1::Issue second = SubmitJson({"--file", file, "--title", "MFA prompt loops"});
  EXPECT_EQ(second.title(), "MFA prompt loops");  // flags override the file

  const CliResult list =
      Cli({"issue", "list", "--source", "partner-portal", "--state", "routed", "--page-size=1"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr(second.name()));  // newest first
  EXPECT_THAT(list.out, ::testing::Not(HasSubstr(first.name())));
  EXPECT_THAT(list.out, HasSubstr("more: add --page-token="));

  const CliResult all =
      Cli({"issue", "list", "--source", "partner-portal", "--page-size=1", "--all", "--json"});
  ASSERT_EQ(all.code, 0) << all.err;
  const auto response = ParseJson<intake::v1::ListIssuesResponse>(all.out);
  ASSERT_EQ(response.issues_size(), 2);
  EXPECT_EQ(response.issues(1).name(), first.name());
}

TEST_F(CliTest, RulesetApplyShowHistoryAndTest) {
  const CliResult show = Cli({"ruleset", "show", "--json"});
  ASSERT_EQ(show.code, 0) << show.err;
  routing::v1::Ruleset active = ParseJson<routing::v1::Ruleset>(show.out);
  ASSERT_GE(active.revision(), 1);
  EXPECT_THAT(Cli({"ruleset", "show"}).out, HasSubstr("strategic-critical-storage"));

  // A candidate that sends storage criticals to the leads: backtest, then apply.
  SubmitJson({"--title", "Blob outage in shard 17", "--customer", "contoso", "--tier", "strategic",
              "--product", "azure-storage", "--severity", "critical"});
  const issue::v1::Issue unmoved =
      SubmitJson({"--title", "blob OUTAGE in shard 942!", "--customer", "fabrikam", "--product",
                  "azure-storage", "--severity", "high"});
  for (auto& rule : *active.mutable_rules()) {
    if (rule.id() == "strategic-critical-storage") rule.mutable_target()->set_team("storage-leads");
  }
  // And groups issues by title within an hour, escalating at two customers.
  routing::v1::CorrelationPolicy* policy = active.add_correlation_policies();
  policy->set_id("by-title");
  policy->add_key_fields("title.fingerprint");
  policy->mutable_window()->set_seconds(3600);
  policy->mutable_escalation()->set_min_customers(2);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(active, &json).ok());
  const std::string candidate = Write("candidate.json", json);
  const CliResult test = Cli({"ruleset", "test", candidate});
  ASSERT_EQ(test.code, 0) << test.err;
  EXPECT_THAT(test.out, HasSubstr("cloud-infra/storage-oncall (strategic-critical-storage)  →  "
                                  "cloud-infra/storage-leads (strategic-critical-storage)"));
  // The new policy gives an issue the leads do not take a problem key, and
  // does not count it as moved.
  EXPECT_THAT(test.out, ::testing::ContainsRegex("\n[1-9][0-9]* of [0-9]+ issues would be routed "
                                                 "differently, [1-9][0-9]* would get another "
                                                 "problem key\n"));
  EXPECT_THAT(test.out, HasSubstr(unmoved.name() + "  problem key (none)  →  by-title|"));
  EXPECT_THAT(test.out, ::testing::Not(HasSubstr(unmoved.name() + "  cloud-infra")));
  EXPECT_THAT(test.out, HasSubstr("issues fall under a correlation policy"));
  EXPECT_THAT(test.out, ::testing::ContainsRegex(
                            "by-title\\|title.fingerprint=[0-9a-f]{16}\n    2 issues, 2 customers, "
                            "would escalate"));

  EXPECT_THAT(Cli({"ruleset", "apply", candidate, "--validate-only"}).out,
              HasSubstr("nothing applied"));
  const CliResult stale = Cli({"ruleset", "apply", candidate, "--expected-revision=999"});
  EXPECT_EQ(stale.code, 1);
  EXPECT_THAT(stale.err, HasSubstr("ABORTED"));
  const CliResult apply = Cli({"ruleset", "apply", candidate, "--comment", "leads take criticals"});
  ASSERT_EQ(apply.code, 0) << apply.err;
  EXPECT_THAT(apply.out, HasSubstr(absl::StrCat("revision ", active.revision() + 1, " is active")));
  const CliResult history = Cli({"ruleset", "history"});
  EXPECT_THAT(history.out, HasSubstr("leads take criticals"));

  const CliResult invalid = Cli({"ruleset", "apply", Write("bad.yaml", "rules: [{id: x}]\n")});
  EXPECT_EQ(invalid.code, 1);
  EXPECT_THAT(invalid.err, HasSubstr("ruleset.rules[0].target: required"));
  EXPECT_THAT(invalid.err, HasSubstr("ruleset.default_target: required"));
  const CliResult typo = Cli({"ruleset", "apply", Write("typo.yaml", "rulez: []\n")});
  EXPECT_EQ(typo.code, 1);
  EXPECT_THAT(typo.err, HasSubstr("rulez"));
}

TEST_F(CliTest, ErrorsAreClearAndExitNonZero) {
  const CliResult invalid = Cli({"issue", "submit", "--title", "", "--customer", "Not An Id",
                                 "--product", "azure-storage", "--severity", "high"});
  EXPECT_EQ(invalid.code, 1);
  EXPECT_THAT(invalid.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(invalid.err, HasSubstr("issue.title: required"));
  EXPECT_THAT(invalid.err, HasSubstr("issue.customer.id: must match"));

  const CliResult severity = Cli({"issue", "submit", "--severity", "urgent"});
  EXPECT_EQ(severity.code, 2);
  EXPECT_THAT(severity.err, HasSubstr("use one of critical, high, medium, low"));

  const CliResult missing = Cli({"issue", "get", "01m845ftndck0dxx21bpyz3cmm"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("NOT_FOUND"));

  const CliResult unknown = Cli({"issue", "close", "x"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command \"issue close\""));
  EXPECT_EQ(Cli({"issue", "list", "--colour"}).code, 2);
  EXPECT_EQ(Cli({"issue"}).code, 2);  // a group alone prints its help

  const CliResult unreachable = Cli({"--intake", "127.0.0.1:1", "issue", "list"});
  EXPECT_EQ(unreachable.code, 1);
  EXPECT_THAT(unreachable.err, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(unreachable.err, HasSubstr("hint: is intake running at 127.0.0.1:1?"));
}

TEST_F(CliTest, HelpEverywhere) {
  const CliResult top = Cli({"--help"});
  ASSERT_EQ(top.code, 0);
  for (const char* group : {"issue", "ruleset", "notifications", "health", "demo"}) {
    EXPECT_THAT(top.out, HasSubstr(group));
  }
  const std::vector<std::vector<std::string>> commands = {{"issue", "submit"},
                                                          {"issue", "get"},
                                                          {"issue", "list"},
                                                          {"issue", "ack"},
                                                          {"issue", "resolve"},
                                                          {"issue", "transfer"},
                                                          {"issue", "explain"},
                                                          {"ruleset", "apply"},
                                                          {"ruleset", "show"},
                                                          {"ruleset", "history"},
                                                          {"ruleset", "test"},
                                                          {"notifications", "watch"},
                                                          {"notifications", "list"},
                                                          {"notifications", "ack"},
                                                          {"notifications", "redrive"},
                                                          {"notifications", "push", "create"},
                                                          {"health"},
                                                          {"demo"}};
  for (std::vector<std::string> command : commands) {
    command.push_back("--help");
    const CliResult help = Cli(command);
    EXPECT_EQ(help.code, 0) << command[0];
    EXPECT_THAT(help.out, HasSubstr("Usage: switchboard " + command[0])) << command[0];
    EXPECT_THAT(help.out, HasSubstr("--json"));
  }
}

TEST_F(CliTest, HealthAndTheDemo) {
  const CliResult health = Cli({"health"});
  EXPECT_EQ(health.code, 0) << health.out << health.err;
  EXPECT_THAT(health.out, HasSubstr("SERVING"));

  const CliResult demo = Cli({"demo"});
  ASSERT_EQ(demo.code, 0) << demo.out << demo.err;
  EXPECT_THAT(demo.out, HasSubstr("1. Submitted"));
  EXPECT_THAT(demo.out, HasSubstr("→ security/identity-oncall"));
  EXPECT_THAT(demo.out,
              HasSubstr("transferred by oncall@partner-desk to productivity/mail-calendar"));
  EXPECT_THAT(demo.out, HasSubstr("#1 TRANSFERRED"));
  EXPECT_THAT(demo.out, HasSubstr("heard of every step"));
  // Act 6: a pause, a reopen and a rating; then the figures by group.
  EXPECT_THAT(demo.out, HasSubstr("SLA clocks paused, no escalation"));
  EXPECT_THAT(demo.out, HasSubstr("reopened 1x"));
  EXPECT_THAT(demo.out, HasSubstr("the customer rated it 4/5"));
  EXPECT_THAT(demo.out, HasSubstr("SLA and CSAT by business group"));
}

}  // namespace
}  // namespace switchboard
