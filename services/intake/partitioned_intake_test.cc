// Three intake partitions in-process on loopback, with fake routing and two
// fake notification partitions: any partition answers any call, issues live
// where their request_id says, ListIssues merges them, events go to the
// notification partition of each recipient, and a partition that is down
// fails only the calls that need it.
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/partition.h"
#include "common/testing/subprocess.h"
#include "services/intake/intake_server.h"
#include "services/intake/testing/fake_peers.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

namespace switchboard::intake {
namespace {

using issue::v1::Issue;
using ::testing::HasSubstr;

constexpr int kPartitions = 3;
constexpr int kNotificationPartitions = 2;
constexpr absl::Duration kPatience = absl::Seconds(20);

class PartitionedIntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int p = 0; p < kPartitions; ++p) {
      addresses_.push_back(absl::StrCat("127.0.0.1:", switchboard::testing::FreePort()));
      dirs_.push_back(switchboard::testing::MakeTempDir(absl::StrCat("partitioned_intake_", p)));
    }
    servers_.resize(kPartitions);
    for (int p = 0; p < kPartitions; ++p) ASSERT_TRUE(Start(p).ok());
  }

  void TearDown() override {
    servers_.clear();
    for (const std::string& dir : dirs_) std::filesystem::remove_all(dir);
  }

  absl::Status Start(int partition, int count = kPartitions) {
    Partitioning partitioning{.self = partition};
    partitioning.addresses.assign(addresses_.begin(), addresses_.begin() + count);
    IntakeServer::Options options{
        .data_dir = dirs_[partition],
        .partitioning = partitioning,
        .routing = &routing_,
        .notification_partitions = {&notifications_[0], &notifications_[1]},
        .route = {.loop = kLoop},
        .publish = {.loop = kLoop},
        .timers = kLoop,
        .mail = {.loop = kLoop},
        .sync = false,
    };
    options.server.grpc_listen = addresses_[partition];
    auto server = IntakeServer::Start(std::move(options));
    if (!server.ok()) return server.status();
    servers_[partition] = std::move(*server);
    return absl::OkStatus();
  }

  v1::IntakeService::Stub& Stub(int partition) {
    if (stubs_.count(partition) == 0) {
      stubs_[partition] = v1::IntakeService::NewStub(
          grpc::CreateChannel(addresses_[partition], grpc::InsecureChannelCredentials()));
    }
    return *stubs_[partition];
  }

  static v1::SubmitIssueRequest Request(const std::string& request_id, const std::string& title) {
    v1::SubmitIssueRequest request;
    Issue& issue = *request.mutable_issue();
    issue.set_title(title);
    issue.mutable_customer()->set_id("contoso");
    issue.set_product(request_id.size() % 2 ? "storage" : "compute");
    issue.set_severity(issue::v1::SEVERITY_HIGH);
    issue.set_source("crm");
    issue.set_submitter("jane");
    request.set_request_id(request_id);
    return request;
  }

  grpc::Status Submit(int via, const v1::SubmitIssueRequest& request, Issue* out) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return Stub(via).SubmitIssue(&context, request, out);
  }

  grpc::Status Get(int via, const std::string& name, Issue* out) {
    v1::GetIssueRequest request;
    request.set_name(name);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return Stub(via).GetIssue(&context, request, out);
  }

  // Every page of ListIssues, each next page asked of the next partition.
  grpc::Status ListAll(int first, const std::string& filter, int page_size,
                       std::vector<std::string>* names) {
    v1::ListIssuesRequest request;
    request.set_filter(filter);
    request.set_page_size(page_size);
    for (int page = 0, via = first; page < 1000; ++page, via = (via + 1) % kPartitions) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      v1::ListIssuesResponse response;
      grpc::Status status = Stub(via).ListIssues(&context, request, &response);
      if (!status.ok()) return status;
      EXPECT_LE(response.issues_size(), page_size);
      for (const Issue& issue : response.issues()) names->push_back(issue.name());
      if (response.next_page_token().empty()) return grpc::Status::OK;
      request.set_page_token(response.next_page_token());
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, "the list never ended");
  }

  grpc::Status GetProblem(int via, const std::string& name, issue::v1::Problem* out) {
    v1::GetProblemRequest request;
    request.set_name(name);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return Stub(via).GetProblem(&context, request, out);
  }

  // An issue of the fake routing's correlation key for storage in emea.
  static v1::SubmitIssueRequest OutageRequest(const std::string& request_id,
                                              const std::string& customer) {
    v1::SubmitIssueRequest request = Request(request_id, "blob writes fail");
    request.mutable_issue()->set_product("storage");
    request.mutable_issue()->set_region("emea");
    request.mutable_issue()->mutable_customer()->set_id(customer);
    return request;
  }
  static constexpr char kOutageKey[] = "outage|product=storage|region=emea";

  bool Eventually(absl::FunctionRef<bool()> condition) {
    const absl::Time deadline = absl::Now() + kPatience;
    while (absl::Now() < deadline) {
      if (condition()) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return condition();
  }

  static constexpr WorkerLoop::Options kLoop = {
      .idle_poll = absl::Milliseconds(200),
      .backoff = {.initial = absl::Milliseconds(10), .max = absl::Milliseconds(100)}};
  std::vector<std::string> addresses_;
  std::vector<std::string> dirs_;
  fakes::FakeRouting routing_;
  fakes::FakeNotification notifications_[kNotificationPartitions];
  std::vector<std::unique_ptr<IntakeServer>> servers_;
  std::map<int, std::unique_ptr<v1::IntakeService::Stub>> stubs_;
};

TEST_F(PartitionedIntakeTest, AnIssueLivesInThePartitionOfItsRequestIdWhicheverTookIt) {
  std::map<int, int> per_partition;
  for (int i = 0; i < 60; ++i) {
    const std::string request_id = absl::StrCat("req-", i);
    Issue issue;
    ASSERT_TRUE(Submit(i % kPartitions, Request(request_id, "disk full"), &issue).ok());
    const int owner = PartitionOf(request_id, kPartitions);
    EXPECT_EQ(IssuePartitionOf(issue.name(), kPartitions), owner) << issue.name();
    EXPECT_TRUE(servers_[owner]->core().Current(IssueIdFromName(issue.name())).ok());
    ++per_partition[owner];
    // A retry through another partition is the same issue; another issue
    // under the same request_id is refused, wherever it is sent.
    Issue again;
    ASSERT_TRUE(Submit((i + 1) % kPartitions, Request(request_id, "disk full"), &again).ok());
    EXPECT_EQ(again.name(), issue.name());
    EXPECT_EQ(Submit((i + 2) % kPartitions, Request(request_id, "other"), &again).error_code(),
              grpc::StatusCode::ALREADY_EXISTS);
  }
  EXPECT_EQ(per_partition.size(), 3u);
}

TEST_F(PartitionedIntakeTest, AnyPartitionReadsAndChangesAnyIssue) {
  Issue issue;
  ASSERT_TRUE(Submit(0, Request("ack-me", "disk full"), &issue).ok());
  const int owner = IssuePartitionOf(issue.name(), kPartitions);
  for (int via = 0; via < kPartitions; ++via) {
    Issue got;
    ASSERT_TRUE(Get(via, issue.name(), &got).ok()) << via;
    EXPECT_EQ(got.name(), issue.name());
  }
  ASSERT_TRUE(Eventually([&] {
    Issue got;
    return Get(0, issue.name(), &got).ok() && got.state() == issue::v1::STATE_ROUTED;
  }));
  const int other = (owner + 1) % kPartitions;
  v1::AcknowledgeIssueRequest ack;
  ack.set_name(issue.name());
  ack.set_actor("sam");
  grpc::ClientContext context;
  Issue acknowledged;
  ASSERT_TRUE(Stub(other).AcknowledgeIssue(&context, ack, &acknowledged).ok());
  EXPECT_EQ(acknowledged.state(), issue::v1::STATE_ACKNOWLEDGED);
  EXPECT_EQ(servers_[owner]->core().Current(IssueIdFromName(issue.name()))->state(),
            issue::v1::STATE_ACKNOWLEDGED);
  // A name of no partition is simply not found.
  Issue missing;
  EXPECT_EQ(Get(other, "issues/01hzzzzzzzzzzzzzzzzzzzzzzz", &missing).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(PartitionedIntakeTest, ListIssuesMergesEveryPartitionNewestFirstOnce) {
  std::set<std::string> submitted;
  for (int i = 0; i < 45; ++i) {
    Issue issue;
    ASSERT_TRUE(Submit(i % kPartitions, Request(absl::StrCat("list-", i), "slow"), &issue).ok());
    submitted.insert(issue.name());
  }
  for (int page_size : {1, 7, 100}) {
    for (int first = 0; first < kPartitions; ++first) {
      std::vector<std::string> names;
      ASSERT_TRUE(ListAll(first, "", page_size, &names).ok());
      EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), submitted);
      EXPECT_EQ(names.size(), submitted.size()) << "an issue came twice";
      EXPECT_TRUE(std::is_sorted(names.rbegin(), names.rend())) << "not newest first";
    }
  }
  std::vector<std::string> storage;
  ASSERT_TRUE(ListAll(1, "product=storage", 4, &storage).ok());
  EXPECT_FALSE(storage.empty());
  EXPECT_LT(storage.size(), submitted.size());

  // A token is bound to its query wherever it is sent.
  v1::ListIssuesRequest request;
  request.set_page_size(2);
  v1::ListIssuesResponse first;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(Stub(0).ListIssues(&context, request, &first).ok());
  }
  request.set_page_token(first.next_page_token());
  request.set_filter("product=storage");
  for (int via = 0; via < kPartitions; ++via) {
    grpc::ClientContext context;
    v1::ListIssuesResponse response;
    EXPECT_EQ(Stub(via).ListIssues(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(PartitionedIntakeTest, EventsGoToTheNotificationPartitionOfEachRecipient) {
  std::set<std::string> names;
  for (int i = 0; i < 30; ++i) {
    Issue issue;
    ASSERT_TRUE(Submit(i % kPartitions, Request(absl::StrCat("events-", i), "t"), &issue).ok());
    names.insert(issue.name());
  }
  // RECEIVED goes to sources/crm; ROUTED to the team, its group and the
  // watching team (the fake routes product P to cloud's "P-team", watched
  // by care-managers).
  auto recipients_by_event = [&] {
    std::map<std::string, std::set<std::string>> by_event;
    for (int q = 0; q < kNotificationPartitions; ++q) {
      for (const auto& event : notifications_[q].events()) {
        for (const std::string& recipient : event.recipients()) {
          EXPECT_EQ(PartitionOf(recipient, kNotificationPartitions), q) << recipient;
          by_event[event.id()].insert(recipient);
        }
      }
    }
    return by_event;
  };
  // Each ROUTED event comes in parts, one per notification partition.
  ASSERT_TRUE(Eventually([&] {
    size_t recipients = 0;
    for (const auto& [id, to] : recipients_by_event()) recipients += to.size();
    return recipients == 30 * 1 + 30 * 3;
  }));
  EXPECT_EQ(recipients_by_event().size(), 60u);
  for (const auto& [id, recipients] : recipients_by_event()) {
    if (absl::EndsWith(id, "/received")) {
      EXPECT_EQ(recipients, (std::set<std::string>{"sources/crm"})) << id;
    } else {
      const std::string team =
          recipients.count("teams/storage-team") ? "teams/storage-team" : "teams/compute-team";
      EXPECT_EQ(recipients,
                (std::set<std::string>{team, "business-groups/cloud", "teams/care-managers"}))
          << id;
    }
  }
}

TEST_F(PartitionedIntakeTest, APartitionThatIsDownFailsOnlyTheCallsThatNeedIt) {
  std::map<int, Issue> one_in;
  for (int i = 0; one_in.size() < kPartitions && i < 100; ++i) {
    const std::string request_id = absl::StrCat("down-", i);
    const int owner = PartitionOf(request_id, kPartitions);
    if (one_in.count(owner) > 0) continue;
    ASSERT_TRUE(Submit(0, Request(request_id, "t"), &one_in[owner]).ok());
  }
  servers_[2].reset();
  Issue got;
  EXPECT_TRUE(Get(1, one_in[0].name(), &got).ok());
  EXPECT_TRUE(Get(0, one_in[1].name(), &got).ok());
  grpc::Status down = Get(0, one_in[2].name(), &got);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(down.error_message(), HasSubstr("intake partition 2 (" + addresses_[2] + ")"));
  std::vector<std::string> names;
  grpc::Status listed = ListAll(0, "", 10, &names);
  EXPECT_EQ(listed.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(listed.error_message(), HasSubstr("intake partition 2"));
  for (int i = 0; i < 20; ++i) {
    const std::string request_id = absl::StrCat("while-down-", i);
    Issue issue;
    const grpc::Status status = Submit(1, Request(request_id, "t"), &issue);
    EXPECT_EQ(status.ok(), PartitionOf(request_id, kPartitions) != 2) << status.error_message();
  }
  // Back with its data: everything is there again, once the others'
  // channels have reconnected (their backoff is capped at 2 s).
  ASSERT_TRUE(Start(2).ok());
  EXPECT_TRUE(Eventually([&] { return Get(0, one_in[2].name(), &got).ok(); }));
}

TEST_F(PartitionedIntakeTest, AStoreStartedWithAnotherCountOfPartitionsRefusesToStart) {
  servers_[1].reset();
  absl::Status refused = Start(1, 2);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("belongs to partition 1/3"));
}

TEST_F(PartitionedIntakeTest, IssuesOfOneKeyFromEveryPartitionMeetInOneProblemWhereItsKeyLives) {
  std::vector<Issue> issues;
  std::set<int> homes;
  for (int i = 0; i < 12; ++i) {
    Issue issue;
    ASSERT_TRUE(Submit(i % kPartitions,
                       OutageRequest(absl::StrCat("outage-", i), absl::StrCat("customer-", i % 4)),
                       &issue)
                    .ok());
    homes.insert(IssuePartitionOf(issue.name(), kPartitions));
    issues.push_back(issue);
  }
  ASSERT_GT(homes.size(), 1u) << "the issues should live in several partitions";
  std::string problem_name;
  ASSERT_TRUE(Eventually([&] {
    for (const Issue& issue : issues) {
      Issue got;
      if (!Get(0, issue.name(), &got).ok() || got.problem().empty()) return false;
      if (problem_name.empty()) problem_name = got.problem();
      EXPECT_EQ(got.problem(), problem_name) << issue.name();
    }
    return true;
  }));
  // The problem was made by the partition its key hashes to.
  EXPECT_EQ(IssuePartitionOf(IssueName(ProblemIdFromName(problem_name)), kPartitions),
            PartitionOf(kOutageKey, kPartitions));
  for (int via = 0; via < kPartitions; ++via) {
    issue::v1::Problem problem;
    ASSERT_TRUE(GetProblem(via, problem_name, &problem).ok()) << via;
    EXPECT_EQ(problem.linked_issue_count(), 12);
    EXPECT_EQ(problem.affected_customer_count(), 4);
    EXPECT_TRUE(problem.escalated());
    EXPECT_EQ(problem.linked_issues_size(), 12);
  }
  // ListProblems walks every partition and finds it once.
  v1::ListProblemsRequest list;
  list.set_page_size(1);
  std::vector<std::string> listed;
  for (int page = 0, via = 1; page < 20; ++page, via = (via + 1) % kPartitions) {
    grpc::ClientContext context;
    v1::ListProblemsResponse response;
    ASSERT_TRUE(Stub(via).ListProblems(&context, list, &response).ok());
    for (const issue::v1::Problem& problem : response.problems()) listed.push_back(problem.name());
    if (response.next_page_token().empty()) break;
    list.set_page_token(response.next_page_token());
  }
  EXPECT_THAT(listed, ::testing::ElementsAre(problem_name));

  // Resolved once, through any partition: every issue, wherever it lives.
  v1::ResolveProblemRequest resolve;
  resolve.set_name(problem_name);
  resolve.set_actor("lead");
  resolve.set_resolution("throttling limit raised");
  grpc::ClientContext context;
  issue::v1::Problem resolved;
  ASSERT_TRUE(Stub(2).ResolveProblem(&context, resolve, &resolved).ok());
  EXPECT_EQ(resolved.state(), issue::v1::PROBLEM_STATE_RESOLVED);
  EXPECT_TRUE(Eventually([&] {
    for (const Issue& issue : issues) {
      Issue got;
      if (!Get(1, issue.name(), &got).ok() || got.state() != issue::v1::STATE_RESOLVED) {
        return false;
      }
      EXPECT_EQ(got.resolution(), "throttling limit raised");
    }
    return true;
  }));
}

TEST_F(PartitionedIntakeTest, LinksByHandAndATransferCrossPartitions) {
  std::vector<Issue> outage;
  for (int i = 0; i < 3; ++i) {
    Issue issue;
    ASSERT_TRUE(
        Submit(i, OutageRequest(absl::StrCat("hand-outage-", i), absl::StrCat("c", i)), &issue)
            .ok());
    outage.push_back(issue);
  }
  std::string problem_name;
  ASSERT_TRUE(Eventually([&] {
    Issue got;
    if (!Get(0, outage[0].name(), &got).ok()) return false;
    problem_name = got.problem();
    return !problem_name.empty();
  }));
  // Issues no policy grouped (no region), living in several partitions,
  // each linked by hand through another partition than its own.
  std::vector<Issue> loners;
  std::set<int> homes;
  for (int i = 0; i < 6; ++i) {
    v1::SubmitIssueRequest request = Request(absl::StrCat("hand-loner-", i), "slow writes");
    request.mutable_issue()->set_product("compute");
    request.mutable_issue()->mutable_customer()->set_id(absl::StrCat("loner-", i));
    Issue issue;
    ASSERT_TRUE(Submit(i % kPartitions, request, &issue).ok());
    homes.insert(IssuePartitionOf(issue.name(), kPartitions));
    loners.push_back(issue);
  }
  ASSERT_GT(homes.size(), 1u);
  for (int i = 0; i < static_cast<int>(loners.size()); ++i) {
    ASSERT_TRUE(Eventually([&] {
      Issue got;
      return Get(0, loners[i].name(), &got).ok() && got.state() == issue::v1::STATE_ROUTED;
    }));
    v1::LinkIssueRequest link;
    link.set_name(loners[i].name());
    link.set_problem(problem_name);
    link.set_actor("oncall");
    grpc::ClientContext context;
    Issue linked;
    const int via = (IssuePartitionOf(loners[i].name(), kPartitions) + 1) % kPartitions;
    grpc::Status status = Stub(via).LinkIssue(&context, link, &linked);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(linked.problem(), problem_name);
    EXPECT_EQ(linked.assignment().target().team(), "storage-team");
  }
  issue::v1::Problem problem;
  EXPECT_TRUE(Eventually([&] {
    return GetProblem(1, problem_name, &problem).ok() && problem.linked_issue_count() == 9;
  })) << problem.linked_issue_count();
  EXPECT_EQ(problem.affected_customer_count(), 9);

  v1::UnlinkIssueRequest unlink;
  unlink.set_name(loners[0].name());
  unlink.set_problem(problem_name);
  unlink.set_actor("oncall");
  {
    grpc::ClientContext context;
    Issue unlinked;
    ASSERT_TRUE(Stub(2).UnlinkIssue(&context, unlink, &unlinked).ok());
    EXPECT_TRUE(unlinked.problem().empty());
  }
  EXPECT_TRUE(Eventually([&] {
    return GetProblem(2, problem_name, &problem).ok() && problem.linked_issue_count() == 8;
  })) << problem.linked_issue_count();
  EXPECT_EQ(problem.affected_customer_count(), 8);

  v1::TransferProblemRequest transfer;
  transfer.set_name(problem_name);
  transfer.set_actor("lead");
  transfer.mutable_target()->set_business_group("cloud");
  transfer.mutable_target()->set_team("quota-team");
  {
    grpc::ClientContext context;
    issue::v1::Problem moved;
    grpc::Status status = Stub(0).TransferProblem(&context, transfer, &moved);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(moved.owner().team(), "quota-team");
  }
  std::vector<Issue> members = outage;
  members.insert(members.end(), loners.begin() + 1, loners.end());
  EXPECT_TRUE(Eventually([&] {
    for (const Issue& issue : members) {
      Issue got;
      if (!Get(1, issue.name(), &got).ok() || got.assignment().target().team() != "quota-team") {
        return false;
      }
    }
    return true;
  }));
  Issue left;
  ASSERT_TRUE(Get(1, loners[0].name(), &left).ok());
  EXPECT_EQ(left.assignment().target().team(), "storage-team") << "the unlinked issue stays";
}

TEST_F(PartitionedIntakeTest, WhileTheKeysPartitionIsDownIssuesAreRoutedAndLinkOnItsReturn) {
  const int home = PartitionOf(kOutageKey, kPartitions);
  servers_[home].reset();
  // Issues that live elsewhere, submitted to a partition that is up.
  const int via = (home + 1) % kPartitions;
  std::vector<Issue> issues;
  for (int i = 0; issues.size() < 3 && i < 100; ++i) {
    const std::string request_id = absl::StrCat("while-down-", i);
    if (PartitionOf(request_id, kPartitions) == home) continue;
    Issue issue;
    ASSERT_TRUE(Submit(via, OutageRequest(request_id, absl::StrCat("c", i)), &issue).ok());
    issues.push_back(issue);
  }
  ASSERT_THAT(issues, ::testing::SizeIs(3));
  ASSERT_TRUE(Eventually([&] {
    for (const Issue& issue : issues) {
      Issue got;
      if (!Get(via, issue.name(), &got).ok() || got.state() != issue::v1::STATE_ROUTED) {
        return false;
      }
      EXPECT_TRUE(got.problem().empty());
    }
    return true;
  }));
  ASSERT_TRUE(Start(home).ok());
  ASSERT_TRUE(Eventually([&] {
    for (const Issue& issue : issues) {
      Issue got;
      if (!Get(via, issue.name(), &got).ok() || got.problem().empty()) return false;
    }
    return true;
  }));
  Issue first;
  ASSERT_TRUE(Get(via, issues[0].name(), &first).ok());
  issue::v1::Problem problem;
  ASSERT_TRUE(GetProblem(via, first.problem(), &problem).ok());
  EXPECT_EQ(problem.linked_issue_count(), 3);
}

}  // namespace
}  // namespace switchboard::intake
