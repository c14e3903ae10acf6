// SubmitIssue's promise, tested on the real binary: an acknowledged issue
// survives kill -9 at any moment, exactly once, and is routed once routing
// is reachable.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/sync.h"
#include "common/testing/subprocess.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

namespace switchboard {
namespace {

using intake::v1::IntakeService;

issue::v1::Issue NewIssue(const std::string& title) {
  issue::v1::Issue issue;
  issue.set_title(title);
  issue.set_description(std::string(512, 'd'));
  issue.mutable_customer()->set_id("contoso");
  issue.set_product("azure-storage");
  issue.set_severity(issue::v1::SEVERITY_HIGH);
  issue.set_source("crm");
  return issue;
}

std::string Tail(const std::string& path) {
  std::ifstream file(path);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return text.substr(text.size() > 3000 ? text.size() - 3000 : 0);
}

class IntakeDurabilityTest : public ::testing::Test {
 protected:
  void TearDown() override {
    child_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Start() {
    target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    auto child = testing::Subprocess::Start(
        testing::BinaryPath("switchboard-intake"),
        {"--grpc_listen=" + target_, "--data_dir=" + dir_ + "/data",
         "--routing_target=" + routing_target_, "--notification_target=127.0.0.1:1"},
        {.stderr_path = dir_ + "/stderr.log"});
    ASSERT_TRUE(child.ok()) << child.status();
    child_ = std::move(*child);
    ASSERT_TRUE(testing::WaitForServing(target_, absl::Seconds(30)).ok());
  }

  const std::string dir_ = testing::MakeTempDir("intake_durability_test");
  // Routing is not running until the end: issues wait in the route queue.
  const std::string routing_target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
  std::string target_;
  std::unique_ptr<testing::Subprocess> child_;
};

TEST_F(IntakeDurabilityTest, AcknowledgedIssuesSurviveKill9ExactlyOnce) {
  constexpr int kSubmitters = 6;
  std::mt19937 random(std::random_device{}());
  Mutex mu;
  absl::flat_hash_map<std::string, std::string> acked;  // request_id → name

  for (int round = 0; round < 3; ++round) {
    Start();
    auto channel = grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
    std::atomic<bool> stop{false};
    std::vector<std::thread> submitters;
    for (int s = 0; s < kSubmitters; ++s) {
      submitters.emplace_back([&, s] {
        auto stub = IntakeService::NewStub(channel);
        for (int i = 0; !stop && i < 100000; ++i) {
          intake::v1::SubmitIssueRequest request;
          request.set_request_id(absl::StrCat("r", round, "-s", s, "-", i));
          *request.mutable_issue() = NewIssue(request.request_id());
          grpc::ClientContext context;
          context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
          issue::v1::Issue issue;
          if (stub->SubmitIssue(&context, request, &issue).ok()) {
            MutexLock lock(mu);
            acked[request.request_id()] = issue.name();
          }
        }
      });
    }
    absl::SleepFor(absl::Milliseconds(300 + std::uniform_int_distribution<int>(0, 700)(random)));
    child_->Kill();  // kill -9, mid-flight
    stop = true;
    for (auto& thread : submitters) thread.join();
  }

  Start();
  auto stub =
      IntakeService::NewStub(grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
  MutexLock lock(mu);
  ASSERT_GT(acked.size(), 100u);
  int missing = 0;
  for (const auto& [request_id, name] : acked) {
    grpc::ClientContext context;
    intake::v1::GetIssueRequest get;
    get.set_name(name);
    issue::v1::Issue issue;
    const grpc::Status status = stub->GetIssue(&context, get, &issue);
    if (!status.ok() || issue.title() != request_id) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << acked.size() << " acknowledged issues";

  // Exactly once: no title (= request_id) appears twice among all issues,
  // and a retry of an acknowledged request returns the same issue.
  absl::flat_hash_set<std::string> titles;
  intake::v1::ListIssuesRequest list;
  list.set_page_size(1000);
  int duplicates = 0;
  for (int page = 0; page < 1000; ++page) {
    grpc::ClientContext context;
    intake::v1::ListIssuesResponse response;
    ASSERT_TRUE(stub->ListIssues(&context, list, &response).ok());
    for (const auto& issue : response.issues()) duplicates += !titles.insert(issue.title()).second;
    if (response.next_page_token().empty()) break;
    list.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(duplicates, 0);
  EXPECT_GE(titles.size(), acked.size());
  // Once routing is reachable, every acknowledged issue ends up ROUTED.
  auto routing = testing::Subprocess::Start(
      testing::BinaryPath("switchboard-routing"),
      {"--grpc_listen=" + routing_target_, "--data_dir=" + dir_ + "/routing",
       std::string("--ruleset_file=") + SWITCHBOARD_SOURCE_DIR + "/config/sample-ruleset.yaml"},
      {.stderr_path = dir_ + "/routing.log"});
  ASSERT_TRUE(routing.ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  bool drained = false;
  while (!drained && absl::Now() < deadline) {
    grpc::ClientContext context;
    intake::v1::ListIssuesRequest received;
    received.set_filter("state=STATE_RECEIVED");
    received.set_page_size(1);
    intake::v1::ListIssuesResponse response;
    drained = stub->ListIssues(&context, received, &response).ok() && response.issues().empty();
    if (!drained) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(drained) << "issues still RECEIVED after routing came back; intake said:\n"
                       << Tail(dir_ + "/stderr.log") << "\nrouting said:\n"
                       << Tail(dir_ + "/routing.log");
  int unrouted = 0;
  for (const auto& [request_id, name] : acked) {
    grpc::ClientContext context;
    intake::v1::GetIssueRequest get;
    get.set_name(name);
    issue::v1::Issue issue;
    if (!stub->GetIssue(&context, get, &issue).ok() || issue.state() != issue::v1::STATE_ROUTED ||
        issue.assignment().target().team().empty()) {
      ++unrouted;
    }
  }
  EXPECT_EQ(unrouted, 0);

  int retried = 0;
  for (const auto& [request_id, name] : acked) {
    if (++retried > 50) break;
    intake::v1::SubmitIssueRequest request;
    request.set_request_id(request_id);
    *request.mutable_issue() = NewIssue(request_id);
    grpc::ClientContext context;
    issue::v1::Issue issue;
    ASSERT_TRUE(stub->SubmitIssue(&context, request, &issue).ok());
    EXPECT_EQ(issue.name(), name);
  }
}

}  // namespace
}  // namespace switchboard
