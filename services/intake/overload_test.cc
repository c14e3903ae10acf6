// Intake flooded far beyond its capacity, in-process on loopback: calls
// beyond the limit are refused at once with RESOURCE_EXHAUSTED and a retry
// delay, the work held never exceeds the limit, every accepted issue is
// stored (and routed and published), nothing refused is, and once the flood
// is over the same requests go through.
#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/call_gate.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/testing/subprocess.h"
#include "services/intake/intake_server.h"
#include "services/intake/testing/fake_peers.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

namespace switchboard::intake {
namespace {

using ::testing::HasSubstr;

constexpr int kCallLimit = 4;
constexpr int kFlood = 400;

class OverloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gate_.LimitCapacity({.calls = kCallLimit}, "intake", *registry_);
    IntakeServer::Options options{
        .data_dir = dir_,
        .gate = &gate_,
        .routing = &routing_,
        .notification_partitions = {&notification_},
        .route = {.loop = kLoop},
        .publish = {.loop = kLoop},
        .timers = kLoop,
        .registry = registry_,
    };
    auto server = IntakeServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::IntakeService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->grpc_port()), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  static v1::SubmitIssueRequest Request(int i) {
    v1::SubmitIssueRequest request;
    issue::v1::Issue& issue = *request.mutable_issue();
    issue.set_title(absl::StrCat("flood ", i));
    issue.set_description(std::string(1024, 'x'));
    issue.mutable_customer()->set_id("contoso");
    issue.set_product("storage");
    issue.set_severity(issue::v1::SEVERITY_HIGH);
    issue.set_source("crm");
    request.set_request_id(absl::StrCat("flood-", i));
    return request;
  }

  static constexpr WorkerLoop::Options kLoop = {
      .idle_poll = absl::Seconds(1),
      .backoff = {.initial = absl::Milliseconds(10), .max = absl::Milliseconds(100)}};
  const std::string dir_ = switchboard::testing::MakeTempDir("intake_overload_test");
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  CallGate gate_{nullptr, Clock::Real(), *registry_};
  fakes::FakeRouting routing_;
  fakes::FakeNotification notification_;
  std::unique_ptr<IntakeServer> server_;
  std::unique_ptr<v1::IntakeService::Stub> stub_;
};

TEST_F(OverloadTest, AFloodIsRefusedWithARetryDelayAndNothingAcceptedIsLost) {
  // Watch the room in use while the flood runs.
  std::atomic<bool> flooding{true};
  std::atomic<int64_t> most_calls{0};
  std::thread watcher([&] {
    while (flooding.load()) {
      most_calls.store(std::max(most_calls.load(), gate_.capacity().calls()));
      std::this_thread::yield();
    }
  });

  struct Call {
    grpc::ClientContext context;
    v1::SubmitIssueRequest request;
    issue::v1::Issue response;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Call>> calls;
  std::atomic<int> pending{kFlood};
  absl::Notification all_done;
  for (int i = 0; i < kFlood; ++i) {
    calls.push_back(std::make_unique<Call>());
    Call& call = *calls.back();
    call.request = Request(i);
    call.context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    stub_->async()->SubmitIssue(&call.context, &call.request, &call.response,
                                [&call, &pending, &all_done](grpc::Status status) {
                                  call.status = std::move(status);
                                  if (pending.fetch_sub(1) == 1) all_done.Notify();
                                });
  }
  ASSERT_TRUE(all_done.WaitForNotificationWithTimeout(absl::Seconds(60)));
  flooding.store(false);
  watcher.join();

  std::set<std::string> accepted;
  std::vector<int> refused;
  for (int i = 0; i < kFlood; ++i) {
    const Call& call = *calls[i];
    if (call.status.ok()) {
      accepted.insert(call.response.name());
      continue;
    }
    const absl::Status status = FromGrpcStatus(call.status);
    ASSERT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
    EXPECT_THAT(status.message(), HasSubstr("intake is at capacity (calls in flight"));
    EXPECT_TRUE(GetRetryDelay(status).has_value()) << "a refusal without RetryInfo: " << status;
    refused.push_back(i);
  }
  EXPECT_FALSE(accepted.empty());
  EXPECT_FALSE(refused.empty()) << kFlood << " calls at once against a limit of " << kCallLimit;
  EXPECT_LE(most_calls.load(), kCallLimit);
  EXPECT_EQ(gate_.capacity().calls(), 0) << "every call gave its room back";

  // Every accepted issue is stored; the refused requests left nothing.
  for (const std::string& name : accepted) {
    v1::GetIssueRequest get;
    get.set_name(name);
    grpc::ClientContext context;
    issue::v1::Issue issue;
    EXPECT_TRUE(stub_->GetIssue(&context, get, &issue).ok()) << name;
  }
  // After the flood the same requests go through, each once.
  for (int i : refused) {
    grpc::ClientContext context;
    issue::v1::Issue issue;
    const grpc::Status status = stub_->SubmitIssue(&context, Request(i), &issue);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(accepted.insert(issue.name()).second) << "a refused request had been stored";
  }
  v1::ListIssuesRequest list;
  list.set_page_size(1000);
  grpc::ClientContext context;
  v1::ListIssuesResponse listed;
  ASSERT_TRUE(stub_->ListIssues(&context, list, &listed).ok());
  EXPECT_EQ(listed.issues_size(), kFlood);
}

TEST_F(OverloadTest, ADrainRefusesNewCallsWithARetryHintUntilThoseInFlightAreAnswered) {
  // A call in flight, as far as the drain can tell: it holds room.
  ASSERT_TRUE(gate_.capacity().Take(Capacity::Work::kWrite, 0).ok());
  std::atomic<bool> stopped{false};
  std::thread shutdown([&] {
    server_->Shutdown();
    stopped.store(true);
  });

  // Once draining, a new call is refused by the service itself, with a hint.
  absl::Status refused;
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  for (int i = 0; absl::Now() < give_up; ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    issue::v1::Issue issue;
    const grpc::Status status = stub_->SubmitIssue(&context, Request(i), &issue);
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      refused = FromGrpcStatus(status);
      break;
    }
    ASSERT_TRUE(status.ok()) << "before the drain: " << status.error_message();
  }
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("intake is shutting down"));
  EXPECT_TRUE(GetRetryDelay(refused).has_value()) << "no RetryInfo on " << refused;

  // The drain waits for the call in flight (drain_grace is 10 s by default)…
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(stopped.load());
  // …and stops once it is answered.
  gate_.capacity().Release(Capacity::Work::kWrite, 0);
  shutdown.join();
  EXPECT_TRUE(stopped.load());
}

}  // namespace
}  // namespace switchboard::intake
