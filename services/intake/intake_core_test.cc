#include "services/intake/intake_core.h"

#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/testing/subprocess.h"
#include "services/intake/census.h"
#include "services/intake/testing/fake_peers.h"

namespace switchboard::intake {
namespace {

using issue::v1::Issue;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Issue NewIssue(const std::string& title, const std::string& product = "azure-storage") {
  Issue issue;
  issue.set_title(title);
  issue.mutable_customer()->set_id("contoso");
  issue.set_product(product);
  issue.set_severity(issue::v1::SEVERITY_HIGH);
  issue.set_source("crm");
  issue.set_submitter("jane@contoso.com");
  (*issue.mutable_labels())["a"] = "1";
  (*issue.mutable_labels())["b"] = "2";
  return issue;
}

class IntakeCoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    auto intake = IntakeStore::Open({.path = dir_}, clock_, nullptr);
    ASSERT_TRUE(intake.ok()) << intake.status();
    intake_ = std::move(*intake);
    store_ = &intake_->issues();
    auto core = IntakeCore::Create(*intake_, metrics_, routing_, clock_);
    ASSERT_TRUE(core.ok()) << core.status();
    core_ = std::move(*core);
  }

  void Close() {
    core_.reset();
    store_ = nullptr;
    intake_.reset();
  }

  absl::StatusOr<Issue> Submit(const Issue& issue, const std::string& request_id) {
    v1::SubmitIssueRequest request;
    *request.mutable_issue() = issue;
    request.set_request_id(request_id);
    OneShot done;
    absl::StatusOr<Issue> result;
    core_->Submit(request, submitter_, [&](absl::StatusOr<Issue> outcome) {
      result = std::move(outcome);
      done.Fire();
    });
    done.Wait();
    return result;
  }

  std::vector<std::string> ListTitles(const std::string& filter, int page_size = 0) {
    std::vector<std::string> titles;
    v1::ListIssuesRequest request;
    request.set_filter(filter);
    request.set_page_size(page_size);
    for (int page = 0; page < 100; ++page) {
      auto response = core_->List(request, local_);
      EXPECT_TRUE(response.ok()) << response.status();
      if (!response.ok()) break;
      for (const Issue& issue : response->issues()) titles.push_back(issue.title());
      if (response->next_page_token().empty()) break;
      request.set_page_token(response->next_page_token());
    }
    return titles;
  }

  // Submits and routes an issue to team "storage" of "cloud" with a 60 s
  // ack SLA (and resolve_within_ or terms_ when set).
  Issue RoutedIssue(const std::string& request_id) {
    auto issue = Submit(NewIssue(request_id), request_id);
    EXPECT_TRUE(issue.ok()) << issue.status();
    routing::v1::RoutingDecision decision;
    decision.mutable_target()->set_business_group("cloud");
    decision.mutable_target()->set_team("storage");
    *decision.mutable_original_target() = decision.target();
    decision.set_rule("storage-rule");
    decision.mutable_ack_within()->set_seconds(60);
    if (resolve_within_ > absl::ZeroDuration()) {
      decision.mutable_resolve_within()->set_seconds(absl::ToInt64Seconds(resolve_within_));
    }
    if (terms_.has_value()) *decision.mutable_sla() = *terms_;
    EXPECT_TRUE(RecordRouting(*issue, decision).ok());
    return *core_->Current(IssueIdFromName(issue->name()));
  }

  // Records `decision` for `issue` as the route loop does, removing the
  // issue's route task.
  absl::Status RecordRouting(const Issue& issue, const routing::v1::RoutingDecision& decision) {
    absl::StatusOr<std::vector<Outbox::Item>> tasks = intake_->route_tasks().Peek(1000);
    if (!tasks.ok()) return tasks.status();
    for (Outbox::Item& task : *tasks) {
      if (task.value == IssueIdFromName(issue.name())) {
        return core_->RecordRoutings({{std::move(task), decision}});
      }
    }
    // A retry of a task already removed: the ledger ignores the decision.
    Outbox::Item gone;
    gone.value = std::string(IssueIdFromName(issue.name()));
    gone.key = "gone";
    return core_->RecordRoutings({{std::move(gone), decision}});
  }

  absl::StatusOr<Issue> Wait(absl::FunctionRef<void(IntakeCore::IssueDone)> call) {
    OneShot done;
    absl::StatusOr<Issue> result;
    call([&](absl::StatusOr<Issue> outcome) {
      result = std::move(outcome);
      done.Fire();
    });
    done.Wait();
    return result;
  }

  absl::StatusOr<Issue> Acknowledge(const Issue& issue, const std::string& etag = "",
                                    const Caller* caller = nullptr) {
    v1::AcknowledgeIssueRequest request;
    request.set_name(issue.name());
    request.set_actor("oncall@storage");
    request.set_etag(etag);
    return Wait([&](IntakeCore::IssueDone done) {
      core_->Acknowledge(request, As(caller), std::move(done));
    });
  }

  absl::StatusOr<Issue> Resolve(const Issue& issue, const std::string& resolution = "fixed",
                                const Caller* caller = nullptr) {
    v1::ResolveIssueRequest request;
    request.set_name(issue.name());
    request.set_actor("oncall@storage");
    request.set_resolution(resolution);
    request.set_request_id(resolve_request_id_);
    return Wait(
        [&](IntakeCore::IssueDone done) { core_->Resolve(request, As(caller), std::move(done)); });
  }

  absl::StatusOr<Issue> Transfer(const Issue& issue, const std::string& team,
                                 const std::string& etag = "", const Caller* caller = nullptr,
                                 const std::string& request_id = "") {
    v1::TransferIssueRequest request;
    request.set_request_id(request_id);
    request.set_name(issue.name());
    request.set_actor("lead@storage");
    request.set_reason("belongs to compute");
    request.mutable_target()->set_business_group("cloud");
    request.mutable_target()->set_team(team);
    request.set_etag(etag);
    return Wait(
        [&](IntakeCore::IssueDone done) { core_->Transfer(request, As(caller), std::move(done)); });
  }

  // A customer-facing call (WaitOnCustomer, RespondToIssue, ResumeIssue,
  // ReopenIssue, RateIssue) on `issue` with `fill` setting its own fields.
  template <typename Request, typename Method, typename Fill>
  absl::StatusOr<Issue> Call(Method method, const Issue& issue, Fill fill,
                             const Caller* caller = nullptr, const std::string& etag = "",
                             const std::string& request_id = "") {
    Request request;
    request.set_name(issue.name());
    request.set_actor("someone");
    request.set_etag(etag);
    request.set_request_id(request_id);
    fill(request);
    return Wait([&](IntakeCore::IssueDone done) {
      (core_.get()->*method)(request, As(caller), std::move(done));
    });
  }
  absl::StatusOr<Issue> WaitOn(const Issue& issue, const std::string& question = "Which region?",
                               const Caller* caller = nullptr, const std::string& etag = "") {
    return Call<v1::WaitOnCustomerRequest>(
        &IntakeCore::WaitOnCustomer, issue,
        [&](v1::WaitOnCustomerRequest& r) { r.set_question(question); }, caller, etag);
  }
  absl::StatusOr<Issue> Respond(const Issue& issue, const std::string& response = "West Europe",
                                const Caller* caller = nullptr,
                                const std::string& request_id = "") {
    return Call<v1::RespondToIssueRequest>(
        &IntakeCore::Respond, issue,
        [&](v1::RespondToIssueRequest& r) { r.set_response(response); }, caller, "", request_id);
  }
  absl::StatusOr<Issue> Resume(const Issue& issue, const Caller* caller = nullptr) {
    return Call<v1::ResumeIssueRequest>(
        &IntakeCore::Resume, issue, [](v1::ResumeIssueRequest&) {}, caller);
  }
  absl::StatusOr<Issue> Reopen(const Issue& issue, const Caller* caller = nullptr,
                               const std::string& etag = "") {
    return Call<v1::ReopenIssueRequest>(
        &IntakeCore::Reopen, issue,
        [](v1::ReopenIssueRequest& r) { r.set_reason("still failing"); }, caller, etag);
  }
  absl::StatusOr<Issue> Rate(const Issue& issue, int rating, const Caller* caller = nullptr) {
    return Call<v1::RateIssueRequest>(
        &IntakeCore::Rate, issue,
        [&](v1::RateIssueRequest& r) {
          r.set_rating(rating);
          r.set_comment("thanks");
        },
        caller);
  }

  // `caller`, or the local caller (who may do everything) for null.
  const Caller& As(const Caller* caller) const { return caller != nullptr ? *caller : local_; }

  std::vector<issue::v1::IssueEvent> QueuedEvents() {
    std::vector<issue::v1::IssueEvent> events;
    absl::StatusOr<std::vector<Outbox::Item>> items = intake_->events().Peek(1000);
    EXPECT_TRUE(items.ok()) << items.status();
    if (!items.ok()) return events;
    for (const Outbox::Item& item : *items) events.emplace_back().ParseFromString(item.value);
    return events;
  }

  const std::string dir_ = testing::MakeTempDir("intake_core_test");
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  prometheus::Registry registry_;
  IntakeMetrics metrics_{registry_};
  fakes::FakeRouting routing_;
  std::unique_ptr<IntakeStore> intake_;
  IssueStore* store_ = nullptr;
  std::unique_ptr<IntakeCore> core_;
  const Caller local_ = Caller::Local();
  const Caller submitter_ = Caller::Local();
  std::string resolve_request_id_;  // the request_id Resolve() sends
  // What RoutedIssue() routes with besides a 60 s ack target.
  absl::Duration resolve_within_ = absl::ZeroDuration();
  absl::optional<issue::v1::SlaTerms> terms_;
};

TEST_F(IntakeCoreTest, SubmitStoresAReceivedIssue) {
  Issue input = NewIssue("Writes fail");
  input.set_state(issue::v1::STATE_RESOLVED);  // output only: ignored
  input.set_resolution("ignored");
  auto issue = Submit(input, "req-1");
  ASSERT_TRUE(issue.ok()) << issue.status();
  EXPECT_TRUE(IsValidIssueId(IssueIdFromName(issue->name()))) << issue->name();
  EXPECT_EQ(issue->state(), issue::v1::STATE_RECEIVED);
  EXPECT_EQ(issue->resolution(), "");
  EXPECT_EQ(issue->etag(), "1");
  EXPECT_EQ(issue->create_time().seconds(), 1'800'000'000);
  EXPECT_EQ(issue->title(), "Writes fail");

  v1::GetIssueRequest get;
  get.set_name(issue->name());
  auto stored = core_->Get(get, local_);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*stored, *issue));
}

// Each accepted issue queues one route task and its RECEIVED event, in the
// order the issues were accepted.
TEST_F(IntakeCoreTest, SubmitQueuesARouteTaskAndTheReceivedEventInOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto issue = Submit(NewIssue("Queued"), absl::StrCat("req-", i));
    ASSERT_TRUE(issue.ok());
    ids.emplace_back(IssueIdFromName(issue->name()));
  }
  absl::StatusOr<std::vector<Outbox::Item>> tasks = intake_->route_tasks().Peek(10);
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  std::vector<std::string> queued;
  for (const Outbox::Item& task : *tasks) queued.push_back(task.value);
  EXPECT_EQ(queued, ids);
  std::vector<std::string> received;
  for (const auto& event : QueuedEvents()) {
    EXPECT_EQ(event.type(), issue::v1::EVENT_TYPE_RECEIVED);
    received.emplace_back(IssueIdFromName(event.issue().name()));
  }
  EXPECT_EQ(received, ids);
  // A retry of an accepted request queues nothing more.
  ASSERT_TRUE(Submit(NewIssue("Queued"), "req-0").ok());
  EXPECT_EQ(intake_->route_tasks().Peek(10)->size(), 3u);
}

TEST_F(IntakeCoreTest, TheReceivedEventRecordsTheAuthenticatedSubmitter) {
  v1::SubmitIssueRequest request;
  *request.mutable_issue() = NewIssue("Over mutual TLS");
  request.set_request_id("req-mtls");
  const Caller crm("crm-gateway", {Role::kSubmitter}, {"crm"}, {});
  auto issue =
      Wait([&](IntakeCore::IssueDone done) { core_->Submit(request, crm, std::move(done)); });
  ASSERT_TRUE(issue.ok()) << issue.status();
  const auto events = QueuedEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), issue::v1::EVENT_TYPE_RECEIVED);
  EXPECT_EQ(events[0].caller(), "crm-gateway");
  // Without authentication nobody is named.
  ASSERT_TRUE(Submit(NewIssue("Local"), "req-local").ok());
  EXPECT_EQ(QueuedEvents().back().caller(), "");
}

TEST_F(IntakeCoreTest, InvalidSubmissionsListEveryViolation) {
  auto result = Submit(Issue(), "");
  ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& violation : GetFieldViolations(result.status()))
    fields.push_back(violation.field);
  EXPECT_THAT(fields, ElementsAre("issue.title", "issue.customer", "issue.product",
                                  "issue.severity", "issue.source", "request_id"));
  EXPECT_FALSE(Submit(NewIssue("t"), std::string(129, 'r')).ok());
}

TEST_F(IntakeCoreTest, SameRequestSameIssueIsIdempotent) {
  auto first = Submit(NewIssue("Writes fail"), "req-1");
  ASSERT_TRUE(first.ok());
  Issue reordered = NewIssue("Writes fail");
  reordered.mutable_labels()->clear();
  (*reordered.mutable_labels())["b"] = "2";
  (*reordered.mutable_labels())["a"] = "1";
  auto again = Submit(reordered, "req-1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name(), first->name());
  EXPECT_THAT(ListTitles(""), ElementsAre("Writes fail"));

  auto different = Submit(NewIssue("Reads fail"), "req-1");
  EXPECT_EQ(different.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(different.status().message()), HasSubstr("req-1"));
}

TEST_F(IntakeCoreTest, ConcurrentRetriesOfOneRequestCreateOneIssue) {
  constexpr int kThreads = 8;
  std::vector<std::string> names(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto issue = Submit(NewIssue(absl::StrCat("issue ", i)), absl::StrCat("req-", i));
        ASSERT_TRUE(issue.ok()) << issue.status();
        if (i == 19) names[t] = issue->name();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const std::string& name : names) EXPECT_EQ(name, names[0]);
  EXPECT_EQ(ListTitles("").size(), 20u);
}

TEST_F(IntakeCoreTest, IdempotencyAndIdsSurviveRestart) {
  auto first = Submit(NewIssue("Before restart"), "req-1");
  ASSERT_TRUE(first.ok());
  Close();
  clock_.Advance(-absl::Hours(1));  // the clock stepped back meanwhile
  Open();
  auto again = Submit(NewIssue("Before restart"), "req-1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->name(), first->name());
  auto next = Submit(NewIssue("After restart"), "req-2");
  ASSERT_TRUE(next.ok());
  EXPECT_LT(first->name(), next->name());
  EXPECT_THAT(ListTitles(""), ElementsAre("After restart", "Before restart"));
}

TEST_F(IntakeCoreTest, GetRefusesMalformedNamesAndReportsMissingOnes) {
  v1::GetIssueRequest get;
  get.set_name("tickets/1");
  auto malformed = core_->Get(get, local_);
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(malformed.status()).at(0).field, "name");
  get.set_name("issues/01hzzzzzzzzzzzzzzzzzzzzzzz");
  EXPECT_EQ(core_->Get(get, local_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(IntakeCoreTest, ListsNewestFirstWithFiltersAndPaging) {
  for (int i = 0; i < 10; ++i) {
    Issue issue = NewIssue(absl::StrCat("issue ", i), i % 2 == 0 ? "azure-storage" : "xbox");
    if (i % 3 == 0) issue.set_source("partner-portal");
    if (i == 7) issue.set_severity(issue::v1::SEVERITY_CRITICAL);
    ASSERT_TRUE(Submit(issue, absl::StrCat("req-", i)).ok());
    clock_.Advance(absl::Milliseconds(1));
  }
  EXPECT_THAT(ListTitles("", 3),
              ElementsAre("issue 9", "issue 8", "issue 7", "issue 6", "issue 5", "issue 4",
                          "issue 3", "issue 2", "issue 1", "issue 0"));
  EXPECT_THAT(ListTitles("product=xbox", 2),
              ElementsAre("issue 9", "issue 7", "issue 5", "issue 3", "issue 1"));
  EXPECT_THAT(ListTitles("source=partner-portal AND product=azure-storage"),
              ElementsAre("issue 6", "issue 0"));
  EXPECT_THAT(ListTitles("severity=SEVERITY_CRITICAL"), ElementsAre("issue 7"));
  EXPECT_EQ(ListTitles("state=STATE_RECEIVED AND customer.id=contoso").size(), 10u);
  EXPECT_TRUE(ListTitles("state=STATE_ROUTED").empty());
  EXPECT_TRUE(ListTitles("team=storage-oncall").empty());
}

TEST_F(IntakeCoreTest, PagingWhileIssuesArriveNeverRepeats) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(Submit(NewIssue(absl::StrCat("old ", i)), absl::StrCat("o", i)).ok());
  v1::ListIssuesRequest request;
  request.set_page_size(2);
  absl::flat_hash_set<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    auto response = core_->List(request, local_);
    ASSERT_TRUE(response.ok());
    for (const Issue& issue : response->issues())
      EXPECT_TRUE(seen.insert(issue.name()).second) << issue.name();
    ASSERT_TRUE(Submit(NewIssue(absl::StrCat("new ", page)), absl::StrCat("n", page)).ok());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  EXPECT_EQ(seen.size(), 5u);
}

TEST_F(IntakeCoreTest, PageTokensAreBoundToTheirFilter) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(Submit(NewIssue(absl::StrCat("i", i)), absl::StrCat("r", i)).ok());
  v1::ListIssuesRequest request;
  request.set_page_size(1);
  request.set_filter("product=azure-storage");
  auto first = core_->List(request, local_);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->next_page_token().empty());
  request.set_page_token(first->next_page_token());
  request.set_filter("product=xbox");
  EXPECT_EQ(core_->List(request, local_).status().code(), absl::StatusCode::kInvalidArgument);
  request.set_filter("colour=red");
  EXPECT_EQ(core_->List(request, local_).status().code(), absl::StatusCode::kInvalidArgument);
  request.clear_page_token();
  request.clear_filter();
  request.set_page_size(1001);
  EXPECT_EQ(core_->List(request, local_).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IntakeCoreTest, RoutingRecordsTheDecisionOnceAndArmsTheTimer) {
  const Issue routed = RoutedIssue("req-1");
  EXPECT_EQ(routed.state(), issue::v1::STATE_ROUTED);
  EXPECT_EQ(routed.etag(), "2");
  EXPECT_EQ(routed.assignment().target().team(), "storage");
  EXPECT_EQ(routed.assignment().rule(), "storage-rule");
  EXPECT_EQ(routed.ack_deadline().seconds(), 1'800'000'060);
  EXPECT_FALSE(routed.has_resolve_deadline());
  auto timer = store_->FirstTimer();
  ASSERT_TRUE(timer.ok() && timer->has_value());
  EXPECT_EQ((*timer)->issue_id, IssueIdFromName(routed.name()));
  EXPECT_TRUE(intake_->route_tasks().Peek(10)->empty());

  // A second decision (a retry) changes nothing.
  routing::v1::RoutingDecision other;
  other.mutable_target()->set_team("compute");
  ASSERT_TRUE(RecordRouting(routed, other).ok());
  auto again = core_->Current(IssueIdFromName(routed.name()));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->assignment().target().team(), "storage");
  EXPECT_EQ(again->etag(), "2");
  EXPECT_THAT(ListTitles("team=storage AND state=STATE_ROUTED"), ElementsAre("req-1"));

  const auto events = QueuedEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type(), issue::v1::EVENT_TYPE_RECEIVED);
  EXPECT_EQ(events[1].type(), issue::v1::EVENT_TYPE_ROUTED);
  EXPECT_THAT(events[1].recipients(), ElementsAre("teams/storage", "business-groups/cloud"));
}

TEST_F(IntakeCoreTest, OnlyMembersOfTheOwningTeamAcknowledgeResolveOrTransfer) {
  const Issue routed = RoutedIssue("req-owner");  // owned by team storage
  const Caller compute("compute-bot", {Role::kTeamMember}, {}, {"compute"});
  const Caller storage("storage-bot", {Role::kTeamMember}, {}, {"storage"});
  EXPECT_EQ(Acknowledge(routed, "", &compute).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Resolve(routed, "fixed", &compute).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Transfer(routed, "compute", "", &compute).status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<Issue> unchanged = core_->Current(IssueIdFromName(routed.name()));
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->etag(), routed.etag()) << "a refused change wrote something";

  auto transferred = Transfer(routed, "compute", "", &storage);
  ASSERT_TRUE(transferred.ok()) << transferred.status();
  // The new owner resolves it; the old one no longer may.
  EXPECT_EQ(Resolve(*transferred, "fixed", &storage).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto resolved = Resolve(*transferred, "fixed", &compute);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  const auto events = QueuedEvents();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type(), issue::v1::EVENT_TYPE_RESOLVED);
  EXPECT_EQ(events.back().caller(), "compute-bot");
}

TEST_F(IntakeCoreTest, AcknowledgeThenResolve) {
  const Issue routed = RoutedIssue("req-1");
  auto acked = Acknowledge(routed, routed.etag());
  ASSERT_TRUE(acked.ok()) << acked.status();
  EXPECT_EQ(acked->state(), issue::v1::STATE_ACKNOWLEDGED);
  EXPECT_EQ(acked->etag(), "3");
  EXPECT_FALSE(store_->FirstTimer()->has_value());  // acknowledged: no escalation

  auto twice = Acknowledge(routed);  // idempotent, whatever the etag
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->etag(), "3");

  EXPECT_EQ(Resolve(*acked, "").status().code(), absl::StatusCode::kInvalidArgument);
  auto resolved = Resolve(*acked, "Replaced the failed node");
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->state(), issue::v1::STATE_RESOLVED);
  EXPECT_EQ(resolved->resolution(), "Replaced the failed node");
  EXPECT_EQ(Resolve(*resolved).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Acknowledge(*resolved).status().code(), absl::StatusCode::kFailedPrecondition);

  const auto events = QueuedEvents();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].type(), issue::v1::EVENT_TYPE_ACKNOWLEDGED);
  EXPECT_EQ(events[2].actor(), "oncall@storage");
  EXPECT_THAT(events[3].recipients(),
              ElementsAre("teams/storage", "sources/crm", "submitters/jane@contoso.com"));
  EXPECT_THAT(ListTitles("state=STATE_RESOLVED"), ElementsAre("req-1"));
  EXPECT_TRUE(ListTitles("state=STATE_ROUTED").empty());
}

TEST_F(IntakeCoreTest, StaleEtagsAreAborted) {
  const Issue routed = RoutedIssue("req-1");
  EXPECT_EQ(Acknowledge(routed, "1").status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Transfer(routed, "compute", "7").status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(Acknowledge(routed, "2").ok());
}

TEST_F(IntakeCoreTest, StateMachineRefusesWrongStates) {
  auto received = Submit(NewIssue("not routed"), "req-1");
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(Acknowledge(*received).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Resolve(*received).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Transfer(*received, "compute").status().code(), absl::StatusCode::kFailedPrecondition);
  Issue missing = *received;
  missing.set_name("issues/01hzzzzzzzzzzzzzzzzzzzzzzz");
  EXPECT_EQ(Acknowledge(missing).status().code(), absl::StatusCode::kNotFound);
  missing.set_name("bad");
  auto invalid = Acknowledge(missing);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(invalid.status()).at(0).field, "name");
}

TEST_F(IntakeCoreTest, TransferIsManualAndResetsTheAckClock) {
  const Issue routed = RoutedIssue("req-1");
  ASSERT_TRUE(Acknowledge(routed).ok());
  clock_.Advance(absl::Minutes(5));
  auto transferred = Transfer(routed, "compute");
  ASSERT_TRUE(transferred.ok()) << transferred.status();
  EXPECT_EQ(transferred->state(), issue::v1::STATE_ROUTED);  // the new owner must acknowledge
  EXPECT_EQ(transferred->assignment().target().team(), "compute");
  EXPECT_TRUE(transferred->assignment().manual());
  EXPECT_EQ(transferred->assignment().rule(), "");
  EXPECT_EQ(transferred->ack_deadline().seconds(), 1'800'000'000 + 300 + 120);
  EXPECT_EQ(Transfer(routed, "no-such-team").status().code(), absl::StatusCode::kInvalidArgument);
  routing_.set_available(false);
  EXPECT_EQ(Transfer(routed, "storage").status().code(), absl::StatusCode::kUnavailable);

  const auto events = QueuedEvents();
  const auto& event = events.back();
  EXPECT_EQ(event.type(), issue::v1::EVENT_TYPE_TRANSFERRED);
  EXPECT_EQ(event.reason(), "belongs to compute");
  EXPECT_THAT(event.recipients(), ElementsAre("teams/compute", "sources/crm",
                                              "submitters/jane@contoso.com", "teams/storage"));
}

TEST_F(IntakeCoreTest, ARetriedLifecycleCallWithItsRequestIdReturnsTheFirstOutcome) {
  const Issue routed = RoutedIssue("req-1");
  const Caller storage("storage-bot", {Role::kTeamMember}, {}, {"storage"});
  auto transferred = Transfer(routed, "compute", "", &storage, "move-1");
  ASSERT_TRUE(transferred.ok()) << transferred.status();
  // The reply was lost; the retry comes from a caller who no longer owns
  // the issue, and would be refused if it were acted on again.
  auto retried = Transfer(routed, "compute", "", &storage, "move-1");
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->etag(), transferred->etag());
  EXPECT_EQ(retried->assignment().target().team(), "compute");
  int transfers = 0;
  for (const auto& event : QueuedEvents()) {
    transfers += event.type() == issue::v1::EVENT_TYPE_TRANSFERRED;
  }
  EXPECT_EQ(transfers, 1) << "a retry emits nothing";
  // The same request_id for another request, or from another caller, is
  // refused, naming the field.
  EXPECT_EQ(Transfer(routed, "compute", "", nullptr, "move-1").status().code(),
            absl::StatusCode::kAlreadyExists);
  auto other = Transfer(routed, "network", "", &storage, "move-1");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(GetFieldViolations(other.status()),
              ElementsAre(::testing::Field(&FieldViolation::field, "request_id")));
  // Kept with the issue across a restart, after the issue moved on.
  resolve_request_id_ = "close-1";
  auto resolved = Resolve(routed);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  Close();
  Open();
  auto again = Transfer(routed, "compute", "", &storage, "move-1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->state(), issue::v1::STATE_ROUTED) << "the first outcome, not the issue now";
  auto resolved_again = Resolve(routed);
  ASSERT_TRUE(resolved_again.ok()) << resolved_again.status();
  EXPECT_EQ(resolved_again->etag(), resolved->etag());
  resolve_request_id_.clear();
  EXPECT_EQ(Resolve(routed).status().code(), absl::StatusCode::kFailedPrecondition)
      << "without a request_id the call is judged anew";
}

TEST_F(IntakeCoreTest, EscalationMovesOnlyALiveTimer) {
  const Issue routed = RoutedIssue("req-1");
  const std::string id(IssueIdFromName(routed.name()));
  const std::string key = TimerKey(routed);
  routing::v1::RoutingDecision next;
  next.mutable_target()->set_business_group("cloud");
  next.mutable_target()->set_team("storage-lead");
  *next.mutable_original_target() = routed.assignment().target();
  next.set_escalation_level(1);
  next.mutable_ack_within()->set_seconds(60);
  clock_.Advance(absl::Seconds(61));
  const SlaTimer timer = *DecodeTimerKey(key);
  ASSERT_TRUE(core_->RecordEscalation(timer, &next).ok());
  auto escalated = core_->Current(id);
  ASSERT_TRUE(escalated.ok()) << escalated.status();
  EXPECT_EQ(escalated->assignment().target().team(), "storage-lead");
  EXPECT_EQ(escalated->assignment().escalation_level(), 1);
  EXPECT_EQ(escalated->ack_deadline().seconds(), 1'800'000'000 + 61 + 60);
  EXPECT_EQ((*store_->FirstTimer())->key, TimerKey(*escalated));

  // The old timer firing again (a retry) changes nothing.
  ASSERT_TRUE(core_->RecordEscalation(timer, &next).ok());
  auto stale = core_->Current(id);
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->etag(), escalated->etag());
  EXPECT_THAT(QueuedEvents().back().recipients(),
              ElementsAre("teams/storage-lead", "sources/crm", "submitters/jane@contoso.com",
                          "teams/storage"));
}

TEST_F(IntakeCoreTest, CensusCountsOpenIssuesByStateAndGroupAndZeroesEmptiedSeries) {
  const Issue first = RoutedIssue("req-1");
  clock_.Advance(absl::Minutes(10));
  const Issue second = RoutedIssue("req-2");
  ASSERT_TRUE(Submit(NewIssue("waiting"), "req-3").ok());  // never routed
  clock_.Advance(absl::Minutes(5));

  core_->open_issues().WaitUntilLoaded();
  OpenIssueCensus census(core_->open_issues(), metrics_, clock_, absl::Hours(1));
  auto counted = census.RunOnce();
  using Key = OpenIssueCensus::Key;
  ASSERT_EQ(counted.size(), 2u);
  EXPECT_EQ(counted.at(Key("routed", "cloud")).issues, 2);
  EXPECT_EQ(counted.at(Key("routed", "cloud")).oldest, absl::Minutes(15));
  EXPECT_EQ(counted.at(Key("received", "")).issues, 1);
  EXPECT_EQ(counted.at(Key("received", "")).oldest, absl::Minutes(5));
  const auto gauge = [&](const std::string& state, const std::string& group) {
    return metrics_.open_issues.Add({{"state", state}, {"business_group", group}}).Value();
  };
  EXPECT_EQ(gauge("routed", "cloud"), 2);
  EXPECT_EQ(metrics_.open_issue_oldest_age.Add({{"state", "routed"}, {"business_group", "cloud"}})
                .Value(),
            900);

  // Both acknowledged, one resolved: routed empties and reads 0, not 2.
  ASSERT_TRUE(Acknowledge(first).ok());
  ASSERT_TRUE(Resolve(*Acknowledge(second)).ok());
  counted = census.RunOnce();
  EXPECT_EQ(counted.at(Key("acknowledged", "cloud")).issues, 1);
  EXPECT_EQ(gauge("routed", "cloud"), 0);
  EXPECT_EQ(gauge("acknowledged", "cloud"), 1);
  EXPECT_EQ(gauge("received", ""), 1);
}

// The tally moves with each durable change and, after a restart, is loaded
// again from what is stored: the two agree.
TEST_F(IntakeCoreTest, OpenIssueTallyFollowsChangesAndIsTheSameAfterARestart) {
  const Issue first = RoutedIssue("req-1");
  clock_.Advance(absl::Minutes(1));
  const Issue second = RoutedIssue("req-2");
  ASSERT_TRUE(Submit(NewIssue("waiting"), "req-3").ok());
  ASSERT_TRUE(Resolve(*Acknowledge(first)).ok());
  ASSERT_TRUE(Acknowledge(second).ok());
  using Key = OpenIssues::Key;
  core_->open_issues().WaitUntilLoaded();
  const auto live = core_->open_issues().Tallies();
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live.at(Key(issue::v1::STATE_ACKNOWLEDGED, "cloud")).issues, 1);
  EXPECT_EQ(live.at(Key(issue::v1::STATE_ACKNOWLEDGED, "cloud")).oldest,
            FromProtoTime(second.create_time()));
  EXPECT_EQ(live.at(Key(issue::v1::STATE_RECEIVED, "")).issues, 1);

  Close();
  Open();
  core_->open_issues().WaitUntilLoaded();
  const auto loaded = core_->open_issues().Tallies();
  ASSERT_EQ(loaded.size(), live.size());
  for (const auto& [key, tally] : live) {
    EXPECT_EQ(loaded.at(key).issues, tally.issues);
    EXPECT_EQ(loaded.at(key).oldest, tally.oldest);
  }
}

// Intake tells the tally of an issue's changes as their commits complete,
// on different threads: an acknowledgement may be told before the routing
// it followed.
TEST_F(IntakeCoreTest, OpenIssueTallyAddsUpChangesToldOutOfOrder) {
  std::unique_ptr<OpenIssues> open = OpenIssues::Load(*store_);  // nothing stored yet
  open->WaitUntilLoaded();
  const absl::Time created = absl::FromUnixSeconds(1000);
  const OpenIssues::Place received{issue::v1::STATE_RECEIVED, "", created};
  const OpenIssues::Place routed{issue::v1::STATE_ROUTED, "cloud", created};
  const OpenIssues::Place acknowledged{issue::v1::STATE_ACKNOWLEDGED, "cloud", created};
  open->Changed(nullptr, received);
  open->Changed(&routed, acknowledged);  // told first
  using Key = OpenIssues::Key;
  auto tallies = open->Tallies();  // routed is at -1 for now: not shown
  EXPECT_EQ(tallies.count(Key(issue::v1::STATE_ROUTED, "cloud")), 0u);
  open->Changed(&received, routed);
  tallies = open->Tallies();
  ASSERT_EQ(tallies.size(), 1u);
  EXPECT_EQ(tallies.at(Key(issue::v1::STATE_ACKNOWLEDGED, "cloud")).issues, 1);
  EXPECT_EQ(tallies.at(Key(issue::v1::STATE_ACKNOWLEDGED, "cloud")).oldest, created);
}

TEST(IntakeMetricsTest, LabelsFromCallersAreBounded) {
  prometheus::Registry registry;
  IntakeMetrics metrics(registry);
  for (size_t i = 0; i < IntakeMetrics::kMaxSources + 50; ++i) {
    metrics.CountSubmitted(absl::StrCat("source-", i), "SEVERITY_LOW");
  }
  metrics.CountSubmitted("source-0", "SEVERITY_LOW");  // an early one stays itself
  const auto families = registry.Collect();
  size_t series = 0;
  double other = 0;
  double first = 0;
  for (const auto& family : families) {
    if (family.name != "switchboard_intake_issues_submitted_total") continue;
    series = family.metric.size();
    for (const auto& sample : family.metric) {
      for (const auto& label : sample.label) {
        if (label.name != "source") continue;
        if (label.value == "other") other = sample.counter.value;
        if (label.value == "source-0") first = sample.counter.value;
      }
    }
  }
  EXPECT_EQ(series, IntakeMetrics::kMaxSources + 1);
  EXPECT_EQ(other, 50);
  EXPECT_EQ(first, 2);
}

TEST(MakeEventTest, RecipientsFollowTheApi) {
  Issue issue = NewIssue("t");
  issue.set_name("issues/01hzzzzzzzzzzzzzzzzzzzzzzz");
  issue.set_etag("3");
  issue.mutable_assignment()->mutable_target()->set_business_group("cloud");
  issue.mutable_assignment()->mutable_target()->set_team("storage");
  auto* watcher = issue.mutable_assignment()->add_watchers();
  watcher->set_business_group("care");
  watcher->set_team("managers");
  const absl::Time now = absl::FromUnixSeconds(5);
  EXPECT_THAT(MakeEvent(issue::v1::EVENT_TYPE_RECEIVED, issue, now).recipients(),
              ElementsAre("sources/crm"));
  EXPECT_THAT(MakeEvent(issue::v1::EVENT_TYPE_ROUTED, issue, now).recipients(),
              ElementsAre("teams/storage", "business-groups/cloud", "teams/managers"));
  const auto resolved = MakeEvent(issue::v1::EVENT_TYPE_RESOLVED, issue, now);
  EXPECT_THAT(resolved.recipients(),
              ElementsAre("teams/storage", "sources/crm", "submitters/jane@contoso.com"));
  EXPECT_EQ(resolved.id(), "01hzzzzzzzzzzzzzzzzzzzzzzz/3/resolved");
  EXPECT_EQ(resolved.time().seconds(), 5);
}

// The clock stands at Friday 2027-01-15 08:00 UTC in these tests.
constexpr int64_t kFriday0800 = 1'800'000'000;

int64_t Seconds(const google::protobuf::Timestamp& time) { return time.seconds(); }

TEST_F(IntakeCoreTest, WaitingOnTheCustomerPausesTheSlaAndMovesTheDeadlines) {
  resolve_within_ = absl::Hours(1);
  Issue routed = RoutedIssue("req-1");
  ASSERT_EQ(Seconds(routed.ack_deadline()), kFriday0800 + 60);
  ASSERT_TRUE((*store_->FirstTimer()).has_value());
  clock_.Advance(absl::Seconds(10));
  auto waiting = WaitOn(routed);
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  EXPECT_EQ(waiting->state(), issue::v1::STATE_WAITING_ON_CUSTOMER);
  EXPECT_EQ(waiting->sla().question(), "Which region?");
  EXPECT_EQ(waiting->sla().state_before_wait(), issue::v1::STATE_ROUTED);
  EXPECT_FALSE((*store_->FirstTimer()).has_value()) << "no escalation while waiting";
  const auto asked = QueuedEvents().back();
  EXPECT_EQ(asked.type(), issue::v1::EVENT_TYPE_WAITING_ON_CUSTOMER);
  EXPECT_EQ(asked.reason(), "Which region?");
  EXPECT_THAT(asked.recipients(),
              ElementsAre("teams/storage", "sources/crm", "submitters/jane@contoso.com"));

  clock_.Advance(absl::Seconds(100));
  auto answered = Respond(*waiting);
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(answered->state(), issue::v1::STATE_ROUTED);
  EXPECT_EQ(Seconds(answered->ack_deadline()), kFriday0800 + 60 + 100);
  EXPECT_EQ(Seconds(answered->resolve_deadline()), kFriday0800 + 3600 + 100);
  EXPECT_EQ(FromProtoDuration(answered->sla().paused_duration()), absl::Seconds(100));
  EXPECT_FALSE(answered->sla().has_pause_start());
  EXPECT_EQ((*store_->FirstTimer())->key, TimerKey(*answered)) << "the timer is back, moved";
  EXPECT_EQ(QueuedEvents().back().type(), issue::v1::EVENT_TYPE_CUSTOMER_RESPONDED);
  EXPECT_EQ(QueuedEvents().back().reason(), "West Europe");

  // From ACKNOWLEDGED and back, by the team: the pauses add up.
  auto acknowledged = Acknowledge(*answered);
  ASSERT_TRUE(acknowledged.ok());
  EXPECT_EQ(acknowledged->sla().ack_outcome(), issue::v1::SLA_OUTCOME_MET);
  ASSERT_TRUE(WaitOn(*acknowledged).ok());
  clock_.Advance(absl::Seconds(50));
  auto resumed = Resume(*acknowledged);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->state(), issue::v1::STATE_ACKNOWLEDGED);
  EXPECT_EQ(Seconds(resumed->resolve_deadline()), kFriday0800 + 3600 + 150);
  EXPECT_EQ(FromProtoDuration(resumed->sla().paused_duration()), absl::Seconds(150));
  EXPECT_EQ(QueuedEvents().back().type(), issue::v1::EVENT_TYPE_RESUMED);
  EXPECT_EQ(metrics_.sla_paused_seconds.Add({{"business_group", "cloud"}}).Value(), 150);
}

TEST_F(IntakeCoreTest, APauseOnBusinessTimeCountsOnlyWorkingHours) {
  // 09:00-17:00 UTC on weekdays; 2 business hours to acknowledge.
  issue::v1::SlaTerms terms;
  terms.set_clock(issue::v1::SLA_CLOCK_BUSINESS);
  issue::v1::Calendar& calendar = *terms.mutable_calendar();
  calendar.set_id("office");
  calendar.set_time_zone("UTC");
  issue::v1::WorkingHours& hours = *calendar.add_hours();
  for (auto day :
       {issue::v1::WEEKDAY_MONDAY, issue::v1::WEEKDAY_TUESDAY, issue::v1::WEEKDAY_WEDNESDAY,
        issue::v1::WEEKDAY_THURSDAY, issue::v1::WEEKDAY_FRIDAY}) {
    hours.add_days(day);
  }
  hours.set_start("09:00");
  hours.set_end("17:00");
  terms.mutable_ack_within()->set_seconds(2 * 3600);
  terms_ = terms;
  Issue routed = RoutedIssue("req-1");
  // Routed at 08:00, before opening: the two hours run 09:00-11:00.
  EXPECT_EQ(Seconds(routed.ack_deadline()), kFriday0800 + 3 * 3600);
  clock_.Advance(absl::Hours(2));  // 10:00, one business hour used
  auto waiting = WaitOn(routed);
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  clock_.Advance(absl::Hours(72));  // Monday 10:00
  auto answered = Respond(*waiting);
  ASSERT_TRUE(answered.ok()) << answered.status();
  // Paused: Friday 10:00-17:00 and Monday 09:00-10:00; one hour was left.
  EXPECT_EQ(FromProtoDuration(answered->sla().paused_duration()), absl::Hours(8));
  EXPECT_EQ(Seconds(answered->ack_deadline()), kFriday0800 + 74 * 3600 + 3600);
}

TEST_F(IntakeCoreTest, WaitingOnTheCustomerRefusesTheWrongStateCallerAndEtag) {
  const Caller storage("storage-bot", {Role::kTeamMember}, {}, {"storage"});
  const Caller compute("compute-bot", {Role::kTeamMember}, {}, {"compute"});
  const Caller crm("crm-gateway", {Role::kSubmitter}, {"crm"}, {});
  const Caller portal("portal", {Role::kSubmitter}, {"partner-portal"}, {});
  Issue routed = RoutedIssue("req-1");
  EXPECT_EQ(Respond(routed).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Resume(routed).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(WaitOn(routed, "?", &compute).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(WaitOn(routed, "?", &crm).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(WaitOn(routed, "?", &storage, "stale").status().code(), absl::StatusCode::kAborted);
  auto waiting = WaitOn(routed, "Which region?", &storage, routed.etag());
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  EXPECT_EQ(WaitOn(*waiting).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Respond(*waiting, "x", &storage).status().code(), absl::StatusCode::kPermissionDenied)
      << "the team does not answer for the customer";
  EXPECT_EQ(Respond(*waiting, "x", &portal).status().code(), absl::StatusCode::kPermissionDenied)
      << "nor does another source";
  EXPECT_EQ(Resume(*waiting, &crm).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Transfer(*waiting, "compute").status().code(), absl::StatusCode::kFailedPrecondition);
  auto answered = Respond(*waiting, "West Europe", &crm);
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(QueuedEvents().back().caller(), "crm-gateway");
  // Resolving while waiting ends the pause.
  ASSERT_TRUE(WaitOn(*answered).ok());
  clock_.Advance(absl::Seconds(30));
  auto resolved = Resolve(*answered);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(FromProtoDuration(resolved->sla().paused_duration()), absl::Seconds(30));
  EXPECT_FALSE(resolved->sla().has_pause_start());
}

TEST_F(IntakeCoreTest, ARetriedAnswerWithItsRequestIdAnswersOnce) {
  Issue routed = RoutedIssue("req-1");
  auto waiting = WaitOn(routed);
  ASSERT_TRUE(waiting.ok());
  auto first = Respond(*waiting, "West Europe", nullptr, "answer-1");
  ASSERT_TRUE(first.ok()) << first.status();
  auto retried = Respond(*waiting, "West Europe", nullptr, "answer-1");
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->etag(), first->etag());
  int answers = 0;
  for (const auto& event : QueuedEvents()) {
    answers += event.type() == issue::v1::EVENT_TYPE_CUSTOMER_RESPONDED;
  }
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(Respond(*waiting, "East US", nullptr, "answer-1").status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(IntakeCoreTest, AResolvedIssueReopensToItsOwnerWithinTheWindowOnly) {
  const Caller crm("crm-gateway", {Role::kSubmitter}, {"crm"}, {});
  const Caller portal("portal", {Role::kSubmitter}, {"partner-portal"}, {});
  const Caller operator_("ops", {Role::kOperator}, {}, {});
  resolve_within_ = absl::Hours(1);
  Issue routed = RoutedIssue("req-1");
  EXPECT_EQ(Reopen(routed).status().code(), absl::StatusCode::kFailedPrecondition);
  clock_.Advance(absl::Hours(2));
  auto resolved = Resolve(routed);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->sla().resolve_outcome(), issue::v1::SLA_OUTCOME_BREACHED);
  EXPECT_EQ(Seconds(resolved->resolve_time()), kFriday0800 + 7200);
  EXPECT_EQ(Reopen(*resolved, &portal).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Reopen(*resolved, &crm, "stale").status().code(), absl::StatusCode::kAborted);

  clock_.Advance(absl::Hours(24));
  auto reopened = Reopen(*resolved, &crm);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->state(), issue::v1::STATE_ROUTED);
  EXPECT_EQ(reopened->assignment().target().team(), "storage");
  EXPECT_EQ(reopened->sla().reopen_count(), 1);
  EXPECT_EQ(reopened->sla().resolve_outcome(), issue::v1::SLA_OUTCOME_UNSPECIFIED);
  EXPECT_EQ(reopened->resolution(), "");
  const int64_t now = kFriday0800 + 26 * 3600;
  EXPECT_EQ(Seconds(reopened->ack_deadline()), now + 60) << "the ack SLA starts again";
  EXPECT_EQ(Seconds(reopened->resolve_deadline()), now + 3600);
  EXPECT_EQ((*store_->FirstTimer())->key, TimerKey(*reopened));
  const auto event = QueuedEvents().back();
  EXPECT_EQ(event.type(), issue::v1::EVENT_TYPE_REOPENED);
  EXPECT_EQ(event.reason(), "still failing");
  EXPECT_THAT(event.recipients(),
              ElementsAre("teams/storage", "sources/crm", "submitters/jane@contoso.com"));
  EXPECT_EQ(metrics_.reopened.Add({{"business_group", "cloud"}}).Value(), 1);

  // Past the default window of 7 days: a new issue, not a reopen. Operators
  // are held to the window too.
  auto again = Resolve(*reopened);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sla().resolve_outcome(), issue::v1::SLA_OUTCOME_MET);
  clock_.Advance(absl::Hours(7 * 24) + absl::Seconds(1));
  auto late = Reopen(*again, &operator_);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(late.status().message(), HasSubstr("reopen window of 168h ended"));
  EXPECT_THAT(late.status().message(), HasSubstr("file a new issue"));
  EXPECT_THAT(GetFieldViolations(late.status()),
              ElementsAre(::testing::Field(&FieldViolation::field, "name")));
  clock_.Advance(-absl::Hours(1));
  auto by_operator = Reopen(*again, &operator_);
  ASSERT_TRUE(by_operator.ok()) << by_operator.status();
  EXPECT_EQ(by_operator->sla().reopen_count(), 2);
}

TEST_F(IntakeCoreTest, TheCustomerRatesAResolvedIssueAndMayChangeTheRating) {
  const Caller crm("crm-gateway", {Role::kSubmitter}, {"crm"}, {});
  const Caller storage("storage-bot", {Role::kTeamMember}, {}, {"storage"});
  Issue routed = RoutedIssue("req-1");
  EXPECT_EQ(Rate(routed, 5).status().code(), absl::StatusCode::kFailedPrecondition);
  auto resolved = Resolve(routed);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(Rate(*resolved, 5, &storage).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Rate(*resolved, 6, &crm).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Rate(*resolved, 0, &crm).status().code(), absl::StatusCode::kInvalidArgument);
  auto rated = Rate(*resolved, 2, &crm);
  ASSERT_TRUE(rated.ok()) << rated.status();
  EXPECT_EQ(rated->sla().rating(), 2);
  EXPECT_EQ(rated->sla().rating_comment(), "thanks");
  EXPECT_EQ(rated->state(), issue::v1::STATE_RESOLVED);
  EXPECT_EQ(QueuedEvents().back().type(), issue::v1::EVENT_TYPE_RATED);
  EXPECT_THAT(ListTitles("rating=2"), ElementsAre("req-1"));
  auto rerated = Rate(*rated, 4, &crm);
  ASSERT_TRUE(rerated.ok());
  EXPECT_THAT(ListTitles("rating=2"), ElementsAre());
  EXPECT_THAT(ListTitles("rating=4"), ElementsAre("req-1"));
  const auto ratings = [&](prometheus::Family<prometheus::Counter>& family, const char* rating) {
    return family.Add({{"business_group", "cloud"}, {"team", "storage"}, {"rating", rating}})
        .Value();
  };
  EXPECT_EQ(ratings(metrics_.csat_ratings, "2"), 1);
  EXPECT_EQ(ratings(metrics_.csat_ratings, "4"), 1);
  EXPECT_EQ(ratings(metrics_.csat_ratings_replaced, "2"), 1) << "the 2 no longer stands";
  clock_.Advance(absl::Hours(7 * 24) + absl::Seconds(1));
  EXPECT_EQ(Rate(*rerated, 5, &crm).status().code(), absl::StatusCode::kFailedPrecondition);
  auto listed = core_->List(
      [] {
        v1::ListIssuesRequest request;
        request.set_filter("rating=9");
        return request;
      }(),
      local_);
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IntakeCoreTest, SlaOutcomesAreDecidedOnceAndCounted) {
  const auto outcomes = [&](const char* target, const char* outcome) {
    return metrics_.sla_outcomes
        .Add({{"business_group", "cloud"}, {"target", target}, {"outcome", outcome}})
        .Value();
  };
  resolve_within_ = absl::Hours(1);
  Issue met = RoutedIssue("req-1");
  ASSERT_TRUE(Resolve(*Acknowledge(met)).ok());
  EXPECT_EQ(outcomes("ack", "met"), 1);
  EXPECT_EQ(outcomes("resolve", "met"), 1);

  // Not acknowledged in time, escalations exhausted: breached when the timer
  // fires, and acknowledging later does not count it again.
  Issue late = RoutedIssue("req-2");
  clock_.Advance(absl::Seconds(61));
  ASSERT_TRUE(core_->RecordEscalation(*DecodeTimerKey(TimerKey(late)), nullptr).ok());
  auto breached = core_->Current(IssueIdFromName(late.name()));
  EXPECT_EQ(breached->sla().ack_outcome(), issue::v1::SLA_OUTCOME_BREACHED);
  EXPECT_FALSE(breached->has_ack_deadline()) << "the deadline went with its timer";
  EXPECT_FALSE((*store_->FirstTimer()).has_value());
  // A wait and an answer do not arm the fired timer again.
  ASSERT_TRUE(WaitOn(*breached).ok());
  auto answered = Respond(*breached);
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_FALSE((*store_->FirstTimer()).has_value());
  auto acknowledged = Acknowledge(*answered);
  ASSERT_TRUE(acknowledged.ok());
  EXPECT_EQ(acknowledged->sla().ack_outcome(), issue::v1::SLA_OUTCOME_BREACHED);
  EXPECT_EQ(outcomes("ack", "breached"), 1);
  EXPECT_EQ(outcomes("ack", "met"), 1);

  // Acknowledged in time, then transferred, and the new owner's deadline
  // passes: the outcome was decided and is neither changed nor counted again.
  Issue moved = *Transfer(*Acknowledge(RoutedIssue("req-3")), "compute");
  clock_.Advance(absl::Seconds(61));
  routing::v1::RoutingDecision next;
  next.mutable_target()->set_business_group("cloud");
  next.mutable_target()->set_team("compute-lead");
  *next.mutable_original_target() = moved.assignment().target();
  next.set_escalation_level(1);
  ASSERT_TRUE(core_->RecordEscalation(*DecodeTimerKey(TimerKey(moved)), &next).ok());
  EXPECT_EQ(core_->Current(IssueIdFromName(moved.name()))->sla().ack_outcome(),
            issue::v1::SLA_OUTCOME_MET);
  EXPECT_EQ(outcomes("ack", "met"), 2);
  EXPECT_EQ(outcomes("ack", "breached"), 1);
}

}  // namespace
}  // namespace switchboard::intake
