// End to end: the three real binaries on loopback, driven through the wire
// as a CRM and the teams' tooling would — submit, route, notify, acknowledge,
// resolve, transfer, escalate — and what survives outages and kill -9 of
// each service in the middle of a flow.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "tests/stack.h"

namespace switchboard {
namespace {

using issue::v1::Issue;
using notification::v1::Notification;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Service;
using testing::Stack;

constexpr absl::Duration kPatience = absl::Seconds(60);

bool Transient(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:  // a connection cut mid-call
      return true;
    default:
      return false;
  }
}

// Calls `call(context)` until it returns something other than a transient
// error, or kPatience passes; each attempt has a 5 s deadline.
template <typename Call>
grpc::Status Retry(Call call) {
  const absl::Time deadline = absl::Now() + kPatience;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc::Status status = call(&context);
    if (!Transient(status) || absl::Now() > deadline) return status;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

class EndToEndTest : public ::testing::Test {
 protected:
  void StartStack(Stack::Options options = {}) {
    options.intake_flags.push_back("--peer_timeout=2s");
    auto stack = Stack::Launch(std::move(options));
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
  }

  static Issue NewIssue(const std::string& product, const std::string& submitter) {
    Issue issue;
    issue.set_title("Blob writes fail with 503");
    issue.set_description("Every PUT since 09:10 UTC returns 503.");
    issue.mutable_customer()->set_id("contoso");
    issue.mutable_customer()->set_tier(issue::v1::CUSTOMER_TIER_STRATEGIC);
    issue.set_product(product);
    issue.set_severity(issue::v1::SEVERITY_CRITICAL);
    issue.set_source("crm");
    issue.set_submitter(submitter);
    return issue;
  }

  // Submits until acknowledged (retrying with the same request id through
  // outages); the acknowledged issue.
  Issue Submit(const std::string& request_id, const std::string& product,
               const std::string& submitter = "jane@contoso.com") {
    intake::v1::SubmitIssueRequest request;
    request.set_request_id(request_id);
    *request.mutable_issue() = NewIssue(product, submitter);
    Issue created;
    const grpc::Status status = Retry([&](grpc::ClientContext* context) {
      return stack_->intake().SubmitIssue(context, request, &created);
    });
    EXPECT_TRUE(status.ok()) << request_id << ": " << status.error_message();
    return created;
  }

  absl::StatusOr<Issue> Get(const std::string& name) {
    intake::v1::GetIssueRequest request;
    request.set_name(name);
    Issue issue;
    const grpc::Status status = Retry([&](grpc::ClientContext* context) {
      return stack_->intake().GetIssue(context, request, &issue);
    });
    if (!status.ok()) return FromGrpcStatus(status);
    return issue;
  }

  // Polls until `done(issue)` or kPatience; the last issue read.
  template <typename Predicate>
  Issue AwaitIssue(const std::string& name, Predicate done) {
    const absl::Time deadline = absl::Now() + kPatience;
    absl::StatusOr<Issue> issue = Get(name);
    while (absl::Now() < deadline && (!issue.ok() || !done(*issue))) {
      absl::SleepFor(absl::Milliseconds(50));
      issue = Get(name);
    }
    EXPECT_TRUE(issue.ok()) << issue.status();
    return issue.ok() ? *issue : Issue();
  }

  Issue AwaitState(const std::string& name, issue::v1::State state) {
    return AwaitIssue(name, [state](const Issue& issue) { return issue.state() == state; });
  }

  // Every stored notification of `subscriber`, oldest first.
  std::vector<Notification> Log(const std::string& subscriber) {
    std::vector<Notification> log;
    notification::v1::ListNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_page_size(1000);
    do {
      notification::v1::ListNotificationsResponse page;
      const grpc::Status status = Retry([&](grpc::ClientContext* context) {
        return stack_->notification().ListNotifications(context, request, &page);
      });
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      log.insert(log.end(), page.notifications().begin(), page.notifications().end());
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty());
    return log;
  }

  // The event types `subscriber` heard for `name`, once there are `count`.
  std::vector<std::string> EventsFor(const std::string& subscriber, const std::string& name,
                                     size_t count) {
    std::vector<std::string> types;
    const absl::Time deadline = absl::Now() + kPatience;
    do {
      types.clear();
      for (const Notification& n : Log(subscriber)) {
        if (n.event().issue().name() == name) {
          types.push_back(issue::v1::EventType_Name(n.event().type()));
        }
      }
      if (types.size() >= count) break;
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    return types;
  }

  grpc::Status Acknowledge(const Issue& issue, const std::string& etag = "") {
    intake::v1::AcknowledgeIssueRequest request;
    request.set_name(issue.name());
    request.set_actor("oncall@" + issue.assignment().target().team());
    request.set_etag(etag);
    Issue ignored;
    return Retry([&](grpc::ClientContext* context) {
      return stack_->intake().AcknowledgeIssue(context, request, &ignored);
    });
  }

  grpc::Status Resolve(const Issue& issue) {
    intake::v1::ResolveIssueRequest request;
    request.set_name(issue.name());
    request.set_actor("oncall@" + issue.assignment().target().team());
    request.set_resolution("Throttling limit raised");
    Issue ignored;
    return Retry([&](grpc::ClientContext* context) {
      return stack_->intake().ResolveIssue(context, request, &ignored);
    });
  }

  std::unique_ptr<Stack> stack_;
};

TEST_F(EndToEndTest, ASubmittedIssueIsRoutedAndTheOwnerTeamsStreamHearsOfIt) {
  StartStack();
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  notification::v1::SubscribeRequest request;
  request.set_subscriber("teams/storage-oncall");
  auto stream = stack_->notification().Subscribe(&context, request);

  const Issue submitted = Submit("r1", "azure-storage");
  EXPECT_EQ(submitted.state(), issue::v1::STATE_RECEIVED);
  Notification notification;
  ASSERT_TRUE(stream->Read(&notification));
  EXPECT_EQ(notification.sequence(), 1u);
  EXPECT_EQ(notification.event().type(), issue::v1::EVENT_TYPE_ROUTED);
  EXPECT_EQ(notification.event().issue().name(), submitted.name());
  EXPECT_EQ(notification.event().issue().assignment().target().team(), "storage-oncall");
  context.TryCancel();

  const Issue routed = AwaitState(submitted.name(), issue::v1::STATE_ROUTED);
  EXPECT_EQ(routed.assignment().rule(), "strategic-critical-storage");
  EXPECT_TRUE(routed.has_ack_deadline());
  EXPECT_THAT(EventsFor("business-groups/cloud-infra", routed.name(), 1),
              ElementsAre("EVENT_TYPE_ROUTED"));
  EXPECT_THAT(EventsFor("teams/care-managers", routed.name(), 1),  // the rule's watcher
              ElementsAre("EVENT_TYPE_ROUTED"));
  EXPECT_THAT(EventsFor("sources/crm", routed.name(), 1), ElementsAre("EVENT_TYPE_RECEIVED"));
}

TEST_F(EndToEndTest, TransferAcknowledgeAndResolveReachOwnersSourceAndSubmitter) {
  StartStack();
  const Issue routed = AwaitState(Submit("r1", "azure-storage").name(), issue::v1::STATE_ROUTED);
  ASSERT_EQ(routed.state(), issue::v1::STATE_ROUTED);

  intake::v1::TransferIssueRequest transfer;
  transfer.set_name(routed.name());
  transfer.set_actor("lead@storage");
  transfer.set_reason("it is a VM disk");
  transfer.mutable_target()->set_business_group("cloud-infra");
  transfer.mutable_target()->set_team("no-such-team");
  Issue transferred;
  const grpc::Status bad = Retry([&](grpc::ClientContext* context) {
    return stack_->intake().TransferIssue(context, transfer, &transferred);
  });
  ASSERT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.error_message();
  EXPECT_EQ(GetFieldViolations(FromGrpcStatus(bad)).at(0).field, "target");

  transfer.mutable_target()->set_team("compute-oncall");
  transfer.set_etag(routed.etag());
  ASSERT_TRUE(Retry([&](grpc::ClientContext* context) {
                return stack_->intake().TransferIssue(context, transfer, &transferred);
              }).ok());
  EXPECT_EQ(transferred.assignment().target().team(), "compute-oncall");
  EXPECT_TRUE(transferred.assignment().manual());

  EXPECT_EQ(Acknowledge(transferred, routed.etag()).error_code(), grpc::StatusCode::ABORTED);
  ASSERT_TRUE(Acknowledge(transferred, transferred.etag()).ok());
  ASSERT_TRUE(Acknowledge(transferred).ok());  // twice is harmless
  ASSERT_TRUE(Resolve(transferred).ok());
  EXPECT_EQ(AwaitState(routed.name(), issue::v1::STATE_RESOLVED).resolution(),
            "Throttling limit raised");

  intake::v1::ListIssuesRequest list;
  list.set_filter("state=STATE_RESOLVED AND team=compute-oncall");
  intake::v1::ListIssuesResponse response;
  ASSERT_TRUE(Retry([&](grpc::ClientContext* context) {
                return stack_->intake().ListIssues(context, list, &response);
              }).ok());
  ASSERT_EQ(response.issues_size(), 1);
  EXPECT_EQ(response.issues(0).name(), routed.name());

  EXPECT_THAT(EventsFor("sources/crm", routed.name(), 4),
              ElementsAre("EVENT_TYPE_RECEIVED", "EVENT_TYPE_TRANSFERRED",
                          "EVENT_TYPE_ACKNOWLEDGED", "EVENT_TYPE_RESOLVED"));
  EXPECT_THAT(
      EventsFor("submitters/jane@contoso.com", routed.name(), 3),
      ElementsAre("EVENT_TYPE_TRANSFERRED", "EVENT_TYPE_ACKNOWLEDGED", "EVENT_TYPE_RESOLVED"));
  EXPECT_THAT(EventsFor("teams/storage-oncall", routed.name(), 2),
              ElementsAre("EVENT_TYPE_ROUTED", "EVENT_TYPE_TRANSFERRED"));
  EXPECT_THAT(
      EventsFor("teams/compute-oncall", routed.name(), 3),
      ElementsAre("EVENT_TYPE_TRANSFERRED", "EVENT_TYPE_ACKNOWLEDGED", "EVENT_TYPE_RESOLVED"));
}

TEST_F(EndToEndTest, AnIssueNobodyTakesEscalatesUpTheTeamsList) {
  // The sample ruleset with every critical ack SLA cut to one second.
  std::ifstream sample(SWITCHBOARD_SOURCE_DIR "/config/sample-ruleset.yaml");
  const std::string text((std::istreambuf_iterator<char>(sample)),
                         std::istreambuf_iterator<char>());
  const std::string fast_dir = testing::MakeTempDir("e2e_ruleset");
  const std::string fast = fast_dir + "/fast-sla.yaml";
  std::ofstream(fast) << std::regex_replace(text,
                                            std::regex(R"(ack_within: \{SEVERITY_CRITICAL: \d+s)"),
                                            "ack_within: {SEVERITY_CRITICAL: 1s");
  StartStack({.ruleset_file = fast});

  const Issue taken = AwaitState(Submit("taken", "azure-storage").name(), issue::v1::STATE_ROUTED);
  ASSERT_TRUE(Acknowledge(taken).ok());
  const Issue ignored = Submit("ignored", "azure-storage");

  // storage-oncall → storage-leads → cloud-duty-manager, whose list is empty.
  const Issue escalated = AwaitIssue(ignored.name(), [](const Issue& issue) {
    return issue.assignment().escalation_level() == 2;
  });
  EXPECT_EQ(escalated.state(), issue::v1::STATE_ROUTED);
  EXPECT_EQ(escalated.assignment().target().team(), "cloud-duty-manager");
  EXPECT_THAT(EventsFor("teams/storage-leads", ignored.name(), 1),
              ::testing::Contains("EVENT_TYPE_ESCALATED"));
  EXPECT_THAT(EventsFor("teams/cloud-duty-manager", ignored.name(), 1),
              ElementsAre("EVENT_TYPE_ESCALATED"));
  EXPECT_THAT(EventsFor("sources/crm", ignored.name(), 3),
              ElementsAre("EVENT_TYPE_RECEIVED", "EVENT_TYPE_ESCALATED", "EVENT_TYPE_ESCALATED"));

  // The exhausted list leaves it with the duty manager; the taken one never moved.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(Get(ignored.name())->assignment().escalation_level(), 2);
  const Issue still = *Get(taken.name());
  EXPECT_EQ(still.state(), issue::v1::STATE_ACKNOWLEDGED);
  EXPECT_EQ(still.assignment().target().team(), "storage-oncall");
  EXPECT_EQ(still.assignment().escalation_level(), 0);
  std::filesystem::remove_all(fast_dir);
}

TEST_F(EndToEndTest, IssuesWaitOutARoutingOutage) {
  StartStack();
  ASSERT_TRUE(stack_->Stop(Service::kRouting).ok());
  const Issue during = Submit("r1", "virtual-machines");  // accepted while routing is down
  EXPECT_EQ(during.state(), issue::v1::STATE_RECEIVED);
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Get(during.name())->state(), issue::v1::STATE_RECEIVED);

  ASSERT_TRUE(stack_->Start(Service::kRouting).ok());
  const Issue after = AwaitState(during.name(), issue::v1::STATE_ROUTED);
  EXPECT_EQ(after.assignment().target().team(), "compute-oncall");

  // A transfer needs routing: while it is down, the caller is told so, in
  // intake's words: no internal address, no transport detail.
  ASSERT_TRUE(stack_->Stop(Service::kRouting).ok());
  intake::v1::TransferIssueRequest transfer;
  transfer.set_name(after.name());
  transfer.set_actor("lead@compute");
  transfer.mutable_target()->set_business_group("cloud-infra");
  transfer.mutable_target()->set_team("storage-oncall");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  Issue transferred;
  const grpc::Status down = stack_->intake().TransferIssue(&context, transfer, &transferred);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << down.error_message();
  EXPECT_THAT(down.error_message(), HasSubstr("routing service is unavailable"));
  EXPECT_THAT(down.error_message(), HasSubstr("can be retried"));
  EXPECT_THAT(down.error_message(), Not(HasSubstr("127.0.0.1")));
  EXPECT_THAT(down.error_message(), Not(HasSubstr("connect")));
  ASSERT_TRUE(stack_->Start(Service::kRouting).ok());
  EXPECT_THAT(EventsFor("teams/compute-oncall", during.name(), 1),
              ElementsAre("EVENT_TYPE_ROUTED"));
}

TEST_F(EndToEndTest, NotificationsWaitOutANotificationOutage) {
  StartStack();
  ASSERT_TRUE(stack_->Stop(Service::kNotification).ok());
  std::vector<std::string> names;
  for (int i = 0; i < 5; ++i) {
    const Issue routed =
        AwaitState(Submit(absl::StrCat("r", i), "azure-storage").name(), issue::v1::STATE_ROUTED);
    ASSERT_TRUE(Acknowledge(routed).ok());
    if (i % 2 == 0) {
      ASSERT_TRUE(Resolve(routed).ok());
    }
    names.push_back(routed.name());
  }

  ASSERT_TRUE(stack_->Start(Service::kNotification).ok());
  for (int i = 0; i < 5; ++i) {
    if (i % 2 == 0) {
      EXPECT_THAT(
          EventsFor("sources/crm", names[i], 3),
          ElementsAre("EVENT_TYPE_RECEIVED", "EVENT_TYPE_ACKNOWLEDGED", "EVENT_TYPE_RESOLVED"));
      EXPECT_THAT(
          EventsFor("teams/storage-oncall", names[i], 3),
          ElementsAre("EVENT_TYPE_ROUTED", "EVENT_TYPE_ACKNOWLEDGED", "EVENT_TYPE_RESOLVED"));
    } else {
      EXPECT_THAT(EventsFor("sources/crm", names[i], 2),
                  ElementsAre("EVENT_TYPE_RECEIVED", "EVENT_TYPE_ACKNOWLEDGED"));
    }
  }
}

// The flow under fire: issues submitted and worked to RESOLVED by the teams
// while each service in turn is killed with SIGKILL and restarted.
TEST_F(EndToEndTest, Kill9OfEachServiceMidFlowLosesAndDuplicatesNothing) {
  StartStack();
  const std::vector<std::string> products = {"azure-storage", "virtual-machines", "sql-database"};
  std::map<std::string, std::string> names;  // request id → issue name
  std::set<std::string> resolved;
  const auto product_of = [&](int i) { return products[i % products.size()]; };
  const auto submitter_of = [](int i) { return absl::StrCat("submitter", i % 4, "@contoso.com"); };

  // Moves every issue one step: ROUTED → ACKNOWLEDGED → RESOLVED.
  const auto work = [&] {
    for (const auto& [request_id, name] : names) {
      if (resolved.contains(name)) continue;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
      intake::v1::GetIssueRequest get;
      get.set_name(name);
      Issue issue;
      if (!stack_->intake().GetIssue(&context, get, &issue).ok()) continue;
      if (issue.state() == issue::v1::STATE_ROUTED) {
        (void)Acknowledge(issue);
      } else if (issue.state() == issue::v1::STATE_ACKNOWLEDGED) {
        (void)Resolve(issue);  // a retry after a lost reply may find it RESOLVED
      } else if (issue.state() == issue::v1::STATE_RESOLVED) {
        resolved.insert(name);
      }
    }
  };

  std::mt19937 random(std::random_device{}());
  int submitted = 0;
  for (Service victim : {Service::kIntake, Service::kRouting, Service::kNotification}) {
    std::atomic<bool> restarted{false};
    std::thread chaos([&] {
      absl::SleepFor(absl::Milliseconds(std::uniform_int_distribution<>(100, 400)(random)));
      stack_->Kill(victim);
      absl::SleepFor(absl::Milliseconds(300));
      EXPECT_TRUE(stack_->Start(victim).ok()) << stack_->LogTail(victim);
      restarted = true;
    });
    while (!restarted.load() || submitted % 20 != 0) {
      const int i = submitted++;
      const std::string request_id = absl::StrCat("r", i);
      const Issue issue = Submit(request_id, product_of(i), submitter_of(i));
      ASSERT_FALSE(issue.name().empty());
      names[request_id] = issue.name();
      work();
    }
    chaos.join();
  }
  // Retrying a submit gives back the same issue, never a second one.
  for (int i = 0; i < submitted; ++i) {
    const std::string request_id = absl::StrCat("r", i);
    const Issue again = Submit(request_id, product_of(i), submitter_of(i));
    EXPECT_EQ(again.name(), names[request_id]) << request_id;
  }

  const absl::Time deadline = absl::Now() + kPatience;
  while (resolved.size() < names.size() && absl::Now() < deadline) {
    work();
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(resolved.size(), names.size()) << "not every issue could be resolved";
  std::cout << submitted << " issues submitted and resolved through 3 kill -9s\n";

  intake::v1::ListIssuesRequest list;
  list.set_page_size(1000);
  intake::v1::ListIssuesResponse all;
  ASSERT_TRUE(Retry([&](grpc::ClientContext* context) {
                return stack_->intake().ListIssues(context, list, &all);
              }).ok());
  EXPECT_EQ(all.issues_size(), static_cast<int>(names.size())) << "duplicates were created";

  // Every subscriber's log: each event id once; the source heard each
  // issue's RECEIVED, ACKNOWLEDGED and RESOLVED.
  const auto expect_no_duplicates = [](const std::string& subscriber,
                                       const std::vector<Notification>& log) {
    std::set<std::string> ids;
    for (const Notification& n : log) {
      EXPECT_TRUE(ids.insert(n.event().id()).second)
          << subscriber << " got event " << n.event().id() << " twice";
    }
  };
  std::vector<Notification> source_log;
  while (absl::Now() < deadline + kPatience) {
    source_log = Log("sources/crm");
    if (source_log.size() >= 3 * names.size()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(source_log.size(), 3 * names.size());
  expect_no_duplicates("sources/crm", source_log);
  std::map<std::string, std::vector<std::string>> by_issue;
  for (const Notification& n : source_log) {
    by_issue[n.event().issue().name()].push_back(issue::v1::EventType_Name(n.event().type()));
  }
  for (const auto& [request_id, name] : names) {
    EXPECT_THAT(by_issue[name], ElementsAre("EVENT_TYPE_RECEIVED", "EVENT_TYPE_ACKNOWLEDGED",
                                            "EVENT_TYPE_RESOLVED"))
        << name;
  }
  for (const std::string subscriber :
       {"teams/storage-oncall", "teams/compute-oncall", "teams/databases-oncall",
        "teams/care-managers", "business-groups/cloud-infra", "submitters/submitter0@contoso.com",
        "submitters/submitter1@contoso.com"}) {
    const std::vector<Notification> log = Log(subscriber);
    EXPECT_FALSE(log.empty()) << subscriber;
    expect_no_duplicates(subscriber, log);
    for (size_t i = 0; i < log.size(); ++i) {
      EXPECT_EQ(log[i].sequence(), i + 1) << subscriber << ": sequences are dense";
    }
  }
}

}  // namespace
}  // namespace switchboard
