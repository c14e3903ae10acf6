// A routing writer and a replica that follows it, in-process on loopback: a
// ruleset is applied once (through either), stored once (by the writer) and
// reaches the replica; the replica decides while the writer is down, and
// only applies fail.
#include <filesystem>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/subprocess.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/routing/routing_server.h"
#include "services/routing/ruleset_file.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard::routing {
namespace {

using ::testing::HasSubstr;

class RoutingReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_address_ = absl::StrCat("127.0.0.1:", switchboard::testing::FreePort());
    ASSERT_TRUE(StartWriter().ok());
    RoutingServer::Options options{.ruleset_source = writer_address_};
    auto replica = RoutingServer::Start(std::move(options));
    ASSERT_TRUE(replica.ok()) << replica.status();
    replica_ = std::move(*replica);
  }

  void TearDown() override {
    replica_.reset();
    writer_.reset();
    std::filesystem::remove_all(dir_);
  }

  absl::Status StartWriter() {
    RoutingServer::Options options{.data_dir = dir_};
    options.server.grpc_listen = writer_address_;
    auto writer = RoutingServer::Start(std::move(options));
    if (!writer.ok()) return writer.status();
    writer_ = std::move(*writer);
    return absl::OkStatus();
  }

  std::unique_ptr<v1::RoutingService::Stub> Stub(int port) {
    return v1::RoutingService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  static v1::ApplyRulesetRequest Sample(const std::string& comment) {
    auto sample =
        LoadRulesetFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/config/sample-ruleset.yaml");
    EXPECT_TRUE(sample.ok()) << sample.status();
    v1::ApplyRulesetRequest request;
    *request.mutable_ruleset() = *sample;
    request.mutable_ruleset()->set_comment(comment);
    return request;
  }

  grpc::Status Apply(v1::RoutingService::Stub& stub, const std::string& comment,
                     v1::Ruleset* applied) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    return stub.ApplyRuleset(&context, Sample(comment), applied);
  }

  // RouteIssue on the replica: the revision it decided on, or -1.
  int64_t ReplicaRevision() {
    v1::RouteIssueRequest request;
    issue::v1::Issue& issue = *request.mutable_issue();
    issue.set_title("disk full");
    issue.set_product("storage");
    issue.set_severity(issue::v1::SEVERITY_HIGH);
    issue.set_source("crm");
    issue.mutable_customer()->set_id("c1");
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::RoutingDecision decision;
    if (!Stub(replica_->grpc_port())->RouteIssue(&context, request, &decision).ok()) return -1;
    return decision.ruleset_revision();
  }

  bool Eventually(absl::FunctionRef<bool()> condition) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (condition()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return condition();
  }

  const std::string dir_ = switchboard::testing::MakeTempDir("routing_replica_test");
  std::string writer_address_;
  std::unique_ptr<RoutingServer> writer_;
  std::unique_ptr<RoutingServer> replica_;
};

TEST_F(RoutingReplicaTest, AnApplyThroughTheReplicaIsStoredOnceByTheWriterAndFollowed) {
  EXPECT_EQ(ReplicaRevision(), -1);  // nothing applied anywhere yet
  v1::Ruleset applied;
  ASSERT_TRUE(Apply(*Stub(replica_->grpc_port()), "through the replica", &applied).ok());
  EXPECT_EQ(applied.revision(), 1);
  EXPECT_EQ(writer_->core().active()->revision(), 1);
  EXPECT_TRUE(Eventually([&] { return ReplicaRevision() == 1; }));

  ASSERT_TRUE(Apply(*Stub(writer_->grpc_port()), "through the writer", &applied).ok());
  EXPECT_EQ(applied.revision(), 2);
  EXPECT_TRUE(Eventually([&] { return ReplicaRevision() == 2; }));

  // The history is the writer's, read through either.
  for (int port : {writer_->grpc_port(), replica_->grpc_port()}) {
    grpc::ClientContext context;
    v1::ListRulesetRevisionsResponse revisions;
    ASSERT_TRUE(Stub(port)->ListRulesetRevisions(&context, {}, &revisions).ok());
    ASSERT_EQ(revisions.rulesets_size(), 2);
    EXPECT_EQ(revisions.rulesets(1).comment(), "through the replica");
    v1::GetRulesetRequest first;
    first.set_revision(1);
    grpc::ClientContext get_context;
    v1::Ruleset got;
    ASSERT_TRUE(Stub(port)->GetRuleset(&get_context, first, &got).ok());
    EXPECT_EQ(got.comment(), "through the replica");
  }
}

TEST_F(RoutingReplicaTest, TheReplicaDecidesWhileTheWriterIsDownAndOnlyAppliesFail) {
  v1::Ruleset applied;
  ASSERT_TRUE(Apply(*Stub(writer_->grpc_port()), "first", &applied).ok());
  ASSERT_TRUE(Eventually([&] { return ReplicaRevision() == 1; }));
  writer_.reset();

  for (int i = 0; i < 20; ++i) EXPECT_EQ(ReplicaRevision(), 1);
  grpc::Status refused = Apply(*Stub(replica_->grpc_port()), "while down", &applied);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(refused.error_message(), HasSubstr("the routing writer (" + writer_address_ + ")"));

  // The writer returns with its store; the replica follows what comes next.
  ASSERT_TRUE(StartWriter().ok());
  EXPECT_EQ(writer_->core().active()->revision(), 1);
  ASSERT_TRUE(
      Eventually([&] { return Apply(*Stub(replica_->grpc_port()), "after", &applied).ok(); }));
  EXPECT_EQ(applied.revision(), 2);
  EXPECT_TRUE(Eventually([&] { return ReplicaRevision() == 2; }));
}

TEST_F(RoutingReplicaTest, AReplicaIsServingOnlyOnceItHoldsARuleset) {
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", replica_->grpc_port()), grpc::InsecureChannelCredentials()));
  const auto status = [&] {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(v1::RoutingService::service_full_name());
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status called = health->Check(&context, request, &response);
    EXPECT_TRUE(called.ok()) << called.error_message();
    return response.status();
  };
  // Nothing applied anywhere: balancers must leave the replica out.
  EXPECT_EQ(status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  v1::Ruleset applied;
  ASSERT_TRUE(Apply(*Stub(writer_->grpc_port()), "first", &applied).ok());
  EXPECT_TRUE(
      Eventually([&] { return status() == grpc::health::v1::HealthCheckResponse::SERVING; }));
}

TEST_F(RoutingReplicaTest, AReplicaTakesNoRulesetFile) {
  RoutingServer::Options options{.ruleset_file = "config/sample-ruleset.yaml",
                                 .ruleset_source = writer_address_};
  absl::StatusOr<std::unique_ptr<RoutingServer>> refused = RoutingServer::Start(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("--ruleset_file goes to the writer"));
}

}  // namespace
}  // namespace switchboard::routing
