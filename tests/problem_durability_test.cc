// Broad problems under kill -9, on the real binaries with the sample
// ruleset: while issues of three correlation keys pour in, intake is killed
// and restarted again and again. Afterwards each key has exactly one
// problem, every acknowledged issue is linked to it exactly once with exact
// counts, and no log got a problem event twice. Then each problem is
// resolved with intake killed right after, and every issue ends RESOLVED,
// each submitter told once.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/sync.h"
#include "common/testing/subprocess.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

namespace switchboard {
namespace {

using intake::v1::IntakeService;
using issue::v1::Issue;
using issue::v1::Problem;

// Products of three business groups the sample's regional-outage policy
// covers (cloud-infra, data-ai), all in one region of this test's own.
constexpr const char* kProducts[] = {"azure-storage", "virtual-machines", "sql-database"};
constexpr char kRegion[] = "kill9-region";

std::string Tail(const std::string& path) {
  std::ifstream file(path);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return text.substr(text.size() > 3000 ? text.size() - 3000 : 0);
}

class ProblemDurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& [binary, target, name] :
         {std::tuple{"switchboard-routing", &routing_target_, "routing"},
          std::tuple{"switchboard-notification", &notification_target_, "notification"}}) {
      std::vector<std::string> args = {"--grpc_listen=" + *target,
                                       absl::StrCat("--data_dir=", dir_, "/", name)};
      if (std::string(name) == "routing") {
        args.push_back(std::string("--ruleset_file=") + SWITCHBOARD_SOURCE_DIR +
                       "/config/sample-ruleset.yaml");
      }
      auto child =
          testing::Subprocess::Start(testing::BinaryPath(binary), args,
                                     {.stderr_path = absl::StrCat(dir_, "/", name, ".log")});
      ASSERT_TRUE(child.ok()) << child.status();
      peers_.push_back(std::move(*child));
      ASSERT_TRUE(testing::WaitForServing(*target, absl::Seconds(30)).ok());
    }
    notification_ = notification::v1::NotificationService::NewStub(
        grpc::CreateChannel(notification_target_, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    intake_.reset();
    peers_.clear();
    std::filesystem::remove_all(dir_);
  }

  void StartIntake() {
    target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    auto child = testing::Subprocess::Start(
        testing::BinaryPath("switchboard-intake"),
        {"--grpc_listen=" + target_, "--data_dir=" + dir_ + "/intake",
         "--routing_target=" + routing_target_, "--notification_target=" + notification_target_},
        {.stderr_path = dir_ + "/intake.log"});
    ASSERT_TRUE(child.ok()) << child.status();
    intake_ = std::move(*child);
    ASSERT_TRUE(testing::WaitForServing(target_, absl::Seconds(30)).ok());
    stub_ =
        IntakeService::NewStub(grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
  }

  // Waits (bounded) until `condition` holds, polling.
  bool Eventually(absl::FunctionRef<bool()> condition, absl::Duration patience) {
    const absl::Time deadline = absl::Now() + patience;
    while (absl::Now() < deadline) {
      if (condition()) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return condition();
  }

  absl::StatusOr<Issue> GetIssue(const std::string& name) {
    intake::v1::GetIssueRequest request;
    request.set_name(name);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    Issue issue;
    const grpc::Status status = stub_->GetIssue(&context, request, &issue);
    if (!status.ok()) return absl::UnavailableError(status.error_message());
    return issue;
  }

  std::vector<std::string> IssuesOf(const std::string& problem) {
    std::vector<std::string> names;
    intake::v1::ListIssuesRequest request;
    request.set_filter(absl::StrCat("problem=", problem));
    request.set_page_size(1000);
    for (int page = 0; page < 100; ++page) {
      grpc::ClientContext context;
      intake::v1::ListIssuesResponse response;
      EXPECT_TRUE(stub_->ListIssues(&context, request, &response).ok());
      for (const Issue& issue : response.issues()) names.push_back(issue.name());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return names;
  }

  // How many notifications of `type` (about `about`, an issue or problem
  // name; "" for any) the subscriber's log holds.
  int Count(const std::string& subscriber, issue::v1::EventType type, const std::string& about) {
    int count = 0;
    notification::v1::ListNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_page_size(1000);
    for (int page = 0; page < 100; ++page) {
      grpc::ClientContext context;
      notification::v1::ListNotificationsResponse response;
      EXPECT_TRUE(notification_->ListNotifications(&context, request, &response).ok());
      for (const auto& notification : response.notifications()) {
        const issue::v1::IssueEvent& event = notification.event();
        const std::string& name = event.has_issue() ? event.issue().name() : event.problem().name();
        if (event.type() == type && (about.empty() || name == about)) ++count;
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return count;
  }

  const std::string dir_ = testing::MakeTempDir("problem_durability_test");
  const std::string routing_target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
  const std::string notification_target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
  std::vector<std::unique_ptr<testing::Subprocess>> peers_;
  std::unique_ptr<testing::Subprocess> intake_;
  std::string target_;
  std::unique_ptr<IntakeService::Stub> stub_;
  std::unique_ptr<notification::v1::NotificationService::Stub> notification_;
};

TEST_F(ProblemDurabilityTest, OneProblemPerKeyEachIssueLinkedOnceAndResolvedOnceAcrossKill9) {
  constexpr int kSubmitters = 6;
  std::mt19937 random(std::random_device{}());
  Mutex mu;
  std::map<std::string, std::string> acked;  // issue name → product

  for (int round = 0; round < 5; ++round) {
    StartIntake();
    auto channel = grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
    std::atomic<bool> stop{false};
    std::vector<std::thread> submitters;
    for (int s = 0; s < kSubmitters; ++s) {
      submitters.emplace_back([&, s] {
        auto stub = IntakeService::NewStub(channel);
        for (int i = 0; !stop && i < 100000; ++i) {
          const std::string id = absl::StrCat("r", round, "-s", s, "-", i);
          intake::v1::SubmitIssueRequest request;
          request.set_request_id(id);
          Issue& issue = *request.mutable_issue();
          issue.set_title("Writes fail across the region");
          issue.mutable_customer()->set_id(absl::StrCat("customer-", (s * 7 + i) % 40));
          issue.mutable_customer()->set_tier(issue::v1::CUSTOMER_TIER_ENTERPRISE);
          issue.set_product(kProducts[i % 3]);
          issue.set_region(kRegion);
          issue.set_severity(issue::v1::SEVERITY_HIGH);
          issue.set_source("crm");
          issue.set_submitter(absl::StrCat(id, "@crm.example"));
          grpc::ClientContext context;
          context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
          Issue created;
          if (stub->SubmitIssue(&context, request, &created).ok()) {
            MutexLock lock(mu);
            acked[created.name()] = issue.product();
          }
        }
      });
    }
    absl::SleepFor(absl::Milliseconds(200 + std::uniform_int_distribution<int>(0, 400)(random)));
    intake_->Kill();  // kill -9, mid-flight: routing, mail and events in progress
    stop = true;
    for (auto& thread : submitters) thread.join();
  }

  StartIntake();
  MutexLock lock(mu);
  ASSERT_GT(acked.size(), 50u);
  std::cerr << acked.size() << " issues acknowledged across 5 kill -9s\n";
  // Every acknowledged issue is routed and linked, eventually.
  std::map<std::string, std::string> problem_of;  // issue → problem
  ASSERT_TRUE(Eventually(
      [&] {
        for (const auto& [name, product] : acked) {
          if (problem_of.count(name) > 0) continue;
          absl::StatusOr<Issue> issue = GetIssue(name);
          if (!issue.ok() || issue->problem().empty()) return false;
          problem_of[name] = issue->problem();
        }
        return true;
      },
      absl::Seconds(120)))
      << problem_of.size() << " of " << acked.size() << " linked; intake said:\n"
      << Tail(dir_ + "/intake.log");

  // One problem per key.
  std::map<std::string, std::set<std::string>> problems_of_product;
  for (const auto& [name, product] : acked) problems_of_product[product].insert(problem_of[name]);
  ASSERT_EQ(problems_of_product.size(), 3u);
  for (const auto& [product, problems] : problems_of_product) {
    EXPECT_EQ(problems.size(), 1u)
        << product << " has problems " << ::testing::PrintToString(problems);
  }
  intake::v1::ListProblemsRequest list;
  list.set_filter("state=PROBLEM_STATE_OPEN");
  grpc::ClientContext list_context;
  intake::v1::ListProblemsResponse listed;
  ASSERT_TRUE(stub_->ListProblems(&list_context, list, &listed).ok());
  EXPECT_EQ(listed.problems_size(), 3);

  // Each linked once, with exact counts. Issues submitted but never
  // acknowledged (their reply lost to a kill) may be linked too: count from
  // the problem's own list.
  for (const Problem& problem : listed.problems()) {
    const std::vector<std::string> linked = IssuesOf(problem.name());
    EXPECT_EQ(problem.linked_issue_count(), static_cast<int>(linked.size())) << problem.name();
    std::set<std::string> customers;
    for (const std::string& name : linked) {
      absl::StatusOr<Issue> issue = GetIssue(name);
      ASSERT_TRUE(issue.ok());
      customers.insert(issue->customer().id());
    }
    EXPECT_EQ(problem.affected_customer_count(), static_cast<int>(customers.size()));
    std::cerr << problem.name() << " (" << problem.product() << "): " << linked.size()
              << " issues linked, " << customers.size() << " customers\n";
    EXPECT_TRUE(problem.escalated()) << "3 customers or more crossed the threshold";
    EXPECT_EQ(Count("business-groups/" + problem.owner().business_group(),
                    issue::v1::EVENT_TYPE_PROBLEM_OPENED, problem.name()),
              1);
    EXPECT_EQ(Count("business-groups/" + problem.owner().business_group(),
                    issue::v1::EVENT_TYPE_PROBLEM_ESCALATED, problem.name()),
              1);
  }

  // Resolve each problem; kill -9 right after the first reply.
  for (int i = 0; i < listed.problems_size(); ++i) {
    intake::v1::ResolveProblemRequest resolve;
    resolve.set_name(listed.problems(i).name());
    resolve.set_actor("lead");
    resolve.set_resolution("regional fix deployed");
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    Problem resolved;
    ASSERT_TRUE(stub_->ResolveProblem(&context, resolve, &resolved).ok());
    if (i == 0) {
      intake_->Kill();
      StartIntake();
    }
  }
  int unresolved = 0;
  EXPECT_TRUE(Eventually(
      [&] {
        unresolved = 0;
        for (const auto& [name, problem] : problem_of) {
          absl::StatusOr<Issue> issue = GetIssue(name);
          if (!issue.ok() || issue->state() != issue::v1::STATE_RESOLVED) ++unresolved;
        }
        return unresolved == 0;
      },
      absl::Seconds(120)))
      << unresolved << " issues not resolved; intake said:\n"
      << Tail(dir_ + "/intake.log");

  // Each submitter (one issue each) heard of the link and of the fix once.
  int checked = 0;
  EXPECT_TRUE(Eventually(
      [&] {
        checked = 0;
        for (const auto& [name, problem] : problem_of) {
          if (checked == 30) break;
          absl::StatusOr<Issue> issue = GetIssue(name);
          if (!issue.ok()) return false;
          const std::string subscriber = "submitters/" + issue->submitter();
          if (Count(subscriber, issue::v1::EVENT_TYPE_RESOLVED, name) != 1) return false;
          EXPECT_EQ(Count(subscriber, issue::v1::EVENT_TYPE_PROBLEM_LINKED, name), 1) << name;
          ++checked;
        }
        return true;
      },
      absl::Seconds(60)));
  EXPECT_EQ(checked, std::min<int>(30, static_cast<int>(problem_of.size())));
}

}  // namespace
}  // namespace switchboard
