// What operators see: the three services' /metrics after a realistic run
// (issues routed by rule and by default, acknowledged, resolved, one
// escalated past its SLA, a push receiver that never answers), checked for
// Prometheus naming and bounded labels, and then scraped by a real
// Prometheus (Debian's), against which tests/node/live_metrics.test.mjs
// checks that every metric the dashboard and the alerts name is exported
// and that every dashboard query and alert expression evaluates.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/testing/probes.h"
#include "tests/stack.h"

namespace switchboard {
namespace {

using issue::v1::Issue;
using testing::Service;
using testing::Stack;

constexpr Service kServices[] = {Service::kIntake, Service::kRouting, Service::kNotification};

const char* JobOf(Service service) {
  switch (service) {
    case Service::kIntake:
      return "switchboard-intake";
    case Service::kRouting:
      return "switchboard-routing";
    case Service::kNotification:
      return "switchboard-notification";
  }
  return "";
}

// The families of a text exposition page: name → type.
std::map<std::string, std::string> Families(const std::string& page) {
  std::map<std::string, std::string> families;
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (!absl::ConsumePrefix(&line, "# TYPE ")) continue;
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    if (parts.size() == 2) families[parts[0]] = parts[1];
  }
  return families;
}

// Every (label name, value) of every sample on a page.
std::set<std::pair<std::string, std::string>> Labels(const std::string& page) {
  std::set<std::pair<std::string, std::string>> labels;
  static const std::regex label(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)")re");
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t open = line.find('{');
    if (open == absl::string_view::npos) continue;
    const std::string inside(line.substr(open, line.rfind('}') - open));
    for (std::sregex_iterator it(inside.begin(), inside.end(), label), end; it != end; ++it) {
      labels.emplace((*it)[1], (*it)[2]);
    }
  }
  return labels;
}

// The sum of every sample of `name` on `page`.
double Total(const std::string& page, const std::string& name) {
  double total = 0;
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (!absl::StartsWith(line, name)) continue;
    const absl::string_view rest = line.substr(name.size());
    if (rest.empty() || (rest[0] != '{' && rest[0] != ' ')) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) total += value;
  }
  return total;
}

class ObservabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The sample ruleset with every critical ack SLA cut to one second.
    std::ifstream sample(SWITCHBOARD_SOURCE_DIR "/config/sample-ruleset.yaml");
    const std::string text((std::istreambuf_iterator<char>(sample)),
                           std::istreambuf_iterator<char>());
    std::ofstream(dir_ + "/fast-sla.yaml")
        << std::regex_replace(text, std::regex(R"(ack_within: \{SEVERITY_CRITICAL: \d+s)"),
                              "ack_within: {SEVERITY_CRITICAL: 1s");
    auto stack = Stack::Launch({
        .ruleset_file = dir_ + "/fast-sla.yaml",
        .intake_flags = {"--census_interval=200ms"},
        .notification_flags = {"--push_max_attempts=1", "--push_initial_backoff=10ms",
                               "--maintenance_interval=200ms"},
    });
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
  }

  void TearDown() override {
    stack_.reset();
    std::filesystem::remove_all(dir_);
  }

  Issue Submit(const std::string& title, const std::string& product, issue::v1::Severity severity,
               const std::string& source, const std::string& region = "",
               issue::v1::CustomerTier tier = issue::v1::CUSTOMER_TIER_UNSPECIFIED) {
    intake::v1::SubmitIssueRequest request;
    request.set_request_id("obs-" + title);
    Issue& issue = *request.mutable_issue();
    issue.set_title(title);
    issue.mutable_customer()->set_id("cust-" + title);
    issue.set_product(product);
    issue.set_severity(severity);
    issue.set_source(source);
    issue.set_submitter(title + "@example.com");
    issue.set_region(region);
    issue.mutable_customer()->set_tier(tier);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    Issue submitted;
    const grpc::Status status = stack_->intake().SubmitIssue(&context, request, &submitted);
    EXPECT_TRUE(status.ok()) << status.error_message();
    issue_ids_.push_back(submitted.name().substr(7));
    return submitted;
  }

  // Polls GetIssue until `done` holds (bounded: 20 s).
  Issue AwaitIssue(const std::string& name, const std::function<bool(const Issue&)>& done) {
    Issue issue;
    for (int attempt = 0; attempt < 200; ++attempt) {
      intake::v1::GetIssueRequest request;
      request.set_name(name);
      grpc::ClientContext context;
      if (stack_->intake().GetIssue(&context, request, &issue).ok() && done(issue)) return issue;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << name << " never reached the awaited state: " << issue.ShortDebugString();
    return issue;
  }

  grpc::Status Call(const std::function<grpc::Status(grpc::ClientContext&)>& call) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return call(context);
  }

  // Runs the scenario, then waits (bounded) until every page shows it.
  void Exercise() {
    notification::v1::CreatePushSubscriptionRequest push;
    push.mutable_subscription()->set_subscriber("sources/crm");
    push.mutable_subscription()->set_endpoint(absl::StrCat("127.0.0.1:", testing::FreePort()));
    notification::v1::PushSubscription created;
    ASSERT_TRUE(Call([&](grpc::ClientContext& context) {
                  return stack_->notification().CreatePushSubscription(&context, push, &created);
                }).ok());

    const auto routed = [](const Issue& issue) { return issue.state() == issue::v1::STATE_ROUTED; };
    // With a region, the sample's regional-outage policy opens a problem,
    // escalated at once for a strategic customer: the problem census and
    // counters have something to count.
    const Issue fixed = AwaitIssue(Submit("fixed", "azure-storage", issue::v1::SEVERITY_HIGH, "crm",
                                          "emea", issue::v1::CUSTOMER_TIER_STRATEGIC)
                                       .name(),
                                   routed);
    // storage-oncall → storage-leads → cloud-duty-manager, then nobody.
    AwaitIssue(Submit("nobody", "azure-storage", issue::v1::SEVERITY_CRITICAL, "crm").name(),
               [](const Issue& issue) { return issue.assignment().escalation_level() == 2; });
    AwaitIssue(Submit("stray", "mystery-gadget", issue::v1::SEVERITY_LOW, "support-portal").name(),
               routed);
    const Issue stray = AwaitIssue(
        Submit("verdict", "mystery-gadget", issue::v1::SEVERITY_LOW, "support-portal").name(),
        routed);
    for (const char* method : {"ack", "resolve"}) {
      const grpc::Status status = Call([&](grpc::ClientContext& context) {
        Issue out;
        if (std::string(method) == "ack") {
          intake::v1::AcknowledgeIssueRequest request;
          request.set_name(fixed.name());
          request.set_actor("oncall@example.com");
          return stack_->intake().AcknowledgeIssue(&context, request, &out);
        }
        intake::v1::ResolveIssueRequest request;
        request.set_name(fixed.name());
        request.set_actor("oncall@example.com");
        request.set_resolution("replaced the disk");
        return stack_->intake().ResolveIssue(&context, request, &out);
      });
      ASSERT_TRUE(status.ok()) << method << ": " << status.error_message();
    }
    const Issue linked =
        AwaitIssue(fixed.name(), [](const Issue& issue) { return !issue.problem().empty(); });
    intake::v1::ResolveProblemRequest resolve_problem;
    resolve_problem.set_name(linked.problem());
    resolve_problem.set_actor("oncall@example.com");
    resolve_problem.set_resolution("replaced the disk");
    ASSERT_TRUE(Call([&](grpc::ClientContext& context) {
                  issue::v1::Problem out;
                  return stack_->intake().ResolveProblem(&context, resolve_problem, &out);
                }).ok());
    // Another stray issue waits on its customer, is resolved, reopened,
    // resolved again and rated: the SLA and CSAT metrics have something to count.
    Issue out;
    intake::v1::WaitOnCustomerRequest wait;
    wait.set_name(stray.name());
    wait.set_actor("triage@example.com");
    wait.set_question("Which gadget?");
    intake::v1::RespondToIssueRequest respond;
    respond.set_name(stray.name());
    respond.set_actor("support-portal");
    respond.set_response("The blue one");
    intake::v1::ResolveIssueRequest resolve;
    resolve.set_name(stray.name());
    resolve.set_actor("triage@example.com");
    resolve.set_resolution("sent the manual");
    intake::v1::ReopenIssueRequest reopen;
    reopen.set_name(stray.name());
    reopen.set_actor("support-portal");
    reopen.set_reason("the manual is for another model");
    intake::v1::RateIssueRequest rate;
    rate.set_name(stray.name());
    rate.set_actor("support-portal");
    rate.set_rating(3);
    const std::vector<std::function<grpc::Status(grpc::ClientContext&)>> lifecycle = {
        [&](grpc::ClientContext& c) { return stack_->intake().WaitOnCustomer(&c, wait, &out); },
        [&](grpc::ClientContext& c) { return stack_->intake().RespondToIssue(&c, respond, &out); },
        [&](grpc::ClientContext& c) { return stack_->intake().ResolveIssue(&c, resolve, &out); },
        [&](grpc::ClientContext& c) { return stack_->intake().ReopenIssue(&c, reopen, &out); },
        [&](grpc::ClientContext& c) { return stack_->intake().ResolveIssue(&c, resolve, &out); },
        [&](grpc::ClientContext& c) { return stack_->intake().RateIssue(&c, rate, &out); },
        [&](grpc::ClientContext& c) {
          rate.set_rating(4);  // a second rating replaces the first
          return stack_->intake().RateIssue(&c, rate, &out);
        }};
    for (const auto& step : lifecycle) {
      const grpc::Status status = Call(step);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
    intake::v1::GetIssueRequest malformed;
    malformed.set_name("tickets/1");
    Issue ignored;
    EXPECT_EQ(Call([&](grpc::ClientContext& context) {
                return stack_->intake().GetIssue(&context, malformed, &ignored);
              }).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);

    // Notification down for a moment: intake's publishing fails and retries.
    stack_->Kill(Service::kNotification);
    Submit("while-down", "azure-storage", issue::v1::SEVERITY_LOW, "crm");
    for (int attempt = 0; attempt < 200; ++attempt) {
      auto page = testing::FetchMetrics(stack_->metrics_port(Service::kIntake));
      if (page.ok() && Total(*page, "switchboard_intake_dispatch_failures_total") > 0) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_TRUE(stack_->Start(Service::kNotification).ok());

    for (int attempt = 0; attempt < 200; ++attempt) {
      Scrape();
      if (Total(pages_[Service::kNotification], "switchboard_notification_dead_letters") > 0 &&
          Total(pages_[Service::kIntake], "switchboard_intake_escalations_exhausted_total") > 0 &&
          Total(pages_[Service::kIntake], "switchboard_intake_backlog") == 0 &&
          Total(pages_[Service::kIntake], "switchboard_intake_time_to_resolve_seconds_count") > 0 &&
          Total(pages_[Service::kIntake], "switchboard_intake_open_issues") >= 2 &&
          Total(pages_[Service::kNotification], "switchboard_notification_backlog") > 0) {
        return;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "the metrics never showed the whole scenario:\n"
                  << pages_[Service::kNotification];
  }

  void Scrape() {
    for (Service service : kServices) {
      auto page = testing::FetchMetrics(stack_->metrics_port(service));
      ASSERT_TRUE(page.ok()) << page.status();
      pages_[service] = *page;
    }
  }

  const std::string dir_ = testing::MakeTempDir("observability_test");
  std::unique_ptr<Stack> stack_;
  std::vector<std::string> issue_ids_;
  std::map<Service, std::string> pages_;
};

TEST_F(ObservabilityTest, MetricsFollowPrometheusNamingWithBoundedLabels) {
  ASSERT_NO_FATAL_FAILURE(Exercise());
  static const std::regex unit_suffix(
      R"(_(ms|milliseconds|microseconds|us|ns|minutes|hours|kb|mb|kib|mib|percent)(_total)?$)");
  const std::set<std::string> label_names = {
      "grpc_type", "grpc_service", "grpc_method", "grpc_code",    "store",          "queue",
      "peer",      "code",         "source",      "severity",     "business_group", "state",
      "rule",      "result",       "mode",        "outcome",      "column_family",  "condition",
      "version",   "le",           "quantile",    "caller_class", "reason",         "resource",
      "policy",    "target",       "team",        "rating",       "direction"};
  for (Service service : kServices) {
    const std::string& page = pages_[service];
    for (const auto& [name, type] : Families(page)) {
      // prometheus-cpp's exposer adds exposer_* about itself; the rest is ours.
      if (absl::StartsWith(name, "exposer_")) continue;
      EXPECT_TRUE(absl::StartsWith(name, "switchboard_") ||
                  absl::StartsWith(name, "grpc_server_") || absl::StartsWith(name, "process_"))
          << JobOf(service) << ": " << name;
      EXPECT_EQ(type == "counter", absl::EndsWith(name, "_total")) << name << " is a " << type;
      EXPECT_FALSE(std::regex_search(name, unit_suffix)) << name << ": use base units";
    }
    for (const auto& [label, value] : Labels(page)) {
      EXPECT_TRUE(label_names.count(label)) << JobOf(service) << ": unexpected label " << label;
      for (const std::string& id : issue_ids_) EXPECT_NE(value, id) << "issue id as a label";
      EXPECT_FALSE(absl::StartsWith(value, "cust-")) << "customer id as label " << label;
      EXPECT_FALSE(absl::StrContains(value, "@")) << "submitter as label " << label;
      EXPECT_FALSE(absl::StartsWith(value, "obs-")) << "request id as label " << label;
    }
  }
}

TEST_F(ObservabilityTest, MetricsTellTheCustomerExperienceStory) {
  ASSERT_NO_FATAL_FAILURE(Exercise());
  const std::string& intake = pages_[Service::kIntake];
  const std::string& routing = pages_[Service::kRouting];
  const std::string& notification = pages_[Service::kNotification];
  const auto value = [](const std::string& page, const std::string& series) {
    absl::StatusOr<double> sample = testing::SampleValue(page, series);
    EXPECT_TRUE(sample.ok()) << sample.status();
    return sample.value_or(-1);
  };
  // Issues in, by source and severity.
  EXPECT_EQ(Total(intake, "switchboard_intake_issues_submitted_total"), 5);
  EXPECT_EQ(
      value(
          intake,
          R"(switchboard_intake_issues_submitted_total{severity="SEVERITY_CRITICAL",source="crm"})"),
      1);
  // Time to route, acknowledge and resolve, by business group.
  EXPECT_EQ(
      value(intake,
            R"(switchboard_intake_time_to_route_seconds_count{business_group="cloud-infra"})"),
      3);
  EXPECT_EQ(
      value(intake,
            R"(switchboard_intake_time_to_route_seconds_count{business_group="customer-care"})"),
      2);
  EXPECT_EQ(
      value(
          intake,
          R"(switchboard_intake_time_to_acknowledge_seconds_count{business_group="cloud-infra"})"),
      1);
  EXPECT_EQ(
      value(intake,
            R"(switchboard_intake_time_to_resolve_seconds_count{business_group="cloud-infra"})"),
      1);
  // The SLA breach and its escalation.
  EXPECT_GE(value(intake, R"(switchboard_intake_sla_breaches_total{business_group="cloud-infra"})"),
            1);
  EXPECT_EQ(Total(intake, "switchboard_intake_escalations_total"), 2);
  EXPECT_EQ(
      value(intake,
            R"(switchboard_intake_escalations_exhausted_total{business_group="cloud-infra"})"),
      1);
  EXPECT_GE(
      value(
          intake,
          R"(switchboard_intake_dispatch_failures_total{code="UNAVAILABLE",peer="notification"})"),
      1);
  // What is open, and for how long.
  EXPECT_GE(Total(intake, "switchboard_intake_open_issues"), 2);
  EXPECT_GT(
      value(
          intake,
          R"(switchboard_intake_open_issue_oldest_age_seconds{business_group="customer-care",state="routed"})"),
      0);
  EXPECT_EQ(value(intake, R"(switchboard_intake_backlog{queue="route"})"), 0);
  // The default route took the two stray issues.
  EXPECT_EQ(value(routing, "switchboard_routing_default_decisions_total"), 2);
  // The customer's verdict: rated 3, then 4 (the 3 replaced), one reopen,
  // a pause, and the resolve targets met.
  EXPECT_EQ(
      value(
          intake,
          R"(switchboard_intake_csat_ratings_total{business_group="customer-care",rating="4",team="triage"})"),
      1);
  EXPECT_EQ(
      value(
          intake,
          R"(switchboard_intake_csat_ratings_replaced_total{business_group="customer-care",rating="3",team="triage"})"),
      1);
  EXPECT_EQ(
      value(intake, R"(switchboard_intake_issues_reopened_total{business_group="customer-care"})"),
      1);
  // (Its LOW target counts Dublin office hours: outside them the pause
  // held no SLA time, and the series still exists.)
  EXPECT_GE(value(intake,
                  R"(switchboard_intake_sla_paused_seconds_total{business_group="customer-care"})"),
            0);
  EXPECT_EQ(
      value(
          intake,
          R"(switchboard_intake_sla_outcomes_total{business_group="customer-care",outcome="met",target="resolve"})"),
      2);
  EXPECT_GE(Total(routing, "switchboard_routing_decisions_total"), 3);
  EXPECT_GT(value(routing, "switchboard_routing_active_rules"), 10);
  // Delivery: the never-answering push receiver's notification is a dead letter.
  EXPECT_GE(value(notification, "switchboard_notification_dead_letters"), 1);
  EXPECT_GE(Total(notification, "switchboard_notification_push_failures_total"), 1);
  EXPECT_GT(value(notification, "switchboard_notification_backlog"), 0);
  // Calls, by method and code.
  EXPECT_EQ(
      value(
          intake,
          R"(grpc_server_handled_total{grpc_code="INVALID_ARGUMENT",grpc_method="GetIssue",grpc_service="switchboard.intake.v1.IntakeService",grpc_type="unary"})"),
      1);
  // RocksDB and the process, on every service.
  for (Service service : kServices) {
    EXPECT_GT(Total(pages_[service], "switchboard_rocksdb_memtable_bytes"), 0) << JobOf(service);
    EXPECT_EQ(Total(pages_[service], "switchboard_rocksdb_write_stopped"), 0) << JobOf(service);
    EXPECT_GT(Total(pages_[service], "process_resident_memory_bytes"), 0) << JobOf(service);
    EXPECT_GT(Total(pages_[service], "switchboard_commit_sync_seconds_count"), 0) << JobOf(service);
  }
}

// Debian's prometheus scrapes the stack with the alerting rules loaded; the
// Node script then queries it.
TEST_F(ObservabilityTest, PrometheusScrapesEveryServiceAndEvaluatesTheDashboardAndAlerts) {
  ASSERT_NO_FATAL_FAILURE(Exercise());

  // Every metric name the services export, for the dashboard check.
  std::set<std::string> exported = {"up"};
  for (Service service : kServices) {
    for (const auto& [name, type] : Families(pages_[service])) {
      exported.insert(name);
      if (type == "histogram") {
        for (const char* suffix : {"_bucket", "_sum", "_count"}) exported.insert(name + suffix);
      }
      if (type == "summary") {
        for (const char* suffix : {"_sum", "_count"}) exported.insert(name + suffix);
      }
    }
  }
  std::ofstream(dir_ + "/exported.txt") << absl::StrJoin(exported, "\n") << "\n";

  std::ofstream config(dir_ + "/prometheus.yaml");
  config << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
         << "rule_files: [" << SWITCHBOARD_SOURCE_DIR "/deploy/prometheus/alerts.yaml]\n"
         << "scrape_configs:\n";
  for (Service service : kServices) {
    config << "  - job_name: " << JobOf(service) << "\n"
           << "    static_configs: [{targets: ['127.0.0.1:" << stack_->metrics_port(service)
           << "']}]\n";
  }
  config.close();
  const int port = testing::FreePort();
  auto prometheus = testing::Subprocess::Start(
      "/usr/bin/prometheus",
      {"--config.file=" + dir_ + "/prometheus.yaml", "--storage.tsdb.path=" + dir_ + "/tsdb",
       absl::StrCat("--web.listen-address=127.0.0.1:", port), "--log.level=warn"},
      {.stderr_path = dir_ + "/prometheus.log"});
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  bool ready = false;
  for (int attempt = 0; attempt < 300 && !ready; ++attempt) {
    ready = testing::HttpGet(port, "/-/ready").ok();
    if (!ready) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(ready) << "prometheus never became ready";

  auto node = testing::Subprocess::Start(
      "/usr/bin/env",
      {"SWITCHBOARD_PROMETHEUS_URL=http://127.0.0.1:" + std::to_string(port),
       "SWITCHBOARD_EXPORTED_METRICS=" + dir_ + "/exported.txt", "node", "--test",
       SWITCHBOARD_SOURCE_DIR "/tests/node/live_metrics.test.mjs"},
      {.capture_stdout = true});
  ASSERT_TRUE(node.ok()) << node.status();
  const std::string output = (*node)->ReadToEnd(absl::Seconds(120));
  absl::StatusOr<int> code = (*node)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status() << "\n" << output;
  EXPECT_EQ(*code, 0) << output;
}

}  // namespace
}  // namespace switchboard
