// switchboard-routing as a process: --ruleset_file at start, restarts, and
// kill -9 right after an apply was acknowledged.
#include <signal.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/testing/subprocess.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard {
namespace {

using routing::v1::RoutingService;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

class RoutingBinaryTest : public ::testing::Test {
 protected:
  void TearDown() override {
    child_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts the binary; returns its exit code if it ends within a moment
  // instead of serving.
  absl::Status Start(const std::vector<std::string>& extra = {}) {
    target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    std::vector<std::string> args = {"--grpc_listen=" + target_, "--data_dir=" + dir_ + "/data"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto child = testing::Subprocess::Start(testing::BinaryPath("switchboard-routing"), args,
                                            {.stderr_path = dir_ + "/stderr.log"});
    if (!child.ok()) return child.status();
    child_ = std::move(*child);
    absl::Status serving = testing::WaitForServing(target_, absl::Seconds(30));
    if (serving.ok()) {
      stub_ =
          RoutingService::NewStub(grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
    }
    return serving;
  }

  void Stop() {
    stub_.reset();  // close our connection: the server's drain waits for open ones
    child_->Signal(SIGTERM);
    auto code = child_->Wait(absl::Seconds(30));
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, 0);
  }

  routing::v1::Ruleset Active() {
    grpc::ClientContext context;
    routing::v1::Ruleset ruleset;
    EXPECT_TRUE(stub_->GetRuleset(&context, {}, &ruleset).ok());
    return ruleset;
  }

  std::string WriteSample(const std::string& name, const std::string& comment) {
    std::string text =
        ReadFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/config/sample-ruleset.yaml");
    text = absl::StrReplaceAll(text, {{"comment: Sample customer and partner experience directory",
                                       "comment: " + comment}});
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  const std::string dir_ = testing::MakeTempDir("routing_binary_test");
  std::string target_;
  std::unique_ptr<testing::Subprocess> child_;
  std::unique_ptr<RoutingService::Stub> stub_;
};

TEST_F(RoutingBinaryTest, RulesetFileAppliesOnlyWhenItChanges) {
  const std::string first = WriteSample("first.yaml", "first");
  ASSERT_TRUE(Start({"--ruleset_file=" + first}).ok()) << ReadFile(dir_ + "/stderr.log");
  EXPECT_EQ(Active().revision(), 1);
  EXPECT_EQ(Active().comment(), "first");
  Stop();

  ASSERT_TRUE(Start({"--ruleset_file=" + first}).ok());
  EXPECT_EQ(Active().revision(), 1);  // unchanged: not applied again
  Stop();

  ASSERT_TRUE(Start({"--ruleset_file=" + WriteSample("second.yaml", "second")}).ok());
  EXPECT_EQ(Active().revision(), 2);
  EXPECT_EQ(Active().comment(), "second");
  Stop();

  ASSERT_TRUE(Start().ok());  // no file: the stored active ruleset
  EXPECT_EQ(Active().revision(), 2);
}

TEST_F(RoutingBinaryTest, AcknowledgedApplySurvivesKill9) {
  ASSERT_TRUE(Start({"--ruleset_file=" + WriteSample("first.yaml", "first")}).ok());
  routing::v1::ApplyRulesetRequest request;
  *request.mutable_ruleset() = Active();
  request.mutable_ruleset()->set_comment("acknowledged");
  request.set_expected_revision(1);
  grpc::ClientContext context;
  routing::v1::Ruleset applied;
  ASSERT_TRUE(stub_->ApplyRuleset(&context, request, &applied).ok());
  EXPECT_EQ(applied.revision(), 2);
  child_->Kill();

  ASSERT_TRUE(Start().ok());
  EXPECT_EQ(Active().revision(), 2);
  EXPECT_EQ(Active().comment(), "acknowledged");
}

TEST_F(RoutingBinaryTest, InvalidRulesetFileStopsTheStartWithEveryViolation) {
  const std::string path = dir_ + "/bad.yaml";
  std::ofstream(path) << "business_groups: [{id: cloud, teams: [{id: storage}]}]\n"
                         "rules: [{id: r, target: {business_group: cloud, team: nobody}}]\n";
  auto child = testing::Subprocess::Start(
      testing::BinaryPath("switchboard-routing"),
      {"--grpc_listen=127.0.0.1:0", "--data_dir=" + dir_ + "/data", "--ruleset_file=" + path},
      {.stderr_path = dir_ + "/stderr.log"});
  ASSERT_TRUE(child.ok());
  auto code = (*child)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok());
  EXPECT_NE(*code, 0);
  const std::string log = ReadFile(dir_ + "/stderr.log");
  EXPECT_THAT(log, ::testing::HasSubstr("ruleset.rules[0].target.team: unknown team"));
  EXPECT_THAT(log, ::testing::HasSubstr("ruleset.default_target: required"));
}

}  // namespace
}  // namespace switchboard
