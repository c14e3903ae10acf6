// Faults between the services, on the real binaries while issues flow
// (docs/faults.md):
//
// - NetworkFaultTest: a tests/fault_proxy.h between intake and each of its
//   peers delays every packet, resets every connection, refuses new ones
//   and black-holes the routing link for 45 s. SubmitIssue is never
//   affected; keepalive replaces the black-holed connection; when the links
//   heal the backlog drains, every issue is routed once and no event is in
//   a log twice.
// - An idle connection black-holed is closed by keepalive within 45 s.
// - FrozenProcessTest: routing, then notification, are SIGSTOPped for 30 s,
//   then intake for 8 s. Intake keeps accepting and its threads do not
//   pile up; the backlog drains after SIGCONT with no duplicate; callers of
//   a frozen intake see their deadline, and their retries with the same
//   request_id create nothing twice.
#include <signal.h>

#include <atomic>
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
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/sync.h"
#include "common/testing/probes.h"
#include "common/testing/subprocess.h"
#include "tests/fault_proxy.h"
#include "tests/stack.h"

namespace switchboard {
namespace {

using issue::v1::Issue;
using testing::FaultProxy;
using testing::Service;
using testing::Stack;

// A SubmitIssue request for a low-severity crm issue.
intake::v1::SubmitIssueRequest SubmitRequest(const std::string& request_id,
                                             const std::string& title) {
  intake::v1::SubmitIssueRequest submit;
  submit.set_request_id(request_id);
  Issue& input = *submit.mutable_issue();
  input.set_title(title);
  input.mutable_customer()->set_id("contoso");
  input.set_product("azure-storage");
  input.set_severity(issue::v1::SEVERITY_LOW);
  input.set_source("crm");
  return submit;
}

// Submits issues from a thread at about `per_second`, each with its own
// request_id and a 2 s deadline, until stopped; records what happened.
class Submitter {
 public:
  Submitter(Stack& stack, std::string prefix, int per_second)
      : stack_(stack), prefix_(std::move(prefix)), pause_(absl::Seconds(1) / per_second) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Submitter() { Stop(); }

  void Stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::vector<std::string> names() {
    MutexLock lock(mu_);
    return names_;
  }
  std::vector<std::string> failures() {
    MutexLock lock(mu_);
    return failures_;
  }
  absl::Duration slowest() {
    MutexLock lock(mu_);
    return slowest_;
  }

 private:
  void Run() {
    for (int i = 0; !stopping_; ++i) {
      const intake::v1::SubmitIssueRequest submit = SubmitRequest(
          absl::StrCat(prefix_, "-", i), absl::StrCat("Reports are empty ", prefix_, "-", i));
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
      Issue created;
      const absl::Time start = absl::Now();
      const grpc::Status status = stack_.intake().SubmitIssue(&context, submit, &created);
      const absl::Duration took = absl::Now() - start;
      {
        MutexLock lock(mu_);
        slowest_ = std::max(slowest_, took);
        if (status.ok()) {
          names_.push_back(created.name());
        } else {
          failures_.push_back(absl::StrCat(submit.request_id(), ": ", status.error_message()));
        }
      }
      absl::SleepFor(pause_);
    }
  }

  Stack& stack_;
  const std::string prefix_;
  const absl::Duration pause_;
  std::atomic<bool> stopping_{false};
  Mutex mu_;
  std::vector<std::string> names_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> failures_ ABSL_GUARDED_BY(mu_);
  absl::Duration slowest_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class PeerFaultTest : public ::testing::Test {
 protected:
  void Launch(Stack::Options options = {}) {
    auto stack = Stack::Launch(std::move(options));
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
  }

  Issue Get(const std::string& name) {
    intake::v1::GetIssueRequest request;
    request.set_name(name);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    Issue issue;
    const grpc::Status status = stack_->intake().GetIssue(&context, request, &issue);
    EXPECT_TRUE(status.ok()) << name << ": " << status.error_message();
    return issue;
  }

  // Every event in `subscriber`'s log, paging through it.
  std::vector<issue::v1::IssueEvent> Log(const std::string& subscriber) {
    std::vector<issue::v1::IssueEvent> events;
    notification::v1::ListNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_page_size(1000);
    for (int page = 0; page < 1000; ++page) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      notification::v1::ListNotificationsResponse response;
      const grpc::Status status =
          stack_->notification().ListNotifications(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& notification : response.notifications()) {
        events.push_back(notification.event());
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return events;
  }

  // Waits until every issue is routed and its events are published: RECEIVED
  // in the source's log, ROUTED in its business group's. Then checks that
  // each issue was received and routed once, and no event is in a log twice.
  void ExpectDrainedOnceEach(const std::vector<std::string>& names, absl::Duration patience) {
    const absl::Time deadline = absl::Now() + patience;
    std::set<std::string> groups;
    for (const std::string& name : names) {
      Issue issue = Get(name);
      while (issue.state() != issue::v1::STATE_ROUTED && absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(200));
        issue = Get(name);
      }
      EXPECT_EQ(issue.state(), issue::v1::STATE_ROUTED) << name;
      groups.insert(issue.assignment().target().business_group());
    }
    std::map<std::string, std::map<int, int>> per_issue;  // name → type → count
    size_t logged = 0;
    for (;;) {
      per_issue.clear();
      logged = 0;
      std::vector<std::string> subscribers = {"sources/crm"};
      for (const std::string& group : groups) subscribers.push_back("business-groups/" + group);
      for (const std::string& subscriber : subscribers) {
        std::set<std::string> ids;
        for (const issue::v1::IssueEvent& event : Log(subscriber)) {
          EXPECT_TRUE(ids.insert(event.id()).second)
              << "event " << event.id() << " is in " << subscriber << " twice";
          ++per_issue[event.issue().name()][event.type()];
          ++logged;
        }
      }
      if (logged >= 2 * names.size() || absl::Now() > deadline) break;
      absl::SleepFor(absl::Milliseconds(500));
    }
    for (const std::string& name : names) {
      EXPECT_EQ(per_issue[name][issue::v1::EVENT_TYPE_RECEIVED], 1) << name;
      EXPECT_EQ(per_issue[name][issue::v1::EVENT_TYPE_ROUTED], 1) << name;
    }
    EXPECT_EQ(logged, 2 * names.size());
  }

  double IntakeMetric(const std::string& series) {
    auto page = testing::FetchMetrics(stack_->metrics_port(Service::kIntake));
    if (!page.ok()) return -1;
    double total = 0;
    // Sums every sample whose series starts with `series` (any labels).
    for (absl::string_view line : absl::StrSplit(*page, '\n')) {
      if (!absl::StartsWith(line, series)) continue;
      double value = 0;
      if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) total += value;
    }
    return total;
  }

  int IntakeThreads() {
    std::ifstream status(absl::StrCat("/proc/", stack_->pid(Service::kIntake), "/status"));
    std::string line;
    while (std::getline(status, line)) {
      int threads = 0;
      if (absl::StartsWith(line, "Threads:") &&
          absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(8)), &threads)) {
        return threads;
      }
    }
    return -1;
  }

  // Launches the stack with a FaultProxy between intake and each peer.
  void LaunchBehindProxies() {
    Launch({.intake_peer_target = [&](Service peer, const std::string& address) {
      int port = 0;
      EXPECT_TRUE(absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port));
      auto proxy = FaultProxy::Start(port);
      EXPECT_TRUE(proxy.ok()) << proxy.status();
      proxies_[peer] = std::move(*proxy);
      return absl::StrCat("127.0.0.1:", proxies_[peer]->port());
    }});
  }

  std::map<Service, std::unique_ptr<FaultProxy>> proxies_;
  std::unique_ptr<Stack> stack_;
};

TEST_F(PeerFaultTest, DelayedResetRefusedAndBlackHoledLinksLoseAndRepeatNothing) {
  LaunchBehindProxies();
  FaultProxy& routing = *proxies_[Service::kRouting];
  FaultProxy& notification = *proxies_[Service::kNotification];
  Submitter submitter(*stack_, "net", 20);

  // 300 ms each way: slow, but everything works.
  routing.SetDelay(absl::Milliseconds(300));
  notification.SetDelay(absl::Milliseconds(300));
  absl::SleepFor(absl::Seconds(6));
  routing.SetDelay(absl::ZeroDuration());
  notification.SetDelay(absl::ZeroDuration());
  // Every connection reset every 2 s, then new ones refused.
  for (int i = 0; i < 5; ++i) {
    routing.SetMode(FaultProxy::Mode::kResetAll);
    notification.SetMode(FaultProxy::Mode::kResetAll);
    absl::SleepFor(absl::Seconds(2));
  }
  routing.SetMode(FaultProxy::Mode::kRefuse);
  notification.SetMode(FaultProxy::Mode::kRefuse);
  absl::SleepFor(absl::Seconds(8));
  // Reconnects back off (250 ms growing to 2 s): a handful per second at
  // most, not a storm.
  EXPECT_LT(routing.accepted(), 200);
  routing.SetMode(FaultProxy::Mode::kPass);
  notification.SetMode(FaultProxy::Mode::kPass);
  absl::SleepFor(absl::Seconds(2));

  // The routing link black-holed: calls time out, and keepalive (a ping
  // after 30 s without a read, 10 s for its answer) gives up on the
  // connection instead of waiting on it for ever. Its FIN cannot reach the
  // proxy behind the unread bytes, as on a real dead link; what shows is
  // intake opening a new connection.
  const int64_t accepted_before = routing.accepted();
  routing.SetMode(FaultProxy::Mode::kBlackHole);
  const absl::Time black_hole = absl::Now();
  while (routing.accepted() == accepted_before && absl::Now() - black_hole < absl::Seconds(60)) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_GT(routing.accepted(), accepted_before) << "intake kept a black-holed connection for 60 s";
  const absl::Duration replaced_after = absl::Now() - black_hole;
  EXPECT_GT(replaced_after, absl::Seconds(25)) << "replaced before keepalive could have fired";
  std::cout << "black-holed connection replaced after " << replaced_after << "\n";
  routing.SetMode(FaultProxy::Mode::kPass);
  submitter.Stop();

  EXPECT_THAT(submitter.failures(), ::testing::IsEmpty());
  EXPECT_LT(submitter.slowest(), absl::Seconds(2));
  EXPECT_GT(IntakeMetric("switchboard_intake_dispatch_failures_total"), 0);
  ExpectDrainedOnceEach(submitter.names(), absl::Seconds(60));
}

TEST_F(PeerFaultTest, AnIdleBlackHoledLinkIsClosedByKeepalive) {
  LaunchBehindProxies();
  FaultProxy& routing = *proxies_[Service::kRouting];
  std::vector<std::string> names;
  auto submit = [&](const std::string& request_id) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    Issue created;
    const grpc::Status status =
        stack_->intake().SubmitIssue(&context, SubmitRequest(request_id, "Idle link"), &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
    names.push_back(created.name());
  };
  for (int i = 0; i < 3; ++i) submit(absl::StrCat("before-", i));
  ExpectDrainedOnceEach(names, absl::Seconds(30));

  // Nothing to route: the connection is idle (a keepalive ping may pass).
  const int64_t bytes = routing.forwarded_bytes();
  absl::SleepFor(absl::Seconds(2));
  ASSERT_LT(routing.forwarded_bytes() - bytes, 200) << "the routing link is not idle";
  // Black-holed with no call on it, only keepalive can notice: a ping every
  // 30 s, 10 s for its answer, then intake closes the connection.
  const int64_t closed = routing.closed_by_client();
  routing.SetMode(FaultProxy::Mode::kBlackHole);
  const absl::Time black_hole = absl::Now();
  while (routing.closed_by_client() == closed && absl::Now() - black_hole < absl::Seconds(90)) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  const absl::Duration closed_after = absl::Now() - black_hole;
  EXPECT_GT(routing.closed_by_client(), closed) << "intake kept an idle black-holed connection";
  EXPECT_LE(closed_after, absl::Seconds(45)) << "longer than one keepalive period and its timeout";
  std::cout << "idle black-holed connection closed after " << closed_after << "\n";
  routing.SetMode(FaultProxy::Mode::kPass);

  // The link heals: new issues are routed at once over a new connection.
  for (int i = 0; i < 3; ++i) submit(absl::StrCat("after-", i));
  ExpectDrainedOnceEach(names, absl::Seconds(30));
}

TEST_F(PeerFaultTest, FrozenPeersThenAFrozenIntakeLoseAndRepeatNothing) {
  Launch();
  Submitter submitter(*stack_, "frozen", 20);
  absl::SleepFor(absl::Seconds(2));
  const int threads_before = IntakeThreads();

  for (Service peer : {Service::kRouting, Service::kNotification}) {
    stack_->Signal(peer, SIGSTOP);
    absl::SleepFor(absl::Seconds(30));
    // Calls to the frozen peer end at their deadline; no thread waits on
    // each of them.
    EXPECT_LE(IntakeThreads(), threads_before + 8);
    stack_->Signal(peer, SIGCONT);
  }
  submitter.Stop();
  EXPECT_THAT(submitter.failures(), ::testing::IsEmpty());
  EXPECT_LT(submitter.slowest(), absl::Seconds(2)) << "SubmitIssue waited on a frozen peer";
  EXPECT_GT(IntakeMetric("switchboard_intake_dispatch_failures_total"), 0);
  std::vector<std::string> names = submitter.names();

  // Intake itself frozen: callers' deadlines fire; after SIGCONT each retry
  // with the same request_id finds the issue its first attempt made, if any.
  stack_->Signal(Service::kIntake, SIGSTOP);
  std::vector<grpc::Status> frozen;
  for (int i = 0; i < 3; ++i) {
    const intake::v1::SubmitIssueRequest submit =
        SubmitRequest(absl::StrCat("during-freeze-", i), "Submitted to a frozen intake");
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    Issue created;
    frozen.push_back(stack_->intake().SubmitIssue(&context, submit, &created));
    EXPECT_EQ(frozen.back().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  stack_->Signal(Service::kIntake, SIGCONT);
  for (int i = 0; i < 3; ++i) {
    std::set<std::string> made;
    for (int attempt = 0; attempt < 2; ++attempt) {
      const intake::v1::SubmitIssueRequest submit =
          SubmitRequest(absl::StrCat("during-freeze-", i), "Submitted to a frozen intake");
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      Issue created;
      const grpc::Status status = stack_->intake().SubmitIssue(&context, submit, &created);
      ASSERT_TRUE(status.ok()) << status.error_message();
      made.insert(created.name());
    }
    EXPECT_EQ(made.size(), 1u) << "request during-freeze-" << i << " made two issues";
    names.push_back(*made.begin());
  }
  ExpectDrainedOnceEach(names, absl::Seconds(60));
}

}  // namespace
}  // namespace switchboard
