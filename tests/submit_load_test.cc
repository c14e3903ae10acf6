// bench/submit_load against the real stack, and intake's --noop_submit
// baseline: the load client's counts are what the service stored, and the
// no-op mode stores nothing. (The figures themselves come from
// bench/submit_bench.sh, never from a test.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/testing/subprocess.h"
#include "tests/stack.h"

namespace switchboard {
namespace {

using testing::Service;
using testing::Stack;

// The integer `field` of the JSON line `line`.
int64_t Field(const std::string& line, const std::string& field) {
  const std::string key = absl::StrCat("\"", field, "\":");
  const size_t at = line.find(key);
  if (at == std::string::npos) return -1;
  const size_t start = at + key.size();
  int64_t value = -1;
  if (!absl::SimpleAtoi(line.substr(start, line.find_first_of(",}", start) - start), &value)) {
    return -1;
  }
  return value;
}

std::string RunLoad(Stack& stack, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"--target=" + stack.target(Service::kIntake), "--warmup=0s",
                                   "--duration=1s", "--connections=2", "--streams=4"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto load = testing::Subprocess::Start(testing::BinaryPath("submit_load"), args,
                                         {.capture_stdout = true});
  EXPECT_TRUE(load.ok()) << load.status();
  if (!load.ok()) return "";
  const std::string output = (*load)->ReadToEnd(absl::Seconds(60));
  EXPECT_EQ((*load)->Wait(absl::Seconds(10)).value_or(-1), 0) << output;
  return output;
}

int64_t StoredIssues(Stack& stack) {
  int64_t count = 0;
  intake::v1::ListIssuesRequest request;
  request.set_page_size(1000);
  for (int page = 0; page < 1000; ++page) {
    grpc::ClientContext context;
    intake::v1::ListIssuesResponse response;
    const grpc::Status status = stack.intake().ListIssues(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) break;
    count += response.issues_size();
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  return count;
}

TEST(SubmitLoadTest, EveryCallItCountsAsOkWasStored) {
  auto stack = Stack::Launch({});
  ASSERT_TRUE(stack.ok()) << stack.status();
  const std::string output = RunLoad(**stack, {"--label=full"});
  const int64_t ok = Field(output, "ok");
  EXPECT_GT(ok, 0) << output;
  EXPECT_EQ(Field(output, "errors"), 0) << output;
  // Calls completing after the measured second are stored but not counted.
  EXPECT_GE(StoredIssues(**stack), ok);
}

TEST(SubmitLoadTest, OpenLoopKeepsItsRate) {
  auto stack = Stack::Launch({});
  ASSERT_TRUE(stack.ok()) << stack.status();
  const std::string output = RunLoad(**stack, {"--rate=200"});
  EXPECT_EQ(Field(output, "errors"), 0) << output;
  EXPECT_EQ(Field(output, "dropped"), 0) << output;
  EXPECT_NEAR(static_cast<double>(Field(output, "ok")), 200, 40) << output;
}

TEST(SubmitLoadTest, NoopSubmitAnswersWithoutStoring) {
  auto stack = Stack::Launch({.intake_flags = {"--noop_submit"}});
  ASSERT_TRUE(stack.ok()) << stack.status();
  const std::string output = RunLoad(**stack, {"--label=noop"});
  EXPECT_GT(Field(output, "ok"), 0) << output;
  EXPECT_EQ(Field(output, "errors"), 0) << output;
  EXPECT_EQ(StoredIssues(**stack), 0);
}

// Pipeline mode: every issue the load submits routes to storage-oncall under
// the sample ruleset, and each accepted one is matched to its ROUTED event
// on that team's stream.
TEST(SubmitLoadTest, PipelineModeMatchesEveryAcceptedIssueToItsDelivery) {
  auto stack = Stack::Launch({});
  ASSERT_TRUE(stack.ok()) << stack.status();
  const std::string output = RunLoad(
      **stack, {"--subscribe=teams/storage-oncall",
                "--notification=" + (*stack)->target(Service::kNotification), "--drain=30s"});
  const int64_t ok = Field(output, "ok");
  EXPECT_GT(ok, 0) << output;
  EXPECT_EQ(Field(output, "delivered"), ok) << output;
  EXPECT_EQ(Field(output, "lost"), 0) << output;
  EXPECT_EQ(Field(output, "duplicates"), 0) << output;
  EXPECT_GT(Field(output, "delivered_per_s"), 0) << output;
  EXPECT_NE(output.find("\"stream_status\":\"open\""), std::string::npos) << output;
}

// ... and an issue whose delivery never comes is reported lost: here the
// stream is a team that owns nothing.
TEST(SubmitLoadTest, PipelineModeReportsIssuesNeverDelivered) {
  auto stack = Stack::Launch({});
  ASSERT_TRUE(stack.ok()) << stack.status();
  const std::string output = RunLoad(
      **stack, {"--subscribe=teams/nobody",
                "--notification=" + (*stack)->target(Service::kNotification), "--drain=1s"});
  const int64_t ok = Field(output, "ok");
  EXPECT_GT(ok, 0) << output;
  EXPECT_EQ(Field(output, "delivered"), 0) << output;
  EXPECT_EQ(Field(output, "lost"), ok) << output;
}

}  // namespace
}  // namespace switchboard
