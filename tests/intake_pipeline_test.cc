// intake and routing as processes: issues are routed by the real rules,
// routing can go away and come back, and the lifecycle RPCs work on the
// wire (TransferIssue checks its target with the real routing service).
#include <signal.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "common/testing/subprocess.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

namespace switchboard {
namespace {

using intake::v1::IntakeService;
using issue::v1::Issue;

class IntakePipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    routing_target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    intake_target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    notification_target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    StartRouting();
    auto notification = testing::Subprocess::Start(
        testing::BinaryPath("switchboard-notification"),
        {"--grpc_listen=" + notification_target_, "--data_dir=" + dir_ + "/notification"},
        {.stderr_path = dir_ + "/notification.log"});
    ASSERT_TRUE(notification.ok()) << notification.status();
    notification_ = std::move(*notification);
    ASSERT_TRUE(testing::WaitForServing(notification_target_, absl::Seconds(30)).ok());
    notifications_ = notification::v1::NotificationService::NewStub(
        grpc::CreateChannel(notification_target_, grpc::InsecureChannelCredentials()));
    auto intake = testing::Subprocess::Start(
        testing::BinaryPath("switchboard-intake"),
        {"--grpc_listen=" + intake_target_, "--data_dir=" + dir_ + "/intake",
         "--routing_target=" + routing_target_, "--notification_target=" + notification_target_,
         "--peer_timeout=2s"},
        {.stderr_path = dir_ + "/intake.log"});
    ASSERT_TRUE(intake.ok()) << intake.status();
    intake_ = std::move(*intake);
    ASSERT_TRUE(testing::WaitForServing(intake_target_, absl::Seconds(30)).ok());
    stub_ = IntakeService::NewStub(
        grpc::CreateChannel(intake_target_, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    stub_.reset();
    notifications_.reset();
    intake_.reset();
    routing_.reset();
    notification_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartRouting() {
    auto routing = testing::Subprocess::Start(
        testing::BinaryPath("switchboard-routing"),
        {"--grpc_listen=" + routing_target_, "--data_dir=" + dir_ + "/routing",
         std::string("--ruleset_file=") + SWITCHBOARD_SOURCE_DIR + "/config/sample-ruleset.yaml"},
        {.stderr_path = dir_ + "/routing.log"});
    ASSERT_TRUE(routing.ok()) << routing.status();
    routing_ = std::move(*routing);
    ASSERT_TRUE(testing::WaitForServing(routing_target_, absl::Seconds(30)).ok());
  }

  Issue Submit(const std::string& request_id, const std::string& product) {
    intake::v1::SubmitIssueRequest request;
    request.set_request_id(request_id);
    Issue& issue = *request.mutable_issue();
    issue.set_title("Blob writes fail with 503");
    issue.mutable_customer()->set_id("contoso");
    issue.mutable_customer()->set_tier(issue::v1::CUSTOMER_TIER_STRATEGIC);
    issue.set_product(product);
    issue.set_severity(issue::v1::SEVERITY_CRITICAL);
    issue.set_source("crm");
    issue.set_submitter("jane@contoso.com");
    grpc::ClientContext context;
    Issue created;
    const grpc::Status status = stub_->SubmitIssue(&context, request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  // The event types `subscriber` has received for `issue`, waiting (bounded)
  // until there are `count` of them.
  std::vector<std::string> EventsFor(const std::string& subscriber, const Issue& issue,
                                     size_t count) {
    std::vector<std::string> types;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      types.clear();
      notification::v1::ListNotificationsRequest request;
      request.set_subscriber(subscriber);
      request.set_page_size(1000);
      grpc::ClientContext context;
      notification::v1::ListNotificationsResponse response;
      if (notifications_->ListNotifications(&context, request, &response).ok()) {
        for (const auto& n : response.notifications()) {
          if (n.event().issue().name() == issue.name())
            types.push_back(issue::v1::EventType_Name(n.event().type()));
        }
      }
      if (types.size() >= count) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return types;
  }

  Issue Get(const Issue& issue) {
    grpc::ClientContext context;
    intake::v1::GetIssueRequest request;
    request.set_name(issue.name());
    Issue stored;
    EXPECT_TRUE(stub_->GetIssue(&context, request, &stored).ok());
    return stored;
  }

  Issue AwaitState(const Issue& issue, issue::v1::State state) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    Issue stored = Get(issue);
    while (stored.state() != state && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
      stored = Get(issue);
    }
    return stored;
  }

  const std::string dir_ = testing::MakeTempDir("intake_pipeline_test");
  std::string routing_target_;
  std::string intake_target_;
  std::string notification_target_;
  std::unique_ptr<testing::Subprocess> notification_;
  std::unique_ptr<notification::v1::NotificationService::Stub> notifications_;
  std::unique_ptr<testing::Subprocess> routing_;
  std::unique_ptr<testing::Subprocess> intake_;
  std::unique_ptr<IntakeService::Stub> stub_;
};

TEST_F(IntakePipelineTest, RoutesByTheSampleRulesetAndSurvivesARoutingOutage) {
  const Issue first = AwaitState(Submit("r1", "azure-storage"), issue::v1::STATE_ROUTED);
  ASSERT_EQ(first.state(), issue::v1::STATE_ROUTED);
  EXPECT_EQ(first.assignment().target().team(), "storage-oncall");
  EXPECT_EQ(first.assignment().rule(), "strategic-critical-storage");
  EXPECT_TRUE(first.has_ack_deadline());

  routing_->Signal(SIGTERM);
  ASSERT_TRUE(routing_->Wait(absl::Seconds(30)).ok());
  const Issue during = Submit("r2", "virtual-machines");  // accepted while routing is down
  EXPECT_EQ(during.state(), issue::v1::STATE_RECEIVED);
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Get(during).state(), issue::v1::STATE_RECEIVED);

  StartRouting();
  const Issue after = AwaitState(during, issue::v1::STATE_ROUTED);
  EXPECT_EQ(after.state(), issue::v1::STATE_ROUTED);
  EXPECT_EQ(after.assignment().target().team(), "compute-oncall");
}

TEST_F(IntakePipelineTest, LifecycleOnTheWire) {
  const Issue routed = AwaitState(Submit("r1", "azure-storage"), issue::v1::STATE_ROUTED);
  ASSERT_EQ(routed.state(), issue::v1::STATE_ROUTED);

  intake::v1::TransferIssueRequest transfer;
  transfer.set_name(routed.name());
  transfer.set_actor("lead@storage");
  transfer.set_reason("it is a VM disk");
  transfer.mutable_target()->set_business_group("cloud-infra");
  transfer.mutable_target()->set_team("no-such-team");
  grpc::ClientContext bad_context;
  Issue ignored;
  const grpc::Status bad = stub_->TransferIssue(&bad_context, transfer, &ignored);
  ASSERT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.error_message();
  EXPECT_EQ(GetFieldViolations(FromGrpcStatus(bad)).at(0).field, "target");

  transfer.mutable_target()->set_team("compute-oncall");
  transfer.set_etag(routed.etag());
  grpc::ClientContext transfer_context;
  Issue transferred;
  ASSERT_TRUE(stub_->TransferIssue(&transfer_context, transfer, &transferred).ok());
  EXPECT_EQ(transferred.assignment().target().team(), "compute-oncall");
  EXPECT_TRUE(transferred.assignment().manual());

  intake::v1::AcknowledgeIssueRequest ack;
  ack.set_name(routed.name());
  ack.set_actor("oncall@compute");
  ack.set_etag(routed.etag());  // stale now
  grpc::ClientContext stale_context;
  EXPECT_EQ(stub_->AcknowledgeIssue(&stale_context, ack, &ignored).error_code(),
            grpc::StatusCode::ABORTED);
  ack.set_etag(transferred.etag());
  grpc::ClientContext ack_context;
  Issue acked;
  ASSERT_TRUE(stub_->AcknowledgeIssue(&ack_context, ack, &acked).ok());
  EXPECT_EQ(acked.state(), issue::v1::STATE_ACKNOWLEDGED);

  intake::v1::ResolveIssueRequest resolve;
  resolve.set_name(routed.name());
  resolve.set_actor("oncall@compute");
  resolve.set_resolution("Detached and re-attached the disk");
  grpc::ClientContext resolve_context;
  Issue resolved;
  ASSERT_TRUE(stub_->ResolveIssue(&resolve_context, resolve, &resolved).ok());
  EXPECT_EQ(resolved.state(), issue::v1::STATE_RESOLVED);

  intake::v1::ListIssuesRequest list;
  list.set_filter("state=STATE_RESOLVED AND team=compute-oncall");
  grpc::ClientContext list_context;
  intake::v1::ListIssuesResponse response;
  ASSERT_TRUE(stub_->ListIssues(&list_context, list, &response).ok());
  ASSERT_EQ(response.issues_size(), 1);
  EXPECT_EQ(response.issues(0).name(), routed.name());

  // Everyone heard of it, in order, through the real notification service.
  using ::testing::ElementsAre;
  EXPECT_THAT(EventsFor("sources/crm", routed, 4),
              ElementsAre("EVENT_TYPE_RECEIVED", "EVENT_TYPE_TRANSFERRED",
                          "EVENT_TYPE_ACKNOWLEDGED", "EVENT_TYPE_RESOLVED"));
  EXPECT_THAT(
      EventsFor("submitters/jane@contoso.com", routed, 3),
      ElementsAre("EVENT_TYPE_TRANSFERRED", "EVENT_TYPE_ACKNOWLEDGED", "EVENT_TYPE_RESOLVED"));
  EXPECT_THAT(EventsFor("teams/storage-oncall", routed, 2),
              ElementsAre("EVENT_TYPE_ROUTED", "EVENT_TYPE_TRANSFERRED"));
  EXPECT_THAT(
      EventsFor("teams/compute-oncall", routed, 3),
      ElementsAre("EVENT_TYPE_TRANSFERRED", "EVENT_TYPE_ACKNOWLEDGED", "EVENT_TYPE_RESOLVED"));
}

TEST_F(IntakePipelineTest, TheOwnerTeamsStreamHearsOfARoutedIssue) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  notification::v1::SubscribeRequest request;
  request.set_subscriber("teams/storage-oncall");
  auto stream = notifications_->Subscribe(&context, request);
  const Issue submitted = Submit("r1", "azure-storage");
  notification::v1::Notification notification;
  ASSERT_TRUE(stream->Read(&notification));
  EXPECT_EQ(notification.sequence(), 1u);
  EXPECT_EQ(notification.event().type(), issue::v1::EVENT_TYPE_ROUTED);
  EXPECT_EQ(notification.event().issue().name(), submitted.name());
  EXPECT_EQ(notification.event().issue().assignment().target().team(), "storage-oncall");
  context.TryCancel();
}

}  // namespace
}  // namespace switchboard
