// A long outage's backlog: notification is down while many issues arrive
// (SWITCHBOARD_BACKLOG_ISSUES, 20,000 by default; scripts/fault-tests.sh
// runs 500,000). Then notification returns while a client keeps submitting
// fresh issues. Measured and printed as one JSON line: the submit rate, the
// drain rate, intake's and notification's memory through the drain, and how
// long the fresh issues' events waited (FIFO: behind the whole backlog).
// Checked: the backlog drains to zero, memory stays bounded, every issue's
// RECEIVED event is in the source's log exactly once.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "common/sync.h"
#include "common/testing/probes.h"
#include "common/testing/subprocess.h"
#include "tests/stack.h"

namespace switchboard {
namespace {

using issue::v1::Issue;
using testing::Service;
using testing::Stack;

int BacklogIssues() {
  int issues = 20'000;
  const char* text = std::getenv("SWITCHBOARD_BACKLOG_ISSUES");
  if (text != nullptr && !absl::SimpleAtoi(text, &issues)) issues = 20'000;
  return issues;
}

// Resident memory of `pid`, in MiB; -1 if unknown.
double RssMib(int pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, "VmRSS:")) continue;
    int64_t kib = 0;
    std::string value(absl::StripAsciiWhitespace(line.substr(6)));
    value = value.substr(0, value.find(' '));
    if (absl::SimpleAtoi(value, &kib)) return static_cast<double>(kib) / 1024;
  }
  return -1;
}

class BacklogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stack = Stack::Launch({});
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
  }

  absl::StatusOr<Issue> Submit(const std::string& request_id) {
    intake::v1::SubmitIssueRequest submit;
    submit.set_request_id(request_id);
    Issue& input = *submit.mutable_issue();
    input.set_title("Dashboard times out " + request_id);
    input.set_description(std::string(200, 'd'));
    input.mutable_customer()->set_id("contoso");
    input.set_product("azure-storage");
    input.set_severity(issue::v1::SEVERITY_LOW);
    input.set_source("crm");
    for (int attempt = 0;; ++attempt) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      Issue created;
      const grpc::Status status = stack_->intake().SubmitIssue(&context, submit, &created);
      if (status.ok()) return created;
      // At capacity: RESOURCE_EXHAUSTED with a retry delay; retry, same id.
      if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED || attempt > 100) {
        return absl::UnavailableError(status.error_message());
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  double IntakeMetric(const std::string& series) {
    auto page = testing::FetchMetrics(stack_->metrics_port(Service::kIntake));
    if (!page.ok()) return -1;
    auto value = testing::SampleValue(*page, series);
    return value.ok() ? *value : -1;
  }

  std::unique_ptr<Stack> stack_;
};

TEST_F(BacklogTest, DrainsAfterANotificationOutageWithBoundedMemory) {
  const int issues = BacklogIssues();
  ASSERT_TRUE(stack_->Stop(Service::kNotification).ok());

  // Closed-loop submitters while notification is down.
  constexpr int kSubmitters = 16;
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  const absl::Time submit_start = absl::Now();
  {
    std::vector<std::thread> submitters;
    for (int s = 0; s < kSubmitters; ++s) {
      submitters.emplace_back([&] {
        for (int i = next++; i < issues; i = next++) {
          if (!Submit(absl::StrCat("backlog-", i)).ok()) ++failures;
        }
      });
    }
    for (std::thread& submitter : submitters) submitter.join();
  }
  const double submit_seconds = absl::ToDoubleSeconds(absl::Now() - submit_start);
  ASSERT_EQ(failures.load(), 0);
  // Routing is up: wait until every issue is routed, so the publish queue
  // holds both events of each.
  const absl::Time routed_by = absl::Now() + absl::Minutes(10);
  while (IntakeMetric("switchboard_intake_backlog{queue=\"route\"}") != 0 &&
         absl::Now() < routed_by) {
    absl::SleepFor(absl::Milliseconds(500));
  }
  const double backlog = IntakeMetric("switchboard_intake_backlog{queue=\"publish\"}");
  EXPECT_GE(backlog, issues) << "the events did not wait in intake";

  // Notification returns; a client submits 20 fresh issues a second.
  ASSERT_TRUE(stack_->Start(Service::kNotification).ok());
  const absl::Time drain_start = absl::Now();
  Mutex mu;
  std::map<std::string, absl::Time> fresh;  // name → submitted
  std::atomic<bool> draining{true};
  std::thread fresh_client([&] {
    for (int i = 0; draining; ++i) {
      absl::StatusOr<Issue> created = Submit(absl::StrCat("fresh-", i));
      if (created.ok()) {
        MutexLock lock(mu);
        fresh[created->name()] = FromProtoTime(created->create_time());
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  });
  double peak_intake = 0, peak_notification = 0, rss_at_fifth = -1;
  const absl::Time drained_by = drain_start + absl::Minutes(30);
  for (;;) {
    const double left = IntakeMetric("switchboard_intake_backlog{queue=\"publish\"}");
    const double intake_rss = RssMib(stack_->pid(Service::kIntake));
    peak_intake = std::max(peak_intake, intake_rss);
    peak_notification = std::max(peak_notification, RssMib(stack_->pid(Service::kNotification)));
    if (rss_at_fifth < 0 && left >= 0 && left <= 0.8 * backlog) rss_at_fifth = intake_rss;
    if (left == 0 || absl::Now() > drained_by) break;
    absl::SleepFor(absl::Seconds(1));
  }
  const double drain_seconds = absl::ToDoubleSeconds(absl::Now() - drain_start);
  draining = false;
  fresh_client.join();
  EXPECT_EQ(IntakeMetric("switchboard_intake_backlog{queue=\"publish\"}"), 0)
      << "not drained in 30 minutes";
  // Let the last fresh issues' events through too.
  absl::SleepFor(absl::Seconds(3));

  // The source's log: every RECEIVED once; the fresh issues' waits.
  std::set<std::string> ids;
  std::map<std::string, int> received;
  std::vector<double> fresh_waits;
  notification::v1::ListNotificationsRequest request;
  request.set_subscriber("sources/crm");
  request.set_page_size(1000);
  for (int page = 0; page < 100'000; ++page) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    notification::v1::ListNotificationsResponse response;
    const grpc::Status status =
        stack_->notification().ListNotifications(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const auto& notification : response.notifications()) {
      EXPECT_TRUE(ids.insert(notification.event().id()).second)
          << "event " << notification.event().id() << " logged twice";
      if (notification.event().type() != issue::v1::EVENT_TYPE_RECEIVED) continue;
      ++received[notification.event().issue().name()];
      MutexLock lock(mu);
      if (auto it = fresh.find(notification.event().issue().name()); it != fresh.end()) {
        fresh_waits.push_back(
            absl::ToDoubleSeconds(FromProtoTime(notification.publish_time()) - it->second));
      }
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  size_t fresh_count = 0;
  {
    MutexLock lock(mu);
    fresh_count = fresh.size();
  }
  EXPECT_EQ(received.size(), issues + fresh_count);
  for (const auto& [name, count] : received) EXPECT_EQ(count, 1) << name;
  std::sort(fresh_waits.begin(), fresh_waits.end());
  const auto percentile = [&](double p) {
    return fresh_waits.empty() ? -1
                               : fresh_waits[static_cast<size_t>(p * (fresh_waits.size() - 1))];
  };
  // Memory: bounded by a batch in flight, not by the backlog.
  EXPECT_LE(peak_intake, std::max(rss_at_fifth, 0.0) + 128) << "intake grew with the drain";
  std::cout << "{\"issues\":" << issues << ",\"submit_per_second\":" << issues / submit_seconds
            << ",\"events_backlog\":" << backlog << ",\"drain_seconds\":" << drain_seconds
            << ",\"drain_events_per_second\":" << backlog / drain_seconds
            << ",\"intake_rss_mib_peak\":" << peak_intake
            << ",\"notification_rss_mib_peak\":" << peak_notification
            << ",\"fresh_issues\":" << fresh_count
            << ",\"fresh_wait_p50_seconds\":" << percentile(0.5)
            << ",\"fresh_wait_p99_seconds\":" << percentile(0.99) << "}" << std::endl;
}

}  // namespace
}  // namespace switchboard
