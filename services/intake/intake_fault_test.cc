// Intake over a file system that fails or slows its fsyncs
// (common/testing/faulty_file_system.h), in-process with fake peers: a
// failed WAL sync fails its callers, turns health down and makes the server
// exit (ServiceHost::kExitFailed) to be reopened; a slow sync only slows.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/call_gate.h"
#include "common/status.h"
#include "common/storage_health.h"
#include "common/testing/faulty_file_system.h"
#include "common/testing/subprocess.h"
#include "services/intake/intake_server.h"
#include "services/intake/testing/fake_peers.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

namespace switchboard::intake {
namespace {

using issue::v1::Issue;
using switchboard::testing::FaultyFileSystem;
using switchboard::testing::FileKind;

class IntakeFaultTest : public ::testing::Test {
 protected:
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open(std::shared_ptr<FaultyFileSystem> fs, CallGate* gate = nullptr) {
    stub_.reset();
    auto server = IntakeServer::Start({
        .data_dir = dir_,
        .storage = {.file_system = std::move(fs)},
        .gate = gate,
        .routing = &routing_,
        .notification = &notification_,
        .sync = true,
        .registry = registry_,
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    target_ = absl::StrCat("127.0.0.1:", server_->grpc_port());
    stub_ = v1::IntakeService::NewStub(
        grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
  }

  static v1::SubmitIssueRequest Request(const std::string& request_id) {
    v1::SubmitIssueRequest request;
    Issue& issue = *request.mutable_issue();
    issue.set_title("disk trouble " + request_id);
    issue.mutable_customer()->set_id("contoso");
    issue.set_product("storage");
    issue.set_severity(issue::v1::SEVERITY_HIGH);
    issue.set_source("crm");
    issue.set_submitter("jane");
    request.set_request_id(request_id);
    return request;
  }

  grpc::Status Submit(const std::string& request_id, Issue* submitted = nullptr) {
    const v1::SubmitIssueRequest request = Request(request_id);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    Issue reply;
    grpc::Status status = stub_->SubmitIssue(&context, request, &reply);
    if (submitted != nullptr) *submitted = reply;
    return status;
  }

  // Every issue's title, paging through ListIssues.
  std::vector<std::string> Titles() {
    std::vector<std::string> titles;
    v1::ListIssuesRequest request;
    request.set_page_size(1000);
    for (int page = 0; page < 100; ++page) {
      grpc::ClientContext context;
      v1::ListIssuesResponse response;
      const grpc::Status status = stub_->ListIssues(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      for (const Issue& issue : response.issues()) titles.push_back(issue.title());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return titles;
  }

  const std::string dir_ = switchboard::testing::MakeTempDir("intake_fault_test");
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  // A test's own gate, if it has one: it outlives the server.
  std::unique_ptr<CallGate> gate_;
  fakes::FakeRouting routing_;
  fakes::FakeNotification notification_;
  std::unique_ptr<IntakeServer> server_;
  std::string target_;
  std::unique_ptr<v1::IntakeService::Stub> stub_;
};

TEST_F(IntakeFaultTest, AFailedSyncFailsItsCallersTurnsHealthDownAndTheServerExits) {
  auto fs = std::make_shared<FaultyFileSystem>();
  Open(fs);
  std::vector<std::string> acknowledged;
  for (int i = 0; i < 20; ++i) {
    const std::string id = absl::StrCat("before-", i);
    ASSERT_TRUE(Submit(id).ok());
    acknowledged.push_back(id);
  }
  EXPECT_EQ(*switchboard::testing::HealthOf(target_, std::string(kStorageHealthName)), "SERVING");
  int exit_code = -1;
  std::thread runner([&] { exit_code = server_->RunUntilSignal(); });

  fs->FailSyncs(FileKind::kWal, 1, /*drop_unsynced=*/true);
  const grpc::Status failed = Submit("lost-in-the-sync");
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE) << failed.error_message();
  // Health went down before the caller was answered; the server may be gone
  // already, which says the same.
  const auto health = switchboard::testing::HealthOf(target_, "");
  EXPECT_TRUE(!health.ok() || *health == "NOT_SERVING") << *health;
  const grpc::Status after = Submit("after-the-failure");
  EXPECT_FALSE(after.ok()) << "a write was acknowledged after a failed sync";
  runner.join();
  EXPECT_EQ(exit_code, ServiceHost::kExitFailed);

  // Restarted on the same directory: every acknowledged issue, once; the
  // failed ones, retried with their request_id, are created once.
  server_.reset();
  Open(nullptr);
  Issue retried;
  ASSERT_TRUE(Submit("lost-in-the-sync", &retried).ok());
  ASSERT_TRUE(Submit("after-the-failure").ok());
  ASSERT_TRUE(Submit("lost-in-the-sync").ok());
  std::vector<std::string> expected;
  for (const std::string& id : acknowledged) expected.push_back("disk trouble " + id);
  expected.push_back("disk trouble lost-in-the-sync");
  expected.push_back("disk trouble after-the-failure");
  EXPECT_THAT(Titles(), ::testing::UnorderedElementsAreArray(expected));
}

// 200 ms per WAL fsync: submits wait for it, share it, and all succeed.
TEST_F(IntakeFaultTest, ASlowSyncSlowsSubmitsAndBreaksNothing) {
  auto fs = std::make_shared<FaultyFileSystem>();
  fs->SetSyncDelay(FileKind::kWal, absl::Milliseconds(200));
  Open(fs);
  constexpr int kClients = 16;
  constexpr int kEach = 5;
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  const absl::Time start = absl::Now();
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kEach; ++i) {
        if (!Submit(absl::StrCat("slow-", c, "-", i)).ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& client : clients) client.join();
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Titles().size(), size_t{kClients} * kEach);
  // Each client waited for at least one sync per submit...
  EXPECT_GE(took, absl::Milliseconds(200) * kEach);
  // ...but syncs were shared: far fewer than one per submit.
  EXPECT_LT(fs->syncs(FileKind::kWal), kClients * kEach / 2);
}

// VmRSS of this process (server and flooding client), in bytes.
int64_t ResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    int64_t kib = 0;
    if (absl::StartsWith(line, "VmRSS:") &&
        absl::SimpleAtoi(absl::StripSuffix(absl::StripAsciiWhitespace(line.substr(6)), " kB"),
                         &kib)) {
      return kib * 1024;
    }
  }
  return -1;
}

// 200 ms per WAL fsync under a flood of 4 KiB submits at about 2,000 a
// second, far more than the disk lets through: the work held stays within
// the capacity limits (calls in flight, bytes waiting for the commit), the
// rest is refused at once with a retry delay, nothing accepted is lost.
TEST_F(IntakeFaultTest, ASlowSyncUnderAFloodHoldsNoMoreThanTheCapacityLimits) {
  constexpr Capacity::Limits kLimits = {.calls = 64, .commit_bytes = 256 << 10};
  gate_ = std::make_unique<CallGate>(nullptr, Clock::Real(), *registry_);
  CallGate& gate = *gate_;
  gate.LimitCapacity(kLimits, "intake", *registry_);
  auto fs = std::make_shared<FaultyFileSystem>();
  fs->SetSyncDelay(FileKind::kWal, absl::Milliseconds(200));
  Open(fs, &gate);

  std::atomic<bool> flooding{true};
  std::atomic<int64_t> most_calls{0};
  std::atomic<int64_t> most_commit_bytes{0};
  const int64_t resident_before = ResidentBytes();
  std::atomic<int64_t> most_resident{resident_before};
  std::thread watcher([&] {
    while (flooding.load()) {
      most_calls.store(std::max(most_calls.load(), gate.capacity().calls()));
      most_commit_bytes.store(std::max(most_commit_bytes.load(), gate.capacity().commit_bytes()));
      most_resident.store(std::max(most_resident.load(), ResidentBytes()));
      absl::SleepFor(absl::Milliseconds(1));
    }
  });

  struct Call {
    grpc::ClientContext context;
    v1::SubmitIssueRequest request;
    Issue response;
    grpc::Status status;
  };
  constexpr int kWaves = 30;
  constexpr int kPerWave = 200;  // every 100 ms
  std::vector<std::unique_ptr<Call>> calls;
  std::atomic<int> pending{kWaves * kPerWave};
  absl::Notification all_done;
  for (int wave = 0; wave < kWaves; ++wave) {
    for (int i = 0; i < kPerWave; ++i) {
      calls.push_back(std::make_unique<Call>());
      Call& call = *calls.back();
      call.request = Request(absl::StrCat("flood-", wave, "-", i));
      call.request.mutable_issue()->set_description(std::string(4096, 'x'));
      call.context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      stub_->async()->SubmitIssue(&call.context, &call.request, &call.response,
                                  [&call, &pending, &all_done](grpc::Status status) {
                                    call.status = std::move(status);
                                    if (pending.fetch_sub(1) == 1) all_done.Notify();
                                  });
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(all_done.WaitForNotificationWithTimeout(absl::Seconds(60)));
  flooding.store(false);
  watcher.join();

  int accepted = 0;
  for (const auto& call : calls) {
    if (call->status.ok()) {
      ++accepted;
      continue;
    }
    const absl::Status status = FromGrpcStatus(call->status);
    ASSERT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
    EXPECT_TRUE(GetRetryDelay(status).has_value()) << "a refusal without RetryInfo: " << status;
  }
  std::cout << accepted << " of " << calls.size() << " submits accepted; at most "
            << most_calls.load() << " calls and " << most_commit_bytes.load()
            << " bytes waiting for the commit; resident memory " << resident_before / (1 << 20)
            << " MiB before, at most " << most_resident.load() / (1 << 20) << " MiB\n";
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, static_cast<int>(calls.size())) << "the flood never reached the limits";
  EXPECT_LE(most_calls.load(), kLimits.calls);
  // A write is admitted while the bytes waiting are under the limit, so each
  // call in flight may add its own on top: a submit of a 4 KiB issue writes
  // under 16 KiB (the issue, its RECEIVED event, the request record).
  EXPECT_LE(most_commit_bytes.load(), kLimits.commit_bytes + most_calls.load() * (16 << 10));
  EXPECT_EQ(gate.capacity().calls(), 0);
  // The route and publish loops' writes still queued drain too.
  const absl::Time patience = absl::Now() + absl::Seconds(30);
  while (gate.capacity().commit_bytes() != 0 && absl::Now() < patience) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(gate.capacity().commit_bytes(), 0);
  EXPECT_EQ(static_cast<int>(Titles().size()), accepted);
}

}  // namespace
}  // namespace switchboard::intake
