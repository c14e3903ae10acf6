// SLA timers under kill -9, on the real binaries with a ruleset of 3-second
// ack targets: issues wait on their customers across their ack deadline
// while intake is killed, are answered with intake killed right after the
// replies, and are reopened with intake killed again. Each timer fires
// exactly when the issue's state says it should: never while waiting, once
// after the answer (the remaining budget), once after the reopen; no event
// is logged twice and retried calls with their request_id act once.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "common/testing/subprocess.h"
#include "tests/stack.h"

namespace switchboard {
namespace {

using issue::v1::Issue;
using testing::Service;
using testing::Stack;

// first-line escalates to second-line, second-line to duty-manager; the
// ack target is 3 s.
constexpr char kRuleset[] = R"(comment: SLA durability test
sla_policies:
  - id: tight
    ack_within: {SEVERITY_HIGH: 3s}
    resolve_within: {SEVERITY_HIGH: 3600s}
business_groups:
  - id: support
    default_sla_policy: tight
    teams:
      - id: first-line
        escalation:
          - {business_group: support, team: second-line}
      - id: second-line
        escalation:
          - {business_group: support, team: duty-manager}
      - id: duty-manager
default_target: {business_group: support, team: first-line}
)";

constexpr int kIssues = 12;

class SlaDurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string ruleset = ruleset_dir_ + "/ruleset.yaml";
    std::ofstream(ruleset) << kRuleset;
    auto stack = Stack::Launch({.ruleset_file = ruleset});
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
  }

  void TearDown() override {
    stack_.reset();
    std::filesystem::remove_all(ruleset_dir_);
  }

  // Calls `call` until it is answered, through kill -9 and restarts: each
  // attempt has a 5 s deadline, and at most a minute is spent.
  template <typename Call>
  grpc::Status Retry(Call call) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (true) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      grpc::Status status = call(&context);
      const bool transient = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                             status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
      if (!transient || absl::Now() > deadline) return status;
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  Issue Get(const std::string& name) {
    intake::v1::GetIssueRequest request;
    request.set_name(name);
    Issue issue;
    EXPECT_TRUE(Retry([&](grpc::ClientContext* c) {
                  return stack_->intake().GetIssue(c, request, &issue);
                }).ok());
    return issue;
  }

  // Polls until every issue satisfies `done`, for at most `patience`.
  bool AllBecome(const std::vector<std::string>& names, absl::FunctionRef<bool(const Issue&)> done,
                 absl::Duration patience) {
    const absl::Time deadline = absl::Now() + patience;
    for (const std::string& name : names) {
      while (!done(Get(name))) {
        if (absl::Now() > deadline) return false;
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    return true;
  }

  // The events of `type` in `subscriber`'s log, by issue name.
  std::map<std::string, std::vector<issue::v1::IssueEvent>> Events(const std::string& subscriber,
                                                                   issue::v1::EventType type) {
    std::map<std::string, std::vector<issue::v1::IssueEvent>> events;
    notification::v1::ListNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_page_size(1000);
    for (int page = 0; page < 100; ++page) {
      notification::v1::ListNotificationsResponse response;
      EXPECT_TRUE(Retry([&](grpc::ClientContext* c) {
                    return stack_->notification().ListNotifications(c, request, &response);
                  }).ok());
      for (const auto& notification : response.notifications()) {
        if (notification.event().type() == type) {
          events[notification.event().issue().name()].push_back(notification.event());
        }
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return events;
  }

  const std::string ruleset_dir_ = testing::MakeTempDir("sla_durability_test");
  std::unique_ptr<Stack> stack_;
};

TEST_F(SlaDurabilityTest, TimersFireOnceAsTheStateSaysAcrossKill9DuringPausesAndReopens) {
  // Half the issues wait on their customer before their 3 s ack deadline;
  // the other half are left to escalate.
  std::vector<std::string> waiting, control;
  for (int i = 0; i < kIssues; ++i) {
    intake::v1::SubmitIssueRequest submit;
    submit.set_request_id(absl::StrCat("sla-", i));
    Issue& input = *submit.mutable_issue();
    input.set_title("Reports are empty");
    input.mutable_customer()->set_id(absl::StrCat("customer-", i));
    input.set_product("reports");
    input.set_severity(issue::v1::SEVERITY_HIGH);
    input.set_source("crm");
    input.set_submitter(absl::StrCat("user-", i, "@crm.example"));
    Issue created;
    ASSERT_TRUE(Retry([&](grpc::ClientContext* c) {
                  return stack_->intake().SubmitIssue(c, submit, &created);
                }).ok());
    (i % 2 == 0 ? waiting : control).push_back(created.name());
  }
  ASSERT_TRUE(AllBecome(
      waiting, [](const Issue& i) { return i.state() == issue::v1::STATE_ROUTED; },
      absl::Seconds(30)));
  for (const std::string& name : waiting) {
    intake::v1::WaitOnCustomerRequest wait;
    wait.set_name(name);
    wait.set_actor("first-line");
    wait.set_question("Which report?");
    wait.set_request_id("wait-" + name);
    Issue paused;
    ASSERT_TRUE(Retry([&](grpc::ClientContext* c) {
                  return stack_->intake().WaitOnCustomer(c, wait, &paused);
                }).ok());
    ASSERT_EQ(paused.state(), issue::v1::STATE_WAITING_ON_CUSTOMER);
  }
  // Every original ack deadline passes while intake is down or restarting.
  absl::SleepFor(absl::Seconds(1));
  stack_->Kill(Service::kIntake);
  absl::SleepFor(absl::Seconds(3));
  ASSERT_TRUE(stack_->Start(Service::kIntake).ok());
  ASSERT_TRUE(AllBecome(
      control, [](const Issue& i) { return i.assignment().escalation_level() == 1; },
      absl::Seconds(30)))
      << stack_->LogTail(Service::kIntake);
  absl::SleepFor(absl::Seconds(1));
  for (const std::string& name : waiting) {
    const Issue issue = Get(name);
    EXPECT_EQ(issue.state(), issue::v1::STATE_WAITING_ON_CUSTOMER) << name;
    EXPECT_EQ(issue.assignment().escalation_level(), 0) << name << " escalated while waiting";
  }

  // The customers answer; intake is killed right after the replies, and the
  // CRM retries with the same request_ids.
  std::map<std::string, absl::Time> answered;
  std::map<std::string, std::string> etags;
  auto respond = [&](const std::string& name) {
    intake::v1::RespondToIssueRequest answer;
    answer.set_name(name);
    answer.set_actor("crm");
    answer.set_response("The monthly one");
    answer.set_request_id("answer-" + name);
    Issue resumed;
    EXPECT_TRUE(Retry([&](grpc::ClientContext* c) {
                  return stack_->intake().RespondToIssue(c, answer, &resumed);
                }).ok());
    return resumed;
  };
  for (const std::string& name : waiting) {
    const Issue resumed = respond(name);
    EXPECT_EQ(resumed.state(), issue::v1::STATE_ROUTED);
    EXPECT_GT(FromProtoDuration(resumed.sla().paused_duration()), absl::Seconds(3));
    answered[name] = FromProtoTime(resumed.update_time());
    etags[name] = resumed.etag();
  }
  stack_->Kill(Service::kIntake);
  ASSERT_TRUE(stack_->Start(Service::kIntake).ok());
  for (const std::string& name : waiting) {
    EXPECT_EQ(respond(name).etag(), etags[name]) << "a retried answer acts once";
  }
  // The budget left when they paused runs out: each escalates once.
  ASSERT_TRUE(AllBecome(
      waiting, [](const Issue& i) { return i.assignment().escalation_level() == 1; },
      absl::Seconds(30)))
      << stack_->LogTail(Service::kIntake);

  // second-line resolves them; the customers reopen, intake is killed right
  // after the replies, and the retries change nothing.
  std::map<std::string, std::string> reopened_etags;
  auto reopen = [&](const std::string& name) {
    intake::v1::ReopenIssueRequest request;
    request.set_name(name);
    request.set_actor("crm");
    request.set_reason("Still empty");
    request.set_request_id("reopen-" + name);
    Issue reopened;
    EXPECT_TRUE(Retry([&](grpc::ClientContext* c) {
                  return stack_->intake().ReopenIssue(c, request, &reopened);
                }).ok());
    return reopened;
  };
  for (const std::string& name : waiting) {
    intake::v1::ResolveIssueRequest resolve;
    resolve.set_name(name);
    resolve.set_actor("second-line");
    resolve.set_resolution("Rebuilt the report cache");
    Issue resolved;
    ASSERT_TRUE(Retry([&](grpc::ClientContext* c) {
                  return stack_->intake().ResolveIssue(c, resolve, &resolved);
                }).ok());
    const Issue reopened = reopen(name);
    EXPECT_EQ(reopened.state(), issue::v1::STATE_ROUTED);
    EXPECT_EQ(reopened.assignment().target().team(), "second-line");
    EXPECT_EQ(reopened.sla().reopen_count(), 1);
    reopened_etags[name] = reopened.etag();
  }
  stack_->Kill(Service::kIntake);
  ASSERT_TRUE(stack_->Start(Service::kIntake).ok());
  for (const std::string& name : waiting) {
    EXPECT_EQ(reopen(name).etag(), reopened_etags[name]) << "a retried reopen acts once";
  }
  // The reopened issues' new ack deadlines pass: second-line's list sends
  // each to duty-manager, once.
  ASSERT_TRUE(AllBecome(
      waiting, [](const Issue& i) { return i.assignment().target().team() == "duty-manager"; },
      absl::Seconds(30)))
      << stack_->LogTail(Service::kIntake);

  // The logs: one ESCALATED per escalation, none before the answer; one
  // answer and one reopen each, whatever was retried.
  absl::SleepFor(absl::Seconds(2));  // the last events on their way
  // Escalations by issue and new owner, from the source's log (it hears
  // each once).
  std::map<std::string, std::map<std::string, std::vector<issue::v1::IssueEvent>>> escalations;
  for (const auto& [name, events] : Events("sources/crm", issue::v1::EVENT_TYPE_ESCALATED)) {
    for (const auto& event : events) {
      escalations[name][event.issue().assignment().target().team()].push_back(event);
    }
  }
  const auto responded = Events("sources/crm", issue::v1::EVENT_TYPE_CUSTOMER_RESPONDED);
  const auto reopened = Events("sources/crm", issue::v1::EVENT_TYPE_REOPENED);
  for (const std::string& name : control) {
    ASSERT_EQ(escalations[name].size(), 1u) << name;
    EXPECT_EQ(escalations[name]["second-line"].size(), 1u) << name;
  }
  for (const std::string& name : waiting) {
    ASSERT_EQ(escalations[name].size(), 2u) << name;
    ASSERT_EQ(escalations[name]["second-line"].size(), 1u) << name;
    EXPECT_GE(FromProtoTime(escalations[name]["second-line"][0].time()), answered[name])
        << name << " escalated before its customer answered";
    EXPECT_EQ(escalations[name]["duty-manager"].size(), 1u) << name;
    EXPECT_EQ(responded.count(name) ? responded.at(name).size() : 0u, 1u) << name;
    EXPECT_EQ(reopened.count(name) ? reopened.at(name).size() : 0u, 1u) << name;
    const Issue final = Get(name);
    EXPECT_EQ(final.sla().ack_outcome(), issue::v1::SLA_OUTCOME_BREACHED) << name;
    EXPECT_EQ(final.sla().reopen_count(), 1) << name;
  }
  std::cerr << waiting.size() << " paused and reopened, " << control.size()
            << " escalated directly, across 3 kill -9s\n";
}

}  // namespace
}  // namespace switchboard
