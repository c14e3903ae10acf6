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

namespace switchboard {
namespace {

using intake::v1::IntakeService;
using issue::v1::Issue;

class IntakePipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    routing_target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    intake_target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    StartRouting();
    auto intake = testing::Subprocess::Start(
        testing::BinaryPath("switchboard-intake"),
        {"--grpc_listen=" + intake_target_, "--data_dir=" + dir_ + "/intake",
         "--routing_target=" + routing_target_, "--notification_target=127.0.0.1:1",
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
    intake_.reset();
    routing_.reset();
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
}

}  // namespace
}  // namespace switchboard
