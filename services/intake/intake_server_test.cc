// The intake service as main.cc runs it, in-process: store, core, dispatch
// loops and gRPC service, with fake peers and a FakeClock.
#include "services/intake/intake_server.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/subprocess.h"
#include "services/intake/testing/fake_peers.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

namespace switchboard::intake {
namespace {

using issue::v1::Issue;
using ::testing::ElementsAre;

constexpr absl::Duration kPatience = absl::Seconds(20);

class IntakeServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    auto server = IntakeServer::Start({
        .data_dir = dir_,
        .routing = &routing_,
        .notification = &notification_,
        .route = {.loop = kLoop},
        .publish = {.loop = kLoop},
        .timers = kLoop,
        .sync = false,
        .clock = &clock_,
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
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
    grpc::ClientContext context;
    Issue submitted;
    const grpc::Status status = Stub().SubmitIssue(&context, request, &submitted);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return submitted;
  }

  v1::IntakeService::Stub& Stub() {
    if (stub_ == nullptr) {
      stub_ = v1::IntakeService::NewStub(grpc::CreateChannel(
          absl::StrCat("127.0.0.1:", server_->grpc_port()), grpc::InsecureChannelCredentials()));
    }
    return *stub_;
  }

  // Polls (bounded) until `condition` holds, moving the fake clock by
  // `tick` each time (so that backoffs pass).
  bool Eventually(absl::FunctionRef<bool()> condition, absl::Duration tick = absl::ZeroDuration()) {
    const absl::Time deadline = absl::Now() + kPatience;
    while (absl::Now() < deadline) {
      if (condition()) return true;
      clock_.Advance(tick);
      absl::SleepFor(absl::Milliseconds(2));
    }
    return condition();
  }

  Issue Stored(const Issue& issue) {
    return *server_->core().Current(IssueIdFromName(issue.name()));
  }

  std::vector<std::string> TypesFor(const std::string& subscriber) {
    std::vector<std::string> types;
    for (const auto& event : notification_.EventsFor(subscriber)) {
      types.push_back(absl::StrCat(issue::v1::EventType_Name(event.type()), "@",
                                   event.issue().assignment().target().team()));
    }
    return types;
  }

  static constexpr WorkerLoop::Options kLoop = {
      .idle_poll = absl::Seconds(1),
      .backoff = {.initial = absl::Milliseconds(10), .max = absl::Milliseconds(100)}};
  const std::string dir_ = switchboard::testing::MakeTempDir("intake_server_test");
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  fakes::FakeRouting routing_;
  fakes::FakeNotification notification_;
  std::unique_ptr<IntakeServer> server_;
  std::unique_ptr<v1::IntakeService::Stub> stub_;
};

TEST_F(IntakeServerTest, SubmittedIssuesAreRoutedAndTheirEventsPublishedInOrder) {
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

TEST_F(IntakeServerTest, RoutingDownThenUp) {
  routing_.set_available(false);
  const Issue issue = Submit("while routing is down");
  ASSERT_TRUE(Eventually([&] { return routing_.route_calls() >= 3; }, absl::Milliseconds(100)));
  EXPECT_EQ(Stored(issue).state(), issue::v1::STATE_RECEIVED);
  routing_.set_available(true);
  ASSERT_TRUE(Eventually([&] { return Stored(issue).state() == issue::v1::STATE_ROUTED; },
                         absl::Milliseconds(100)));
}

TEST_F(IntakeServerTest, NotificationDownThenUpLosesNothing) {
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
  ASSERT_TRUE(
      Eventually([&] { return notification_.events().size() == 20; }, absl::Milliseconds(100)));
}

TEST_F(IntakeServerTest, WorkQueuedBeforeARestartIsDoneAfterIt) {
  routing_.set_available(false);
  notification_.set_available(false);
  const Issue issue = Submit("before the restart");
  stub_.reset();
  server_.reset();
  routing_.set_available(true);
  notification_.set_available(true);
  Open();
  ASSERT_TRUE(Eventually([&] { return Stored(issue).state() == issue::v1::STATE_ROUTED; }));
  ASSERT_TRUE(Eventually([&] { return notification_.events().size() == 2; }));
}

TEST_F(IntakeServerTest, UnacknowledgedIssuesEscalateDownTheChainToItsEnd) {
  const Issue issue = Submit("nobody takes it");
  ASSERT_TRUE(Eventually([&] { return Stored(issue).state() == issue::v1::STATE_ROUTED; }));
  // The publish loop runs apart from routing: the event may follow a moment later.
  ASSERT_TRUE(Eventually([&] { return !TypesFor("sources/crm").empty(); }));
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
  ASSERT_TRUE(Eventually([&] { return !server_->store().issues().FirstTimer()->has_value(); }));
  EXPECT_EQ(Stored(issue).assignment().target().team(), "duty-manager");

  ASSERT_TRUE(Eventually([&] { return TypesFor("sources/crm").size() == 3; }));
  EXPECT_THAT(TypesFor("sources/crm"),
              ElementsAre("EVENT_TYPE_RECEIVED@", "EVENT_TYPE_ESCALATED@storage-team-lead",
                          "EVENT_TYPE_ESCALATED@duty-manager"));
  EXPECT_THAT(
      TypesFor("teams/storage-team"),
      ElementsAre("EVENT_TYPE_ROUTED@storage-team", "EVENT_TYPE_ESCALATED@storage-team-lead"));
}

TEST_F(IntakeServerTest, AcknowledgedIssuesDoNotEscalate) {
  const Issue issue = Submit("taken in time");
  ASSERT_TRUE(Eventually([&] { return Stored(issue).state() == issue::v1::STATE_ROUTED; }));
  v1::AcknowledgeIssueRequest ack;
  ack.set_name(issue.name());
  ack.set_actor("oncall");
  grpc::ClientContext context;
  Issue acknowledged;
  ASSERT_TRUE(Stub().AcknowledgeIssue(&context, ack, &acknowledged).ok());
  clock_.Advance(absl::Hours(1));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(Stored(issue).state(), issue::v1::STATE_ACKNOWLEDGED);
  EXPECT_EQ(Stored(issue).assignment().escalation_level(), 0);
}

}  // namespace
}  // namespace switchboard::intake
