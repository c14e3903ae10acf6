// RoutingService over a real gRPC server: what callers see on the wire.
#include "services/routing/routing_service.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/server.h"
#include "common/status.h"
#include "common/testing/probes.h"
#include "common/testing/subprocess.h"
#include "services/routing/ruleset_file.h"

namespace switchboard::routing {
namespace {

using ::testing::HasSubstr;

class RoutingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open({.path = dir_, .column_families = RulesetStore::ColumnFamilies()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    commits_ = std::make_unique<CommitQueue>(db_->db(), CommitQueue::Options{.name = "routing"});
    store_ = std::make_unique<RulesetStore>(*db_, *commits_);
    auto core = RoutingCore::Create(*store_, *registry_, Clock::Real());
    ASSERT_TRUE(core.ok()) << core.status();
    core_ = std::move(*core);
    service_ = std::make_unique<RoutingService>(*core_);
    auto host = ServiceHost::Start({}, {{service_.get(), v1::RoutingService::service_full_name()}},
                                   registry_);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    target_ = absl::StrCat("127.0.0.1:", host_->grpc_port());
    stub_ = v1::RoutingService::NewStub(
        grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    host_.reset();
    service_.reset();
    core_.reset();
    store_.reset();
    commits_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  grpc::Status ApplySample(v1::Ruleset* applied) {
    auto sample =
        LoadRulesetFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/config/sample-ruleset.yaml");
    EXPECT_TRUE(sample.ok()) << sample.status();
    v1::ApplyRulesetRequest request;
    *request.mutable_ruleset() = *sample;
    grpc::ClientContext context;
    return stub_->ApplyRuleset(&context, request, applied);
  }

  const std::string dir_ = testing::MakeTempDir("routing_service_test");
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<Database> db_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<RulesetStore> store_;
  std::unique_ptr<RoutingCore> core_;
  std::unique_ptr<RoutingService> service_;
  std::unique_ptr<ServiceHost> host_;
  std::string target_;
  std::unique_ptr<v1::RoutingService::Stub> stub_;
};

TEST_F(RoutingServiceTest, AppliesTheSampleAndRoutesWithExplanations) {
  v1::Ruleset applied;
  ASSERT_TRUE(ApplySample(&applied).ok());
  EXPECT_EQ(applied.revision(), 1);
  EXPECT_EQ(applied.author(), "local");

  v1::RouteIssueRequest request;
  issue::v1::Issue& issue = *request.mutable_issue();
  issue.set_title("Blob storage outage in West Europe");
  issue.mutable_customer()->set_id("contoso");
  issue.mutable_customer()->set_tier(issue::v1::CUSTOMER_TIER_STRATEGIC);
  issue.set_product("azure-storage");
  issue.set_severity(issue::v1::SEVERITY_CRITICAL);
  issue.set_source("crm");
  request.set_explain(true);
  grpc::ClientContext context;
  v1::RoutingDecision decision;
  ASSERT_TRUE(stub_->RouteIssue(&context, request, &decision).ok());
  EXPECT_EQ(decision.rule(), "strategic-critical-storage");
  EXPECT_EQ(decision.target().team(), "storage-oncall");
  EXPECT_EQ(decision.ack_within().seconds(), 900);
  ASSERT_FALSE(decision.trace().empty());
  EXPECT_TRUE(decision.trace().rbegin()->matched());
}

TEST_F(RoutingServiceTest, RoutingBeforeAnyRulesetIsFailedPrecondition) {
  v1::RouteIssueRequest request;
  request.mutable_issue()->set_title("t");
  request.mutable_issue()->mutable_customer()->set_id("c");
  request.mutable_issue()->set_product("p");
  request.mutable_issue()->set_severity(issue::v1::SEVERITY_LOW);
  request.mutable_issue()->set_source("crm");
  grpc::ClientContext context;
  v1::RoutingDecision decision;
  EXPECT_EQ(stub_->RouteIssue(&context, request, &decision).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(RoutingServiceTest, InvalidInputGetsFieldViolationsOnTheWire) {
  v1::RouteIssueRequest request;  // an empty issue
  grpc::ClientContext context;
  v1::RoutingDecision decision;
  const grpc::Status status = stub_->RouteIssue(&context, request, &decision);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<std::string> fields;
  for (const auto& violation : GetFieldViolations(FromGrpcStatus(status)))
    fields.push_back(violation.field);
  EXPECT_THAT(fields, ::testing::ElementsAre("issue.title", "issue.customer", "issue.product",
                                             "issue.severity", "issue.source"));
}

TEST_F(RoutingServiceTest, UndecodableRequestsAreInvalidArgument) {
  // RouteIssueRequest.issue (1) → Issue.title (2) holding invalid UTF-8.
  const std::string bytes("\x0a\x04\x12\x02\xc3\x28", 6);
  auto result =
      testing::CallRaw(target_, "/switchboard.routing.v1.RoutingService/RouteIssue", bytes);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(result.status.error_message(), HasSubstr("switchboard.routing.v1.RouteIssueRequest"));
  result = testing::CallRaw(target_, "/switchboard.routing.v1.RoutingService/ApplyRuleset",
                            std::string("\x0a\xff\x01", 3));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(RoutingServiceTest, ExportsRoutingMetrics) {
  v1::Ruleset applied;
  ASSERT_TRUE(ApplySample(&applied).ok());
  v1::RouteIssueRequest request;
  issue::v1::Issue& issue = *request.mutable_issue();
  issue.set_title("Something odd");
  issue.mutable_customer()->set_id("c");
  issue.set_product("unheard-of");
  issue.set_severity(issue::v1::SEVERITY_LOW);
  issue.set_source("web");
  grpc::ClientContext context;
  v1::RoutingDecision decision;
  ASSERT_TRUE(stub_->RouteIssue(&context, request, &decision).ok());
  EXPECT_EQ(decision.rule(), "");

  auto collected = registry_->Collect();
  auto value_of = [&](const std::string& name) {
    for (const auto& family : collected) {
      if (family.name == name && !family.metric.empty()) {
        const auto& metric = family.metric.front();
        return metric.counter.value + metric.gauge.value;
      }
    }
    return -1.0;
  };
  EXPECT_EQ(value_of("switchboard_routing_active_revision"), 1);
  EXPECT_EQ(value_of("switchboard_routing_active_rules"), applied.rules_size());
  EXPECT_EQ(value_of("switchboard_routing_default_decisions_total"), 1);
}

}  // namespace
}  // namespace switchboard::routing
