// Intake over a file system that fails or slows its fsyncs
// (common/testing/faulty_file_system.h), in-process with fake peers: a
// failed WAL sync fails its callers, turns health down and makes the server
// exit (ServiceHost::kExitFailed) to be reopened; a slow sync only slows.
#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

  void Open(std::shared_ptr<FaultyFileSystem> fs) {
    stub_.reset();
    auto server = IntakeServer::Start({
        .data_dir = dir_,
        .storage = {.file_system = std::move(fs)},
        .routing = &routing_,
        .notification = &notification_,
        .sync = true,
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    target_ = absl::StrCat("127.0.0.1:", server_->grpc_port());
    stub_ = v1::IntakeService::NewStub(
        grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
  }

  grpc::Status Submit(const std::string& request_id, Issue* submitted = nullptr) {
    v1::SubmitIssueRequest request;
    Issue& issue = *request.mutable_issue();
    issue.set_title("disk trouble " + request_id);
    issue.mutable_customer()->set_id("contoso");
    issue.set_product("storage");
    issue.set_severity(issue::v1::SEVERITY_HIGH);
    issue.set_source("crm");
    issue.set_submitter("jane");
    request.set_request_id(request_id);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    Issue reply;
    grpc::Status status = stub_->SubmitIssue(&context, request, &reply);
    if (submitted != nullptr) *submitted = reply;
    return status;
  }

  // Every issue's title, through ListIssues.
  std::vector<std::string> Titles() {
    std::vector<std::string> titles;
    v1::ListIssuesRequest request;
    request.set_page_size(1000);
    grpc::ClientContext context;
    v1::ListIssuesResponse response;
    const grpc::Status status = stub_->ListIssues(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const Issue& issue : response.issues()) titles.push_back(issue.title());
    return titles;
  }

  const std::string dir_ = switchboard::testing::MakeTempDir("intake_fault_test");
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

}  // namespace
}  // namespace switchboard::intake
