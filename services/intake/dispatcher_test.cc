#include "services/intake/dispatcher.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/subprocess.h"
#include "services/intake/testing/fake_peers.h"

namespace switchboard::intake {
namespace {

using issue::v1::Issue;
using ::testing::ElementsAre;

constexpr absl::Duration kPatience = absl::Seconds(20);

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    auto db = Database::Open({.path = dir_, .column_families = IssueStore::ColumnFamilies()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    commits_ = std::make_unique<CommitQueue>(db_->db(), CommitQueue::Options{.name = "intake"});
    store_ = std::make_unique<IssueStore>(*db_);
    auto core = IntakeCore::Create(*store_, *commits_, metrics_, routing_, clock_);
    ASSERT_TRUE(core.ok()) << core.status();
    core_ = std::move(*core);
    dispatcher_ = std::make_unique<Dispatcher>(
        *core_, *store_, *commits_, routing_, notification_, metrics_, clock_,
        Dispatcher::Options{
            .idle_poll = absl::Milliseconds(50),
            .backoff = {.initial = absl::Milliseconds(5), .max = absl::Milliseconds(50)}});
    ASSERT_TRUE(dispatcher_->Start().ok());
  }

  void Close() {
    dispatcher_.reset();
    core_.reset();
    commits_.reset();
    store_.reset();
    db_.reset();
  }

  Issue Submit(const std::string& title, const std::string& product = "storage") {
    v1::SubmitIssueRequest request;
    Issue& issue = *request.mutable_issue();
    issue.set_title(title);
    issue.mutable_customer()->set_id("contoso");
    issue.set_product(product);
    issue.set_severity(issue::v1::SEVERITY_HIGH);
    issue.set_source("crm");
    issue.set_submitter("jane");
    request.set_request_id(title);
    Notification done;
    absl::StatusOr<Issue> result;
    core_->Submit(request, [&](absl::StatusOr<Issue> outcome) {
      result = std::move(outcome);
      done.Notify();
    });
    done.WaitForNotification();
    EXPECT_TRUE(result.ok()) << result.status();
    return *result;
  }

  // Polls (bounded) until `condition` holds.
  bool Eventually(absl::FunctionRef<bool()> condition) {
    const absl::Time deadline = absl::Now() + kPatience;
    while (absl::Now() < deadline) {
      if (condition()) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return condition();
  }

  Issue Stored(const Issue& issue) {
    v1::GetIssueRequest get;
    get.set_name(issue.name());
    return core_->Get(get, local_).value();
  }

  std::vector<std::string> TypesFor(const std::string& subscriber) {
    std::vector<std::string> types;
    for (const auto& event : notification_.EventsFor(subscriber)) {
      types.push_back(absl::StrCat(issue::v1::EventType_Name(event.type()), "@",
                                   event.issue().assignment().target().team()));
    }
    return types;
  }

  const std::string dir_ = switchboard::testing::MakeTempDir("dispatcher_test");
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  prometheus::Registry registry_;
  IntakeMetrics metrics_{registry_};
  fakes::FakeRouting routing_;
  fakes::FakeNotification notification_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<IssueStore> store_;
  std::unique_ptr<IntakeCore> core_;
  const Caller local_ = Caller::Local();
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, SubmittedIssuesAreRoutedAndTheirEventsPublishedInOrder) {
  std::vector<Issue> issues;
  for (int i = 0; i < 50; ++i)
    issues.push_back(Submit(absl::StrCat("issue ", i), i % 2 ? "storage" : "compute"));
  ASSERT_TRUE(Eventually([&] { return notification_.events().size() == 100; }));
  for (const Issue& issue : issues) {
    const Issue stored = Stored(issue);
    EXPECT_EQ(stored.state(), issue::v1::STATE_ROUTED);
    EXPECT_EQ(stored.assignment().target().team(), issue.product() + "-team");
  }
  // Per issue: RECEIVED before ROUTED; every event id once.
  absl::flat_hash_map<std::string, int> seen;
  for (const auto& event : notification_.events()) {
    EXPECT_TRUE(seen.emplace(event.id(), 1).second) << event.id();
    if (event.type() == issue::v1::EVENT_TYPE_ROUTED) {
      EXPECT_TRUE(
          seen.contains(absl::StrCat(IssueIdFromName(event.issue().name()), "/1/received")));
    }
  }
  EXPECT_EQ(TypesFor("teams/storage-team").size(), 25u);
  EXPECT_EQ(TypesFor("sources/crm").size(), 50u);
  EXPECT_EQ(TypesFor("teams/care-managers").size(), 50u);  // watchers
}

TEST_F(DispatcherTest, RoutingDownThenUp) {
  routing_.set_available(false);
  const Issue issue = Submit("while routing is down");
  ASSERT_TRUE(Eventually([&] { return routing_.route_calls() >= 3; }));  // retrying
  EXPECT_EQ(Stored(issue).state(), issue::v1::STATE_RECEIVED);
  routing_.set_available(true);
  ASSERT_TRUE(Eventually([&] { return Stored(issue).state() == issue::v1::STATE_ROUTED; }));
}

TEST_F(DispatcherTest, NotificationDownThenUpLosesNothing) {
  notification_.set_available(false);
  std::vector<Issue> issues;
  for (int i = 0; i < 10; ++i) issues.push_back(Submit(absl::StrCat("issue ", i)));
  ASSERT_TRUE(Eventually([&] {
    for (const Issue& issue : issues) {
      if (Stored(issue).state() != issue::v1::STATE_ROUTED) return false;
    }
    return true;
  }));
  EXPECT_TRUE(notification_.events().empty());
  notification_.set_available(true);
  ASSERT_TRUE(Eventually([&] { return notification_.events().size() == 20; }));
}

TEST_F(DispatcherTest, WorkQueuedBeforeARestartIsDoneAfterIt) {
  routing_.set_available(false);
  notification_.set_available(false);
  const Issue issue = Submit("before the restart");
  Close();
  routing_.set_available(true);
  notification_.set_available(true);
  Open();
  ASSERT_TRUE(Eventually([&] { return Stored(issue).state() == issue::v1::STATE_ROUTED; }));
  ASSERT_TRUE(Eventually([&] { return notification_.events().size() == 2; }));
}

TEST_F(DispatcherTest, UnacknowledgedIssuesEscalateDownTheChainToItsEnd) {
  const Issue issue = Submit("nobody takes it");
  ASSERT_TRUE(Eventually([&] { return Stored(issue).state() == issue::v1::STATE_ROUTED; }));
  EXPECT_THAT(TypesFor("sources/crm"), ElementsAre("EVENT_TYPE_RECEIVED@"));

  clock_.Advance(absl::Seconds(59));  // not yet
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(Stored(issue).assignment().escalation_level(), 0);

  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(Eventually([&] { return Stored(issue).assignment().escalation_level() == 1; }));
  EXPECT_EQ(Stored(issue).assignment().target().team(), "storage-team-lead");
  clock_.Advance(absl::Seconds(61));
  ASSERT_TRUE(Eventually([&] { return Stored(issue).assignment().escalation_level() == 2; }));
  EXPECT_EQ(Stored(issue).assignment().target().team(), "duty-manager");
  clock_.Advance(absl::Seconds(61));  // the chain is exhausted: the timer goes, the owner stays
  ASSERT_TRUE(Eventually([&] { return !store_->FirstTimer()->has_value(); }));
  EXPECT_EQ(Stored(issue).assignment().target().team(), "duty-manager");

  ASSERT_TRUE(Eventually([&] { return TypesFor("sources/crm").size() == 3; }));
  EXPECT_THAT(TypesFor("sources/crm"),
              ElementsAre("EVENT_TYPE_RECEIVED@", "EVENT_TYPE_ESCALATED@storage-team-lead",
                          "EVENT_TYPE_ESCALATED@duty-manager"));
  EXPECT_THAT(
      TypesFor("teams/storage-team"),
      ElementsAre("EVENT_TYPE_ROUTED@storage-team", "EVENT_TYPE_ESCALATED@storage-team-lead"));
}

TEST_F(DispatcherTest, AcknowledgedIssuesDoNotEscalate) {
  const Issue issue = Submit("taken in time");
  ASSERT_TRUE(Eventually([&] { return Stored(issue).state() == issue::v1::STATE_ROUTED; }));
  v1::AcknowledgeIssueRequest ack;
  ack.set_name(issue.name());
  ack.set_actor("oncall");
  Notification done;
  core_->Acknowledge(ack, local_, [&](absl::StatusOr<Issue> result) {
    EXPECT_TRUE(result.ok());
    done.Notify();
  });
  done.WaitForNotification();
  clock_.Advance(absl::Hours(1));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(Stored(issue).state(), issue::v1::STATE_ACKNOWLEDGED);
  EXPECT_EQ(Stored(issue).assignment().escalation_level(), 0);
}

}  // namespace
}  // namespace switchboard::intake
