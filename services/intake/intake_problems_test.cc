// Broad problems in one intake partition: routed issues of one correlation
// key open one problem and link to it, through the partition's own mail, and
// every message applied twice changes nothing.
#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/sync.h"
#include "common/testing/subprocess.h"
#include "services/intake/intake_core.h"
#include "services/intake/mail_loop.h"
#include "services/intake/problem_census.h"
#include "services/intake/testing/fake_peers.h"

namespace switchboard::intake {
namespace {

using issue::v1::Issue;
using issue::v1::IssueEvent;
using issue::v1::Problem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kKey[] = "regional-outage|product=azure-storage|region=emea";

class IntakeProblemsTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    auto intake = IntakeStore::Open({.path = dir_, .sync = false}, clock_, nullptr);
    ASSERT_TRUE(intake.ok()) << intake.status();
    intake_ = std::move(*intake);
    auto core = IntakeCore::Create(*intake_, metrics_, routing_, clock_);
    ASSERT_TRUE(core.ok()) << core.status();
    core_ = std::move(*core);
    peer_ = MakeLocalMailPeer(*core_);
    mail_ = std::make_unique<MailLoop>(0, intake_->mail(0), *core_, *peer_, metrics_, clock_,
                                       MailLoop::Options{});
  }

  void Close() {
    mail_.reset();
    peer_.reset();
    core_.reset();
    intake_.reset();
  }

  // Submits an issue of `customer` (tier `tier`) and routes it to `team`,
  // with a decision that matched the correlation policy of kKey.
  Issue SubmitAndRoute(const std::string& request_id, const std::string& customer,
                       const std::string& team = "storage",
                       issue::v1::CustomerTier tier = issue::v1::CUSTOMER_TIER_ENTERPRISE,
                       const std::string& key = kKey) {
    Issue issue;
    issue.set_title(absl::StrCat("Blob writes fail for ", customer));
    issue.mutable_customer()->set_id(customer);
    issue.mutable_customer()->set_tier(tier);
    issue.set_product("azure-storage");
    issue.set_region("emea");
    issue.set_severity(issue::v1::SEVERITY_HIGH);
    issue.set_source("crm");
    issue.set_submitter(absl::StrCat("am@", customer, ".com"));
    v1::SubmitIssueRequest request;
    *request.mutable_issue() = issue;
    request.set_request_id(request_id);
    OneShot done;
    absl::StatusOr<Issue> submitted;
    core_->Submit(request, local_, [&](absl::StatusOr<Issue> outcome) {
      submitted = std::move(outcome);
      done.Fire();
    });
    done.Wait();
    EXPECT_TRUE(submitted.ok()) << submitted.status();
    routing::v1::RoutingDecision decision;
    decision.mutable_target()->set_business_group("cloud-infra");
    decision.mutable_target()->set_team(team);
    *decision.mutable_original_target() = decision.target();
    decision.set_rule("storage-rule");
    decision.mutable_ack_within()->set_seconds(600);
    routing::v1::CorrelationMatch& match = *decision.mutable_correlation();
    match.set_policy("regional-outage");
    match.set_key(key);
    match.mutable_window()->set_seconds(7200);
    match.mutable_escalation()->set_min_customers(3);
    decision.add_escalation_contacts()->set_team("storage-leads");
    if (key.empty()) decision.clear_correlation();  // no policy matched
    Outbox::Item task;
    task.value = std::string(IssueIdFromName(submitted->name()));
    absl::StatusOr<std::vector<Outbox::Item>> tasks = intake_->route_tasks().Peek(1000);
    EXPECT_TRUE(tasks.ok()) << tasks.status();
    for (Outbox::Item& queued : *tasks) {
      if (queued.value == task.value) task = queued;
    }
    EXPECT_TRUE(core_->RecordRoutings({{task, decision}}).ok());
    return *core_->Current(IssueIdFromName(submitted->name()));
  }

  // Delivers this partition's mail to itself until none is left.
  void DrainMail() {
    for (int step = 0; step < 100; ++step) {
      if (mail_->RunOnce().outcome == WorkerLoop::Step::kIdle) return;
    }
    ADD_FAILURE() << "the mail did not drain";
  }

  // The queued mail as one delivery, without removing it.
  v1::DeliverPartitionMessagesRequest PendingMail() {
    v1::DeliverPartitionMessagesRequest request;
    absl::StatusOr<std::vector<Outbox::Item>> items = intake_->mail(0).Peek(1000);
    EXPECT_TRUE(items.ok()) << items.status();
    for (const Outbox::Item& item : *items) {
      v1::PartitionMessage* message = request.add_messages();
      EXPECT_TRUE(message->ParseFromString(item.value));
      message->set_sequence(item.sequence);  // as the mail loop does
    }
    return request;
  }

  absl::Status Deliver(const v1::DeliverPartitionMessagesRequest& request) {
    return peer_->Deliver(request);
  }

  Issue Current(const Issue& issue) { return *core_->Current(IssueIdFromName(issue.name())); }

  absl::StatusOr<Problem> GetProblem(const std::string& name) {
    v1::GetProblemRequest request;
    request.set_name(name);
    return core_->GetProblem(request, local_);
  }

  absl::StatusOr<Problem> ResolveProblem(const std::string& name, const std::string& etag = "",
                                         const Caller* caller = nullptr) {
    v1::ResolveProblemRequest request;
    request.set_name(name);
    request.set_actor("lead@storage");
    request.set_resolution("throttling limit raised");
    request.set_etag(etag);
    return WaitProblem([&](IntakeCore::ProblemDone done) {
      core_->ResolveProblem(request, caller != nullptr ? *caller : local_, std::move(done));
    });
  }

  absl::StatusOr<Problem> AcknowledgeProblem(const std::string& name, const std::string& etag = "",
                                             const Caller* caller = nullptr,
                                             const std::string& request_id = "") {
    v1::AcknowledgeProblemRequest request;
    request.set_name(name);
    request.set_actor("oncall@storage");
    request.set_etag(etag);
    request.set_request_id(request_id);
    return WaitProblem([&](IntakeCore::ProblemDone done) {
      core_->AcknowledgeProblem(request, caller != nullptr ? *caller : local_, std::move(done));
    });
  }

  absl::StatusOr<Problem> TransferProblem(const std::string& name, const std::string& team,
                                          const std::string& etag = "",
                                          const std::string& request_id = "") {
    v1::TransferProblemRequest request;
    request.set_request_id(request_id);
    request.set_name(name);
    request.set_actor("lead@storage");
    request.mutable_target()->set_business_group("cloud-infra");
    request.mutable_target()->set_team(team);
    request.set_reason("the quota service is theirs");
    request.set_etag(etag);
    return WaitProblem([&](IntakeCore::ProblemDone done) {
      core_->TransferProblem(request, local_, std::move(done));
    });
  }

  absl::StatusOr<Issue> LinkIssue(const Issue& issue, const std::string& problem,
                                  const std::string& etag = "") {
    absl::StatusOr<Problem> read = GetProblem(problem);
    if (!read.ok()) return read.status();
    v1::LinkIssueRequest request;
    request.set_name(issue.name());
    request.set_problem(problem);
    request.set_actor("oncall@storage");
    request.set_etag(etag);
    return WaitIssue([&](IntakeCore::IssueDone done) {
      core_->LinkIssue(request, *read, local_, std::move(done));
    });
  }

  absl::StatusOr<Issue> UnlinkIssue(const Issue& issue, const std::string& problem) {
    v1::UnlinkIssueRequest request;
    request.set_name(issue.name());
    request.set_problem(problem);
    request.set_actor("oncall@storage");
    request.set_reason("a different fault");
    return WaitIssue(
        [&](IntakeCore::IssueDone done) { core_->UnlinkIssue(request, local_, std::move(done)); });
  }

  absl::StatusOr<Issue> WaitIssue(absl::FunctionRef<void(IntakeCore::IssueDone)> call) {
    OneShot done;
    absl::StatusOr<Issue> result;
    call([&](absl::StatusOr<Issue> outcome) {
      result = std::move(outcome);
      done.Fire();
    });
    done.Wait();
    return result;
  }

  absl::StatusOr<Problem> WaitProblem(absl::FunctionRef<void(IntakeCore::ProblemDone)> call) {
    OneShot done;
    absl::StatusOr<Problem> result;
    call([&](absl::StatusOr<Problem> outcome) {
      result = std::move(outcome);
      done.Fire();
    });
    done.Wait();
    return result;
  }

  std::vector<IssueEvent> QueuedEvents(issue::v1::EventType type) {
    std::vector<IssueEvent> events;
    absl::StatusOr<std::vector<Outbox::Item>> items = intake_->events().Peek(10000);
    EXPECT_TRUE(items.ok()) << items.status();
    for (const Outbox::Item& item : *items) {
      IssueEvent event;
      EXPECT_TRUE(event.ParseFromString(item.value));
      if (event.type() == type) events.push_back(event);
    }
    return events;
  }

  const std::string dir_ = testing::MakeTempDir("intake_problems_test");
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  prometheus::Registry registry_;
  IntakeMetrics metrics_{registry_};
  fakes::FakeRouting routing_;
  std::unique_ptr<IntakeStore> intake_;
  std::unique_ptr<IntakeCore> core_;
  std::unique_ptr<MailPeer> peer_;
  std::unique_ptr<MailLoop> mail_;
  const Caller local_ = Caller::Local();
};

TEST_F(IntakeProblemsTest, IssuesOfOneKeyOpenOneProblemAndTheRestLinkToIt) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  clock_.Advance(absl::Minutes(1));
  const Issue second = SubmitAndRoute("r2", "tailspin", "storage-emea");
  clock_.Advance(absl::Minutes(1));
  const Issue third = SubmitAndRoute("r3", "contoso", "storage", issue::v1::CUSTOMER_TIER_SMB);
  DrainMail();

  const Issue linked_first = Current(first);
  ASSERT_FALSE(linked_first.problem().empty());
  absl::StatusOr<Problem> problem = GetProblem(linked_first.problem());
  ASSERT_TRUE(problem.ok()) << problem.status();
  EXPECT_EQ(problem->state(), issue::v1::PROBLEM_STATE_OPEN);
  EXPECT_EQ(problem->linked_issue_count(), 3);
  EXPECT_EQ(problem->affected_customer_count(), 3);
  EXPECT_EQ(problem->opening_issue(), first.name());
  EXPECT_EQ(problem->owner().team(), "storage");
  EXPECT_EQ(problem->correlation_key(), kKey);
  EXPECT_THAT(problem->linked_issues(),
              ::testing::ElementsAre(third.name(), second.name(), first.name()));
  // The third customer crossed min_customers: escalated, severity raised.
  EXPECT_TRUE(problem->escalated());
  EXPECT_EQ(problem->severity(), issue::v1::SEVERITY_CRITICAL);

  for (const Issue& issue : {second, third}) {
    const Issue now = Current(issue);
    EXPECT_EQ(now.problem(), problem->name());
    EXPECT_EQ(now.assignment().target().team(), "storage");  // the problem's owner
    EXPECT_FALSE(now.has_ack_deadline()) << "linked issues are not escalated separately";
  }
  EXPECT_TRUE(linked_first.has_ack_deadline()) << "the opener carries the problem's SLA";

  EXPECT_THAT(QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_OPENED), SizeIs(1));
  const std::vector<IssueEvent> escalated = QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_ESCALATED);
  ASSERT_THAT(escalated, SizeIs(1));
  EXPECT_THAT(escalated[0].recipients(),
              ::testing::IsSupersetOf(
                  {"teams/storage", "business-groups/cloud-infra", "teams/storage-leads"}));
  EXPECT_THAT(escalated[0].reason(), HasSubstr("3 customers affected"));
  const std::vector<IssueEvent> linked = QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_LINKED);
  ASSERT_THAT(linked, SizeIs(3));
  for (const IssueEvent& event : linked) {
    EXPECT_EQ(event.problem().name(), problem->name());
    EXPECT_THAT(event.recipients(),
                ::testing::Contains(absl::StrCat("submitters/", event.issue().submitter())));
  }
  // The re-owned issue's previous team hears of it too.
  EXPECT_THAT(linked[1].recipients(), ::testing::Contains("teams/storage-emea"));

  // ListIssues lists a problem's issues.
  v1::ListIssuesRequest list;
  list.set_filter(absl::StrCat("problem=", problem->name()));
  absl::StatusOr<v1::ListIssuesResponse> issues = core_->List(list, local_);
  ASSERT_TRUE(issues.ok()) << issues.status();
  EXPECT_THAT(issues->issues(), SizeIs(3));
}

TEST_F(IntakeProblemsTest, EveryMessageDeliveredTwiceChangesNothing) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  const Issue second = SubmitAndRoute("r2", "tailspin");
  // The CorrelateIssue messages arrive twice before the sender removes them.
  const v1::DeliverPartitionMessagesRequest correlate = PendingMail();
  ASSERT_THAT(correlate.messages(), SizeIs(2));
  ASSERT_TRUE(Deliver(correlate).ok());
  ASSERT_TRUE(Deliver(correlate).ok());
  // So do the IssueLinked replies (four: each delivery said so).
  const v1::DeliverPartitionMessagesRequest all = PendingMail();
  ASSERT_TRUE(Deliver(all).ok());
  ASSERT_TRUE(Deliver(all).ok());
  DrainMail();

  absl::StatusOr<Problem> problem = GetProblem(Current(first).problem());
  ASSERT_TRUE(problem.ok()) << problem.status();
  EXPECT_EQ(problem->linked_issue_count(), 2);
  EXPECT_EQ(problem->affected_customer_count(), 2);
  EXPECT_EQ(Current(second).problem(), problem->name());
  EXPECT_EQ(Current(second).etag(), "3") << "RECEIVED, ROUTED, then linked once";
  EXPECT_THAT(QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_OPENED), SizeIs(1));
  EXPECT_THAT(QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_LINKED), SizeIs(2));
}

TEST_F(IntakeProblemsTest, ConcurrentDeliveriesOfOneKeyOpenOneProblem) {
  constexpr int kIssues = 40;
  std::vector<Issue> issues;
  for (int i = 0; i < kIssues; ++i) {
    issues.push_back(SubmitAndRoute(absl::StrCat("r", i), absl::StrCat("customer-", i % 10)));
  }
  // Four deliveries race, each with every fourth message, as if from four
  // partitions.
  const v1::DeliverPartitionMessagesRequest all = PendingMail();
  ASSERT_THAT(all.messages(), SizeIs(kIssues));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      v1::DeliverPartitionMessagesRequest part;
      part.set_sender(t);
      for (int i = t; i < kIssues; i += 4) *part.add_messages() = all.messages(i);
      EXPECT_TRUE(Deliver(part).ok());
    });
  }
  for (std::thread& thread : threads) thread.join();
  DrainMail();

  const std::string name = Current(issues[0]).problem();
  absl::StatusOr<Problem> problem = GetProblem(name);
  ASSERT_TRUE(problem.ok()) << problem.status();
  EXPECT_EQ(problem->linked_issue_count(), kIssues);
  EXPECT_EQ(problem->affected_customer_count(), 10);
  for (const Issue& issue : issues) EXPECT_EQ(Current(issue).problem(), name);
  EXPECT_THAT(QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_OPENED), SizeIs(1));
  EXPECT_THAT(QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_ESCALATED), SizeIs(1));
}

TEST_F(IntakeProblemsTest, AWindowThatEndedOpensANewProblem) {
  const Issue early = SubmitAndRoute("r1", "fabrikam");
  DrainMail();
  clock_.Advance(absl::Hours(3));  // past the 2 h window
  const Issue late = SubmitAndRoute("r2", "fabrikam");
  DrainMail();
  ASSERT_FALSE(Current(early).problem().empty());
  ASSERT_FALSE(Current(late).problem().empty());
  EXPECT_NE(Current(early).problem(), Current(late).problem());
  EXPECT_THAT(QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_OPENED), SizeIs(2));
}

TEST_F(IntakeProblemsTest, ProblemsAndTheirWindowsSurviveARestart) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  DrainMail();
  const std::string name = Current(first).problem();
  Close();
  Open();
  const Issue second = SubmitAndRoute("r2", "tailspin");
  DrainMail();
  EXPECT_EQ(Current(second).problem(), name);
  absl::StatusOr<Problem> problem = GetProblem(name);
  ASSERT_TRUE(problem.ok()) << problem.status();
  EXPECT_EQ(problem->linked_issue_count(), 2);
}

TEST_F(IntakeProblemsTest, ListProblemsFiltersAndPages) {
  for (int i = 0; i < 5; ++i) {
    SubmitAndRoute(absl::StrCat("r", i), "fabrikam");
    DrainMail();
    clock_.Advance(absl::Hours(3));  // each in a window of its own
  }
  v1::ListProblemsRequest request;
  request.set_page_size(2);
  request.set_filter("state=PROBLEM_STATE_OPEN AND business_group=cloud-infra");
  std::vector<std::string> names;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<v1::ListProblemsResponse> response = core_->ListProblems(request, local_);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_LE(response->problems_size(), 2);
    for (const Problem& problem : response->problems()) names.push_back(problem.name());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  ASSERT_THAT(names, SizeIs(5));
  EXPECT_TRUE(std::is_sorted(names.rbegin(), names.rend())) << "newest first";

  request.clear_page_token();
  request.set_filter("state=PROBLEM_STATE_RESOLVED");
  EXPECT_THAT(core_->ListProblems(request, local_)->problems(), SizeIs(0));
  request.set_filter("severity=SEVERITY_HIGH");
  EXPECT_EQ(core_->ListProblems(request, local_).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.set_filter("state=STATE_ROUTED");
  EXPECT_EQ(core_->ListProblems(request, local_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(IntakeProblemsTest, GetProblemRefusesMalformedNamesAndReportsMissingOnes) {
  EXPECT_EQ(GetProblem("problems/nope").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetProblem("issues/01hzzzzzzzzzzzzzzzzzzzzzzz").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Problem> missing = GetProblem("problems/01hzzzzzzzzzzzzzzzzzzzzzzz");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("problems/01hzzzzzzzzzzzzzzzzzzzzzzz"));
}

TEST_F(IntakeProblemsTest, TheCensusCountsOpenProblemsTheirCustomersAndTheirGrowth) {
  ProblemCensus census(intake_->problems(), metrics_, clock_, absl::Seconds(15));
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  DrainMail();
  absl::StatusOr<ProblemCensus::Result> counted = census.RunOnce();
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ((*counted)["cloud-infra"].open, 1);
  EXPECT_EQ((*counted)["cloud-infra"].customers, 1);
  EXPECT_EQ((*counted)["cloud-infra"].max_growth, 1) << "opened within the window";

  clock_.Advance(absl::Minutes(10));
  for (int i = 0; i < 4; ++i) SubmitAndRoute(absl::StrCat("more-", i), absl::StrCat("c", i));
  DrainMail();
  counted = census.RunOnce();
  EXPECT_EQ((*counted)["cloud-infra"].customers, 5);
  EXPECT_EQ((*counted)["cloud-infra"].max_growth, 5);

  clock_.Advance(absl::Minutes(20));  // nothing new for 15 minutes
  census.RunOnce().IgnoreError();
  counted = census.RunOnce();
  EXPECT_EQ((*counted)["cloud-infra"].max_growth, 0);

  ASSERT_TRUE(AcknowledgeProblem(Current(first).problem()).ok());
  counted = census.RunOnce();
  EXPECT_EQ((*counted)["cloud-infra"].open, 0);
  EXPECT_EQ((*counted)["cloud-infra"].acknowledged, 1);
  ASSERT_TRUE(ResolveProblem(Current(first).problem()).ok());
  counted = census.RunOnce();
  EXPECT_EQ((*counted)["cloud-infra"].acknowledged, 0) << "an emptied series is zeroed";
  EXPECT_EQ((*counted)["cloud-infra"].customers, 0);
}

TEST_F(IntakeProblemsTest, ResolvingAProblemResolvesEachOpenIssueOnceAndTellsEverySubmitter) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  const Issue second = SubmitAndRoute("r2", "tailspin");
  const Issue third = SubmitAndRoute("r3", "contoso");
  DrainMail();
  const std::string name = Current(first).problem();
  // One issue was resolved on its own first: it keeps its own resolution.
  {
    v1::ResolveIssueRequest request;
    request.set_name(third.name());
    request.set_actor("oncall@storage");
    request.set_resolution("customer retried");
    OneShot done;
    core_->Resolve(request, local_, [&](absl::StatusOr<Issue> resolved) {
      EXPECT_TRUE(resolved.ok()) << resolved.status();
      done.Fire();
    });
    done.Wait();
  }
  absl::StatusOr<Problem> resolved = ResolveProblem(name);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->state(), issue::v1::PROBLEM_STATE_RESOLVED);
  EXPECT_EQ(resolved->resolution(), "throttling limit raised");
  // The command reaches the issues through the mail; deliver it twice.
  const v1::DeliverPartitionMessagesRequest mail = PendingMail();
  ASSERT_TRUE(Deliver(mail).ok());
  ASSERT_TRUE(Deliver(mail).ok());
  DrainMail();

  for (const Issue& issue : {first, second}) {
    EXPECT_EQ(Current(issue).state(), issue::v1::STATE_RESOLVED);
    EXPECT_EQ(Current(issue).resolution(), "throttling limit raised");
  }
  EXPECT_EQ(Current(third).resolution(), "customer retried");
  const std::vector<IssueEvent> events = QueuedEvents(issue::v1::EVENT_TYPE_RESOLVED);
  std::vector<IssueEvent> with_problem;
  for (const IssueEvent& event : events) {
    if (event.has_problem()) with_problem.push_back(event);
  }
  ASSERT_THAT(with_problem, SizeIs(2)) << "one RESOLVED per issue the problem resolved";
  for (const IssueEvent& event : with_problem) {
    EXPECT_EQ(event.problem().name(), name);
    EXPECT_THAT(event.reason(), HasSubstr(name));
    EXPECT_THAT(event.recipients(), ::testing::Contains("sources/crm"));
    EXPECT_THAT(event.recipients(),
                ::testing::Contains(absl::StrCat("submitters/", event.issue().submitter())));
  }
  EXPECT_THAT(QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_RESOLVED), SizeIs(1));
  EXPECT_EQ(ResolveProblem(name).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(IntakeProblemsTest, AnIssueRaisedBeforeTheFixAndLinkedAfterItIsResolvedWithTheProblem) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  DrainMail();
  const Issue late = SubmitAndRoute("r2", "tailspin");  // its CorrelateIssue not yet delivered
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(ResolveProblem(Current(first).problem()).ok());
  DrainMail();
  EXPECT_EQ(Current(late).problem(), Current(first).problem());
  EXPECT_EQ(Current(late).state(), issue::v1::STATE_RESOLVED);
  EXPECT_EQ(Current(late).resolution(), "throttling limit raised");
  // After the fix, the key's next issue opens a new problem.
  clock_.Advance(absl::Minutes(1));
  const Issue after = SubmitAndRoute("r3", "contoso");
  DrainMail();
  EXPECT_NE(Current(after).problem(), Current(first).problem());
  EXPECT_EQ(Current(after).state(), issue::v1::STATE_ROUTED);
}

TEST_F(IntakeProblemsTest, AcknowledgingAProblemAcknowledgesItsRoutedIssues) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  const Issue second = SubmitAndRoute("r2", "tailspin");
  DrainMail();
  const std::string name = Current(first).problem();
  absl::StatusOr<Problem> problem = GetProblem(name);
  ASSERT_TRUE(problem.ok());
  const Caller other("compute-bot", {Role::kTeamMember}, {}, {"compute"});
  EXPECT_EQ(AcknowledgeProblem(name, "", &other).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AcknowledgeProblem(name, "1").status().code(), absl::StatusCode::kAborted);
  absl::StatusOr<Problem> acknowledged = AcknowledgeProblem(name, problem->etag());
  ASSERT_TRUE(acknowledged.ok()) << acknowledged.status();
  EXPECT_EQ(acknowledged->state(), issue::v1::PROBLEM_STATE_ACKNOWLEDGED);
  absl::StatusOr<Problem> again = AcknowledgeProblem(name);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->etag(), acknowledged->etag()) << "acknowledging again changes nothing";
  DrainMail();
  EXPECT_EQ(Current(first).state(), issue::v1::STATE_ACKNOWLEDGED);
  EXPECT_EQ(Current(second).state(), issue::v1::STATE_ACKNOWLEDGED);
  EXPECT_THAT(QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_ACKNOWLEDGED), SizeIs(1));
  // An issue that joins an acknowledged problem is taken with it.
  const Issue late = SubmitAndRoute("r3", "contoso");
  DrainMail();
  EXPECT_EQ(Current(late).problem(), name);
  EXPECT_EQ(Current(late).state(), issue::v1::STATE_ACKNOWLEDGED);
  EXPECT_EQ(AcknowledgeProblem("problems/01hzzzzzzzzzzzzzzzzzzzzzzz").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(IntakeProblemsTest, TransferringAProblemMovesItsIssuesAndRestartsTheOpenersClock) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  const Issue second = SubmitAndRoute("r2", "tailspin");
  const Issue elsewhere = SubmitAndRoute("r3", "contoso");
  DrainMail();
  const std::string name = Current(first).problem();
  ASSERT_TRUE(AcknowledgeProblem(name).ok());
  DrainMail();
  // One issue went to another team on its own before: it stays there.
  {
    v1::TransferIssueRequest request;
    request.set_name(elsewhere.name());
    request.set_actor("oncall@storage");
    request.mutable_target()->set_business_group("cloud-infra");
    request.mutable_target()->set_team("networking");
    OneShot done;
    core_->Transfer(request, local_, [&](absl::StatusOr<Issue> moved) {
      EXPECT_TRUE(moved.ok()) << moved.status();
      done.Fire();
    });
    done.Wait();
  }
  EXPECT_EQ(TransferProblem(name, "no-such-team").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TransferProblem(name, "quota", "1").status().code(), absl::StatusCode::kAborted);
  clock_.Advance(absl::Minutes(30));
  absl::StatusOr<Problem> moved = TransferProblem(name, "quota");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->owner().team(), "quota");
  EXPECT_EQ(moved->state(), issue::v1::PROBLEM_STATE_OPEN) << "the new owner acknowledges anew";
  absl::StatusOr<Problem> again = TransferProblem(name, "quota");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->etag(), moved->etag()) << "a retry to the same owner changes nothing";
  // The command reaches the issues through the mail; deliver it twice.
  const v1::DeliverPartitionMessagesRequest mail = PendingMail();
  ASSERT_TRUE(Deliver(mail).ok());
  ASSERT_TRUE(Deliver(mail).ok());
  DrainMail();

  for (const Issue& issue : {first, second}) {
    EXPECT_EQ(Current(issue).assignment().target().team(), "quota");
    EXPECT_EQ(Current(issue).state(), issue::v1::STATE_ROUTED);
    EXPECT_TRUE(Current(issue).assignment().manual());
  }
  EXPECT_EQ(Current(first).ack_deadline().seconds(), absl::ToUnixSeconds(clock_.Now()) + 120)
      << "the opener's clock restarts by the new owner's SLA";
  EXPECT_FALSE(Current(second).has_ack_deadline()) << "one clock per problem";
  EXPECT_EQ(Current(elsewhere).assignment().target().team(), "networking");

  std::vector<IssueEvent> transferred;
  for (const IssueEvent& event : QueuedEvents(issue::v1::EVENT_TYPE_TRANSFERRED)) {
    if (event.has_problem()) transferred.push_back(event);
  }
  ASSERT_THAT(transferred, SizeIs(2)) << "one TRANSFERRED per issue that moved";
  for (const IssueEvent& event : transferred) {
    EXPECT_EQ(event.reason(), "the quota service is theirs");
    EXPECT_THAT(event.recipients(), ::testing::Contains("teams/quota"));
    EXPECT_THAT(event.recipients(), ::testing::Contains("sources/crm"));
  }
  const std::vector<IssueEvent> problem_events =
      QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_TRANSFERRED);
  ASSERT_THAT(problem_events, SizeIs(1));
  EXPECT_THAT(problem_events[0].recipients(), ::testing::Contains("teams/quota"));
  EXPECT_THAT(problem_events[0].recipients(), ::testing::Contains("teams/storage"));
  EXPECT_EQ(problem_events[0].actor(), "lead@storage");

  ASSERT_TRUE(ResolveProblem(name).ok());
  EXPECT_EQ(TransferProblem(name, "storage").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(TransferProblem("problems/01hzzzzzzzzzzzzzzzzzzzzzzz", "quota").status().code(),
            absl::StatusCode::kNotFound);
}

// A linked issue waiting on its customer goes with its problem: acknowledged
// (it returns to ACKNOWLEDGED when the customer answers, without escalating)
// and transferred (the wait ends; the new owner has asked nothing).
TEST_F(IntakeProblemsTest, AWaitingIssueFollowsItsProblem) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  const Issue second = SubmitAndRoute("r2", "tailspin");
  DrainMail();
  const std::string name = Current(first).problem();
  const auto wait = [&](const Issue& issue) {
    v1::WaitOnCustomerRequest request;
    request.set_name(issue.name());
    request.set_actor("oncall@storage");
    request.set_question("Which account?");
    return WaitIssue([&](IntakeCore::IssueDone done) {
      core_->WaitOnCustomer(request, local_, std::move(done));
    });
  };
  const auto respond = [&](const Issue& issue) {
    v1::RespondToIssueRequest request;
    request.set_name(issue.name());
    request.set_actor("crm");
    request.set_response("contosoprod");
    return WaitIssue(
        [&](IntakeCore::IssueDone done) { core_->Respond(request, local_, std::move(done)); });
  };
  ASSERT_TRUE(wait(first).ok());
  // Long past the 10-minute ack deadline, but the clock stopped with the
  // wait, well before it: met.
  clock_.Advance(absl::Hours(2));
  ASSERT_TRUE(AcknowledgeProblem(name).ok());
  DrainMail();
  EXPECT_EQ(Current(first).state(), issue::v1::STATE_WAITING_ON_CUSTOMER);
  EXPECT_EQ(Current(first).sla().ack_outcome(), issue::v1::SLA_OUTCOME_MET);
  absl::StatusOr<Issue> answered = respond(first);
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(answered->state(), issue::v1::STATE_ACKNOWLEDGED) << "taken with its problem";
  EXPECT_FALSE((*intake_->issues().FirstTimer()).has_value()) << "no timer to escalate it";

  ASSERT_TRUE(wait(second).ok());
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(TransferProblem(name, "quota").ok());
  DrainMail();
  const Issue moved = Current(second);
  EXPECT_EQ(moved.assignment().target().team(), "quota");
  EXPECT_EQ(moved.state(), issue::v1::STATE_ROUTED);
  EXPECT_FALSE(moved.sla().has_pause_start());
  EXPECT_EQ(FromProtoDuration(moved.sla().paused_duration()), absl::Minutes(5));
}

// request_id on the problem calls: a retry answers the first outcome.
TEST_F(IntakeProblemsTest, ARetriedProblemCallWithItsRequestIdActsOnce) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  DrainMail();
  const std::string name = Current(first).problem();
  absl::StatusOr<Problem> moved = TransferProblem(name, "quota", "", "move-1");
  ASSERT_TRUE(moved.ok()) << moved.status();
  // Taken back meanwhile; the retry of the lost reply must not move it again.
  ASSERT_TRUE(TransferProblem(name, "storage").ok());
  absl::StatusOr<Problem> retried = TransferProblem(name, "quota", "", "move-1");
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->etag(), moved->etag());
  EXPECT_EQ(GetProblem(name)->owner().team(), "storage");
  EXPECT_THAT(QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_TRANSFERRED), SizeIs(2));
  absl::StatusOr<Problem> other = TransferProblem(name, "networking", "", "move-1");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(GetFieldViolations(other.status()),
              ElementsAre(::testing::Field(&FieldViolation::field, "request_id")));
  absl::StatusOr<Problem> acknowledged = AcknowledgeProblem(name, "", nullptr, "ack-1");
  ASSERT_TRUE(acknowledged.ok()) << acknowledged.status();
  Close();
  Open();
  absl::StatusOr<Problem> again = AcknowledgeProblem(name, "", nullptr, "ack-1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->etag(), acknowledged->etag()) << "kept across a restart";
  EXPECT_EQ(AcknowledgeProblem(name, "", nullptr, "move-1").status().code(),
            absl::StatusCode::kAlreadyExists)
      << "a request_id of another method";
}

TEST_F(IntakeProblemsTest, AnIssueLinkedByHandIsCountedInAndUnlinkedOut) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  const Issue second = SubmitAndRoute("r2", "tailspin");
  const Issue loner =
      SubmitAndRoute("r3", "contoso", "networking", issue::v1::CUSTOMER_TIER_STRATEGIC, /*key=*/"");
  DrainMail();
  const std::string name = Current(first).problem();
  ASSERT_FALSE(name.empty());
  ASSERT_TRUE(Current(loner).problem().empty());
  ASSERT_TRUE(Current(loner).has_ack_deadline());

  EXPECT_EQ(LinkIssue(loner, name, "99").status().code(), absl::StatusCode::kAborted);
  absl::StatusOr<Issue> linked = LinkIssue(loner, name, Current(loner).etag());
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_EQ(linked->problem(), name);
  EXPECT_EQ(linked->assignment().target().team(), "storage") << "owned by the problem's owner";
  EXPECT_FALSE(linked->has_ack_deadline()) << "one SLA clock per problem";
  absl::StatusOr<Issue> again = LinkIssue(loner, name);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->etag(), linked->etag()) << "linking again changes nothing";
  // Delivered twice, the attachment counts once.
  const v1::DeliverPartitionMessagesRequest mail = PendingMail();
  ASSERT_TRUE(Deliver(mail).ok());
  ASSERT_TRUE(Deliver(mail).ok());
  DrainMail();
  absl::StatusOr<Problem> problem = GetProblem(name);
  ASSERT_TRUE(problem.ok()) << problem.status();
  EXPECT_EQ(problem->linked_issue_count(), 3);
  EXPECT_EQ(problem->affected_customer_count(), 3);
  EXPECT_THAT(problem->linked_issues(), ::testing::Contains(loner.name()));
  EXPECT_TRUE(problem->escalated()) << "a strategic customer crossed the threshold";
  std::vector<IssueEvent> linked_events;
  for (const IssueEvent& event : QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_LINKED)) {
    if (event.issue().name() == loner.name()) linked_events.push_back(event);
  }
  ASSERT_THAT(linked_events, SizeIs(1));
  EXPECT_EQ(linked_events[0].actor(), "oncall@storage");
  EXPECT_THAT(linked_events[0].recipients(), ::testing::Contains("teams/networking"))
      << "the previous owner hears it left";

  // A linked issue cannot join a second problem, nor leave one it is not in.
  EXPECT_EQ(UnlinkIssue(loner, "problems/01hzzzzzzzzzzzzzzzzzzzzzzz").status().code(),
            absl::StatusCode::kFailedPrecondition);

  clock_.Advance(absl::Minutes(3));
  absl::StatusOr<Issue> unlinked = UnlinkIssue(loner, name);
  ASSERT_TRUE(unlinked.ok()) << unlinked.status();
  EXPECT_TRUE(unlinked->problem().empty());
  EXPECT_EQ(unlinked->ack_deadline().seconds(), absl::ToUnixSeconds(clock_.Now()) + 120)
      << "its own clock starts again";
  const v1::DeliverPartitionMessagesRequest detach = PendingMail();
  ASSERT_TRUE(Deliver(detach).ok());
  ASSERT_TRUE(Deliver(detach).ok());
  DrainMail();
  problem = GetProblem(name);
  ASSERT_TRUE(problem.ok());
  EXPECT_EQ(problem->linked_issue_count(), 2);
  EXPECT_EQ(problem->affected_customer_count(), 2);
  EXPECT_THAT(problem->linked_issues(), ::testing::Not(::testing::Contains(loner.name())));
  ASSERT_THAT(QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_UNLINKED), SizeIs(1));
  EXPECT_EQ(QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_UNLINKED)[0].reason(), "a different fault");
  EXPECT_EQ(UnlinkIssue(loner, name).status().code(), absl::StatusCode::kFailedPrecondition);

  // Resolved problems take no new issues.
  ASSERT_TRUE(ResolveProblem(name).ok());
  DrainMail();
  EXPECT_EQ(LinkIssue(loner, name).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(UnlinkIssue(second, name).status().code(), absl::StatusCode::kFailedPrecondition)
      << "a resolved issue stays with the problem that resolved it";
}

TEST_F(IntakeProblemsTest, AHandLinkWinsOverACorrelationStillOnItsWay) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  const Issue other =
      SubmitAndRoute("r2", "tailspin", "storage", issue::v1::CUSTOMER_TIER_ENTERPRISE, "other-key");
  DrainMail();
  const std::string wanted = Current(first).problem();
  const std::string policy_problem = Current(other).problem();
  ASSERT_NE(wanted, policy_problem);
  // Routed with a match on "other-key"; its CorrelateIssue is not delivered
  // yet when someone links it by hand.
  const Issue racing =
      SubmitAndRoute("r3", "contoso", "storage", issue::v1::CUSTOMER_TIER_ENTERPRISE, "other-key");
  absl::StatusOr<Issue> linked = LinkIssue(racing, wanted);
  ASSERT_TRUE(linked.ok()) << linked.status();
  DrainMail();
  EXPECT_EQ(Current(racing).problem(), wanted);
  EXPECT_EQ(GetProblem(wanted)->linked_issue_count(), 2);
  EXPECT_EQ(GetProblem(policy_problem)->linked_issue_count(), 1)
      << "the policy's problem let the issue go";
  EXPECT_EQ(GetProblem(policy_problem)->affected_customer_count(), 1);
}

TEST_F(IntakeProblemsTest, ACommandReachesManyIssuesInChunksEachOnce) {
  core_->set_command_chunk(2);
  std::vector<Issue> issues;
  for (int i = 0; i < 7; ++i) {
    issues.push_back(SubmitAndRoute(absl::StrCat("r", i), absl::StrCat("customer-", i)));
  }
  DrainMail();
  const std::string name = Current(issues[0]).problem();
  ASSERT_TRUE(ResolveProblem(name).ok());
  // The first chunk, delivered twice, leaves the rest of the command in the
  // partition's own mail.
  const v1::DeliverPartitionMessagesRequest first = PendingMail();
  ASSERT_TRUE(Deliver(first).ok());
  ASSERT_TRUE(Deliver(first).ok());
  int resolved = 0;
  for (const Issue& issue : issues) resolved += Current(issue).state() == issue::v1::STATE_RESOLVED;
  EXPECT_LT(resolved, 7) << "one batch changed more than a chunk";
  DrainMail();
  for (const Issue& issue : issues) {
    EXPECT_EQ(Current(issue).state(), issue::v1::STATE_RESOLVED) << issue.name();
  }
  std::vector<IssueEvent> with_problem;
  for (const IssueEvent& event : QueuedEvents(issue::v1::EVENT_TYPE_RESOLVED)) {
    if (event.has_problem()) with_problem.push_back(event);
  }
  EXPECT_THAT(with_problem, SizeIs(7)) << "one RESOLVED per issue";
}

TEST_F(IntakeProblemsTest, MessagesDeliveredAgainAfterAnUnlinkAreNotAppliedAgain) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  const Issue loner =
      SubmitAndRoute("r2", "contoso", "networking", issue::v1::CUSTOMER_TIER_STRATEGIC, /*key=*/"");
  DrainMail();
  const std::string name = Current(first).problem();
  ASSERT_TRUE(LinkIssue(loner, name).ok());
  ASSERT_TRUE(UnlinkIssue(loner, name).ok());
  // Attach and Detach, delivered; the reply is lost and both come again.
  const v1::DeliverPartitionMessagesRequest mail = PendingMail();
  ASSERT_TRUE(Deliver(mail).ok());
  absl::StatusOr<Problem> after = GetProblem(name);
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(Deliver(mail).ok());
  DrainMail();
  absl::StatusOr<Problem> again = GetProblem(name);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->etag(), after->etag()) << "nothing was applied a second time";
  EXPECT_EQ(again->linked_issue_count(), 1);
  EXPECT_TRUE(Current(loner).problem().empty());
  int links = 0;
  for (const IssueEvent& event : QueuedEvents(issue::v1::EVENT_TYPE_PROBLEM_LINKED)) {
    links += event.issue().name() == loner.name();
  }
  EXPECT_EQ(links, 1);
  // Mail positions survive a restart.
  Close();
  Open();
  ASSERT_TRUE(Deliver(mail).ok());
  EXPECT_EQ(GetProblem(name)->etag(), after->etag());
}

TEST_F(IntakeProblemsTest, ACustomerLeavesTheTierItWasCountedIn) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  DrainMail();
  const std::string name = Current(first).problem();
  // contoso's first issue says STRATEGIC, its second SMB.
  const Issue strategic =
      SubmitAndRoute("r2", "contoso", "storage", issue::v1::CUSTOMER_TIER_STRATEGIC, "");
  const Issue smb = SubmitAndRoute("r3", "contoso", "storage", issue::v1::CUSTOMER_TIER_SMB, "");
  ASSERT_TRUE(LinkIssue(strategic, name).ok());
  ASSERT_TRUE(LinkIssue(smb, name).ok());
  DrainMail();
  ASSERT_TRUE(UnlinkIssue(strategic, name).ok());
  ASSERT_TRUE(UnlinkIssue(smb, name).ok());
  DrainMail();
  absl::StatusOr<Problem> problem = GetProblem(name);
  ASSERT_TRUE(problem.ok());
  EXPECT_EQ(problem->affected_customer_count(), 1);
  int counted = 0;
  for (const auto& tier : problem->affected_customer_tiers()) {
    counted += tier.customers();
    EXPECT_NE(tier.tier(), issue::v1::CUSTOMER_TIER_STRATEGIC);
  }
  EXPECT_EQ(counted, 1) << "the tiers add up to the customers";
}

TEST_F(IntakeProblemsTest, AnIssueLinkedFromAStaleReadCatchesUpWithItsProblem) {
  const Issue first = SubmitAndRoute("r1", "fabrikam");
  const Issue loner = SubmitAndRoute("r2", "contoso", "networking",
                                     issue::v1::CUSTOMER_TIER_ENTERPRISE, /*key=*/"");
  DrainMail();
  const std::string name = Current(first).problem();
  absl::StatusOr<Problem> read = GetProblem(name);  // LinkIssue's read...
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(TransferProblem(name, "quota").ok());  // ...then the problem moves on
  DrainMail();
  v1::LinkIssueRequest request;
  request.set_name(loner.name());
  request.set_problem(name);
  request.set_actor("oncall@storage");
  absl::StatusOr<Issue> linked = WaitIssue([&](IntakeCore::IssueDone done) {
    core_->LinkIssue(request, *read, local_, std::move(done));
  });
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_EQ(linked->assignment().target().team(), "storage") << "as read";
  DrainMail();
  EXPECT_EQ(Current(loner).assignment().target().team(), "quota");
  EXPECT_EQ(Current(loner).problem(), name);
}

}  // namespace
}  // namespace switchboard::intake
