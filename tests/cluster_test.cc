// A cluster on one machine, as scripts/run-cluster.sh runs it: 3 intake
// partitions, 3 notification partitions, a routing writer and a replica,
// real processes on loopback. A client submits, acknowledges and resolves
// through one balanced entry point (as through a Kubernetes Service) while
// one partition of each service at a time is killed with SIGKILL and
// restarted, several times. Afterwards: every acknowledged issue exists
// exactly once, in the state of its last successful call; every
// subscriber's log is dense, with no event twice. The availability seen
// during each outage is printed (bench/RESULTS.md keeps a run's figures).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/channel.h"
#include "common/partition.h"
#include "common/testing/subprocess.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

namespace switchboard {
namespace {

using issue::v1::Issue;

constexpr int kPartitions = 3;
constexpr int kRounds = 3;

struct Member {
  std::string name;
  std::string binary;
  std::string address;
  std::vector<std::string> args;
  std::unique_ptr<testing::Subprocess> process;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto address = [] { return absl::StrCat("127.0.0.1:", testing::FreePort()); };
    std::vector<std::string> intake, notification, routing;
    for (int p = 0; p < kPartitions; ++p) intake.push_back(address());
    for (int p = 0; p < kPartitions; ++p) notification.push_back(address());
    for (int r = 0; r < 2; ++r) routing.push_back(address());
    intake_target_ = absl::StrJoin(intake, ",");
    notification_target_ = absl::StrJoin(notification, ",");
    const std::string data = dir_ + "/data/";
    members_.push_back({"routing-0",
                        "switchboard-routing",
                        routing[0],
                        {"--data_dir=" + data + "routing-0",
                         "--ruleset_file=" SWITCHBOARD_SOURCE_DIR "/config/sample-ruleset.yaml"}});
    members_.push_back(
        {"routing-1", "switchboard-routing", routing[1], {"--ruleset_source=" + routing[0]}});
    for (int p = 0; p < kPartitions; ++p) {
      members_.push_back(
          {absl::StrCat("notification-", p),
           "switchboard-notification",
           notification[p],
           {absl::StrCat("--data_dir=", data, "notification-", p), absl::StrCat("--partition=", p),
            "--partition_addresses=" + notification_target_}});
    }
    for (int p = 0; p < kPartitions; ++p) {
      members_.push_back(
          {absl::StrCat("intake-", p),
           "switchboard-intake",
           intake[p],
           {absl::StrCat("--data_dir=", data, "intake-", p), absl::StrCat("--partition=", p),
            "--partition_addresses=" + intake_target_,
            "--routing_target=" + absl::StrJoin(routing, ","),
            "--notification_target=" + notification_target_, "--peer_timeout=2s"}});
    }
    for (Member& member : members_) ASSERT_NO_FATAL_FAILURE(Start(member));
    // One entry point: every intake partition, balanced, as a Service is.
    intake_ = intake::v1::IntakeService::NewStub(
        MakeServiceChannel(intake_target_, grpc::InsecureChannelCredentials(),
                           {intake::v1::IntakeService::service_full_name()}));
    notify_ = notification::v1::NotificationService::NewStub(
        MakeServiceChannel(notification_target_, grpc::InsecureChannelCredentials(),
                           {notification::v1::NotificationService::service_full_name()}));
  }

  void TearDown() override {
    for (Member& member : members_) {
      if (member.process != nullptr) member.process->Signal(SIGTERM);
    }
    for (Member& member : members_) {
      if (member.process != nullptr) (void)member.process->Wait(absl::Seconds(15));
    }
    members_.clear();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  void Start(Member& member) {
    std::vector<std::string> args = member.args;
    args.push_back("--grpc_listen=" + member.address);
    auto process = testing::Subprocess::Start(testing::BinaryPath(member.binary), args,
                                              {.stderr_path = dir_ + "/" + member.name + ".log"});
    ASSERT_TRUE(process.ok()) << process.status();
    member.process = std::move(*process);
    ASSERT_TRUE(testing::WaitForServing(member.address, absl::Seconds(30)).ok())
        << member.name << " did not start; see " << dir_ << "/" << member.name << ".log";
  }

  Member& Find(const std::string& name) {
    for (Member& member : members_) {
      if (member.name == name) return member;
    }
    ADD_FAILURE() << "no member " << name;
    return members_.front();
  }

  // A call with the client's deadline: short while the work goes on, so that
  // a call waiting on a dead partition does not hold up the ones after it.
  template <typename Call>
  grpc::Status WithDeadline(Call call) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
    return call(context);
  }

  // One step of the client: submit a new issue, and acknowledge or resolve
  // an earlier one. Counts the calls and their outcomes in `window`.
  struct Window {
    int calls = 0;
    int ok = 0;
    int needing_dead = 0;  // calls that needed the partition that was down
    int ok_needing_dead = 0;
  };

  void Step(int dead_intake, Window& window) {
    const int n = next_++;
    intake::v1::SubmitIssueRequest submit;
    submit.set_request_id(absl::StrCat("cluster-", n));
    Issue& issue = *submit.mutable_issue();
    issue.set_title(absl::StrCat("Blob writes fail ", n));
    issue.set_product("azure-storage");
    issue.set_severity(issue::v1::SEVERITY_HIGH);
    issue.set_source("crm");
    issue.mutable_customer()->set_id(absl::StrCat("customer-", n % 17));
    Issue submitted;
    const grpc::Status status = WithDeadline([&](grpc::ClientContext& context) {
      return intake_->SubmitIssue(&context, submit, &submitted);
    });
    const bool needs_dead = PartitionOf(submit.request_id(), kPartitions) == dead_intake;
    Count(window, status.ok(), needs_dead);
    if (status.ok()) {
      expected_[submitted.name()] = issue::v1::STATE_ROUTED;
      names_.push_back(submitted.name());
    }
    // Move an earlier issue on: acknowledge it, or resolve one acknowledged.
    if (names_.size() < 5) return;
    const std::string& name = names_[(n * 7) % names_.size()];
    const int owner = IssuePartition(name);
    if (expected_[name] == issue::v1::STATE_ROUTED) {
      intake::v1::AcknowledgeIssueRequest ack;
      ack.set_name(name);
      ack.set_actor("oncall");
      Issue acknowledged;
      const grpc::Status acked = WithDeadline([&](grpc::ClientContext& context) {
        return intake_->AcknowledgeIssue(&context, ack, &acknowledged);
      });
      // Not routed yet is the caller's timing, not an outage.
      if (acked.error_code() == grpc::StatusCode::FAILED_PRECONDITION) return;
      Count(window, acked.ok(), owner == dead_intake);
      if (acked.ok()) expected_[name] = issue::v1::STATE_ACKNOWLEDGED;
    } else if (expected_[name] == issue::v1::STATE_ACKNOWLEDGED) {
      intake::v1::ResolveIssueRequest resolve;
      resolve.set_name(name);
      resolve.set_actor("oncall");
      resolve.set_resolution("fixed");
      Issue resolved;
      const grpc::Status done = WithDeadline([&](grpc::ClientContext& context) {
        return intake_->ResolveIssue(&context, resolve, &resolved);
      });
      Count(window, done.ok(), owner == dead_intake);
      if (done.ok()) expected_[name] = issue::v1::STATE_RESOLVED;
    }
  }

  static void Count(Window& window, bool ok, bool needs_dead) {
    ++window.calls;
    window.ok += ok;
    if (needs_dead) {
      ++window.needing_dead;
      window.ok_needing_dead += ok;
    }
  }

  static int IssuePartition(const std::string& name) {
    // "issues/" + 10 characters of time, then the partition in 2 (base32).
    static constexpr char kDigits[] = "0123456789abcdefghjkmnpqrstvwxyz";
    auto digit = [](char c) { return static_cast<int>(std::string(kDigits).find(c)); };
    return digit(name[7 + 10]) * 32 + digit(name[7 + 11]);
  }

  Window RunFor(absl::Duration duration, int dead_intake) {
    Window window;
    const absl::Time end = absl::Now() + duration;
    while (absl::Now() < end) Step(dead_intake, window);
    return window;
  }

  // Every issue, through the merged list.
  std::map<std::string, issue::v1::State> Listed(grpc::Status* status) {
    std::map<std::string, issue::v1::State> listed;
    intake::v1::ListIssuesRequest request;
    request.set_page_size(500);
    for (int page = 0; page < 1000; ++page) {
      intake::v1::ListIssuesResponse response;
      *status = WithDeadline([&](grpc::ClientContext& context) {
        return intake_->ListIssues(&context, request, &response);
      });
      if (!status->ok()) return listed;
      for (const Issue& issue : response.issues()) {
        EXPECT_TRUE(listed.emplace(issue.name(), issue.state()).second)
            << issue.name() << " listed twice";
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return listed;
  }

  const std::string dir_ = testing::MakeTempDir("cluster_test");
  std::vector<Member> members_;
  std::string intake_target_;
  std::string notification_target_;
  std::unique_ptr<intake::v1::IntakeService::Stub> intake_;
  std::unique_ptr<notification::v1::NotificationService::Stub> notify_;
  absl::Duration deadline_ = absl::Milliseconds(500);
  int next_ = 0;
  std::map<std::string, issue::v1::State> expected_;
  std::vector<std::string> names_;
};

TEST_F(ClusterTest, KilledPartitionsLoseNothingAndOnlyTheirCallsFail) {
  Window warmup = RunFor(absl::Seconds(2), -1);
  EXPECT_EQ(warmup.ok, warmup.calls) << "before any outage";

  for (int round = 0; round < kRounds; ++round) {
    const int victim = (round + 1) % kPartitions;
    for (const std::string service : {"intake", "notification"}) {
      Member& member = Find(absl::StrCat(service, "-", victim));
      member.process->Kill();
      const bool intake_down = service == "intake";
      Window outage = RunFor(absl::Seconds(3), intake_down ? victim : -1);
      const int others = outage.calls - outage.needing_dead;
      const int others_ok = outage.ok - outage.ok_needing_dead;
      std::printf(
          "round %d, %s partition %d killed: %d/%d calls OK (%.1f %%); calls that do not need "
          "it: %d/%d OK\n",
          round + 1, service.c_str(), victim, outage.ok, outage.calls,
          100.0 * outage.ok / std::max(1, outage.calls), others_ok, others);
      // What does not need the dead partition goes on.
      EXPECT_GE(others_ok, others - 1) << service << " partition " << victim << " down";
      EXPECT_GE(others, 5) << "too few calls to tell";
      ASSERT_NO_FATAL_FAILURE(Start(member));
      RunFor(absl::Seconds(1), -1);
    }
  }

  // Every issue acknowledged to the client exists once, and ends in the state
  // of its last successful call (routing catches up on what was submitted).
  deadline_ = absl::Seconds(10);
  std::map<std::string, issue::v1::State> listed;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  bool settled = false;
  while (!settled && absl::Now() < deadline) {
    grpc::Status status;
    listed = Listed(&status);
    settled = status.ok() && listed == expected_;
    if (!settled) absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(listed.size(), expected_.size());
  int wrong = 0;
  for (const auto& [name, state] : expected_) {
    auto found = listed.find(name);
    if (found == listed.end() || found->second != state) ++wrong;
  }
  EXPECT_EQ(wrong, 0) << "of " << expected_.size() << " issues";

  // Every log is dense and holds each event once.
  for (const std::string subscriber :
       {"teams/storage-oncall", "sources/crm", "business-groups/cloud-infra"}) {
    notification::v1::ListNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_page_size(1000);
    uint64_t expected_sequence = 1;
    std::set<std::string> ids;
    for (int page = 0; page < 1000; ++page) {
      notification::v1::ListNotificationsResponse response;
      ASSERT_TRUE(WithDeadline([&](grpc::ClientContext& context) {
                    return notify_->ListNotifications(&context, request, &response);
                  }).ok());
      for (const auto& notification : response.notifications()) {
        EXPECT_EQ(notification.sequence(), expected_sequence++) << subscriber;
        EXPECT_TRUE(ids.insert(notification.event().id()).second)
            << subscriber << " has " << notification.event().id() << " twice";
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    std::printf("%s: %zu notifications, dense, none twice\n", subscriber.c_str(), ids.size());
    EXPECT_GT(ids.size(), 0u) << subscriber;
  }
}

}  // namespace
}  // namespace switchboard
