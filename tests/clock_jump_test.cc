// The three binaries under libfaketime, whose wall clock the test steps:
// back an hour, then forward a day (docs/faults.md, "Clock steps").
//
// - A dispatch loop in backoff when the clock steps back resumes at once,
//   not an hour later (it waits on the monotonic clock).
// - Issue ids stay unique and ordered across the step back.
// - After the step forward, every ack timer now due fires once: each issue
//   escalates one level, and the next level's timer waits its full target.
// - A page token from before the steps still pages.
// - Both steps are counted in switchboard_clock_steps_total.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/private_mounts.h"
#include "common/testing/probes.h"
#include "common/testing/subprocess.h"
#include "tests/stack.h"

namespace switchboard {
namespace {

using issue::v1::Issue;
using testing::Service;
using testing::Stack;

constexpr char kFakeTime[] = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

// first-line escalates to second-line, then duty-manager; a 10 s ack target.
constexpr char kRuleset[] = R"(comment: clock jump test
sla_policies:
  - id: tight
    ack_within: {SEVERITY_HIGH: 10s}
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

class ClockJumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kFakeTime)) {
      if (testing::FaultToolsRequired()) FAIL() << kFakeTime << " is missing (apt: faketime)";
      GTEST_SKIP() << kFakeTime << " is missing (apt: faketime)";
    }
    SetOffset("+0");
    std::ofstream(dir_ + "/ruleset.yaml") << kRuleset;
    auto stack = Stack::Launch({.ruleset_file = dir_ + "/ruleset.yaml",
                                .env = {absl::StrCat("LD_PRELOAD=", kFakeTime),
                                        "FAKETIME_TIMESTAMP_FILE=" + dir_ + "/faketime",
                                        "FAKETIME_CACHE_DURATION=1", "DONT_FAKE_MONOTONIC=1"}});
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
  }

  void TearDown() override {
    stack_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The binaries' wall clock is the real one plus `offset` ("-1h", "+1d"),
  // from at most a second later (FAKETIME_CACHE_DURATION).
  void SetOffset(const std::string& offset) {
    std::ofstream(dir_ + "/faketime.tmp") << offset << "\n";
    std::filesystem::rename(dir_ + "/faketime.tmp", dir_ + "/faketime");
  }

  std::string Submit(const std::string& request_id) {
    intake::v1::SubmitIssueRequest submit;
    submit.set_request_id(request_id);
    Issue& input = *submit.mutable_issue();
    input.set_title("Reports are empty " + request_id);
    input.mutable_customer()->set_id("contoso");
    input.set_product("reports");
    input.set_severity(issue::v1::SEVERITY_HIGH);
    input.set_source("crm");
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    Issue created;
    const grpc::Status status = stack_->intake().SubmitIssue(&context, submit, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created.name();
  }

  Issue Get(const std::string& name) {
    intake::v1::GetIssueRequest request;
    request.set_name(name);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    Issue issue;
    const grpc::Status status = stack_->intake().GetIssue(&context, request, &issue);
    EXPECT_TRUE(status.ok()) << status.error_message();
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

  double Steps(const std::string& direction) {
    auto page = testing::FetchMetrics(stack_->metrics_port(Service::kIntake));
    if (!page.ok()) return -1;
    auto value = testing::SampleValue(
        *page, absl::StrCat("switchboard_clock_steps_total{direction=\"", direction, "\"}"));
    return value.ok() ? *value : -1;
  }

  const std::string dir_ = testing::MakeTempDir("clock_jump_test");
  std::unique_ptr<Stack> stack_;
};

TEST_F(ClockJumpTest, StepBackAnHourThenForwardADay) {
  std::vector<std::string> before;
  for (int i = 0; i < 5; ++i) before.push_back(Submit(absl::StrCat("before-", i)));
  intake::v1::ListIssuesRequest list;
  list.set_page_size(2);
  std::string token;
  {
    grpc::ClientContext context;
    intake::v1::ListIssuesResponse response;
    ASSERT_TRUE(stack_->intake().ListIssues(&context, list, &response).ok());
    token = response.next_page_token();
    ASSERT_FALSE(token.empty());
  }

  // Routing down: the route loop fails and backs off (up to 5 s at a time).
  ASSERT_TRUE(stack_->Stop(Service::kRouting).ok());
  const std::string stalled = Submit("stalled");
  absl::SleepFor(absl::Seconds(4));
  SetOffset("-1h");
  absl::SleepFor(absl::Milliseconds(1500));
  ASSERT_TRUE(stack_->Start(Service::kRouting).ok());
  // Waits are on the monotonic clock: the loop tries again within its
  // backoff, not an hour later.
  ASSERT_TRUE(AllBecome(
      {stalled}, [](const Issue& i) { return i.state() == issue::v1::STATE_ROUTED; },
      absl::Seconds(20)))
      << "the route loop did not resume after the step back\n"
      << stack_->LogTail(Service::kIntake);

  // Ids made an hour "earlier" still sort after every id before them.
  std::vector<std::string> after;
  for (int i = 0; i < 5; ++i) after.push_back(Submit(absl::StrCat("after-", i)));
  std::vector<std::string> all = before;
  all.push_back(stalled);
  all.insert(all.end(), after.begin(), after.end());
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end())) << ::testing::PrintToString(all);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());

  // Issues just routed, their 10 s ack timers armed; then a day forward.
  std::vector<std::string> ahead;
  for (int i = 0; i < 4; ++i) ahead.push_back(Submit(absl::StrCat("ahead-", i)));
  ASSERT_TRUE(AllBecome(
      ahead,
      [](const Issue& i) {
        return i.state() == issue::v1::STATE_ROUTED && i.assignment().escalation_level() == 0;
      },
      absl::Seconds(5)));
  SetOffset("+1d");
  // Each timer now due fires once: one level up...
  ASSERT_TRUE(AllBecome(
      ahead, [](const Issue& i) { return i.assignment().escalation_level() == 1; },
      absl::Seconds(6)))
      << stack_->LogTail(Service::kIntake);
  // ...and the next level's timer waits its full 10 s from then.
  absl::SleepFor(absl::Seconds(3));
  for (const std::string& name : ahead) {
    EXPECT_EQ(Get(name).assignment().escalation_level(), 1) << name << " escalated twice at once";
  }

  // A page token from before both steps still pages.
  list.set_page_token(token);
  grpc::ClientContext context;
  intake::v1::ListIssuesResponse response;
  const grpc::Status paged = stack_->intake().ListIssues(&context, list, &response);
  EXPECT_TRUE(paged.ok()) << paged.error_message();
  EXPECT_EQ(response.issues_size(), 2);

  EXPECT_GE(Steps("back"), 1);
  EXPECT_GE(Steps("forward"), 1);
  EXPECT_THAT(stack_->LogTail(Service::kIntake), ::testing::HasSubstr("wall clock stepped"));
}

}  // namespace
}  // namespace switchboard
