// The intake binary on a disk that fills up: its data directory on a small
// tmpfs (in a mount namespace of the test's own, common/testing/
// private_mounts.h) that a ballast file fills. Writes must fail UNAVAILABLE
// with a RetryInfo and plain words, never INTERNAL, never a crash; reads go
// on; health and a metric say why; once the ballast is deleted writes resume
// without a restart; and nothing acknowledged is lost, across a kill -9.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "common/sync.h"
#include "common/testing/private_mounts.h"
#include "common/testing/probes.h"
#include "common/testing/subprocess.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

namespace switchboard {
namespace {

using intake::v1::IntakeService;

constexpr size_t kDiskBytes = size_t{48} << 20;

std::string ReadAll(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

class DiskFullTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { entered_ = testing::EnterPrivateMountNamespace(); }

  void SetUp() override {
    if (!entered_.ok()) {
      if (testing::FaultToolsRequired()) FAIL() << entered_;
      GTEST_SKIP() << entered_;
    }
    std::filesystem::create_directories(disk_);
    ASSERT_TRUE(testing::MountTmpfs(disk_, kDiskBytes).ok());
    mounted_ = true;
  }

  void TearDown() override {
    child_.reset();
    if (mounted_) EXPECT_TRUE(testing::Unmount(disk_).ok());
    std::filesystem::remove_all(dir_);
  }

  void Start() {
    target_ = absl::StrCat("127.0.0.1:", testing::FreePort());
    metrics_port_ = testing::FreePort();
    // Nothing listens on the peers' ports: issues wait in intake's outboxes.
    auto child = testing::Subprocess::Start(
        testing::BinaryPath("switchboard-intake"),
        {"--grpc_listen=" + target_, absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_),
         "--data_dir=" + disk_ + "/intake", "--rocksdb_write_buffer_mb=1",
         "--routing_target=127.0.0.1:1", "--notification_target=127.0.0.1:1"},
        {.stderr_path = dir_ + "/stderr.log"});
    ASSERT_TRUE(child.ok()) << child.status();
    child_ = std::move(*child);
    ASSERT_TRUE(testing::WaitForServing(target_, absl::Seconds(30)).ok()) << Log();
    stub_ =
        IntakeService::NewStub(grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
  }

  absl::Status Submit(const std::string& request_id) {
    intake::v1::SubmitIssueRequest request;
    issue::v1::Issue& issue = *request.mutable_issue();
    issue.set_title("full disk " + request_id);
    issue.set_description(std::string(16 << 10, 'd'));
    issue.mutable_customer()->set_id("contoso");
    issue.set_product("azure-storage");
    issue.set_severity(issue::v1::SEVERITY_HIGH);
    issue.set_source("crm");
    request.set_request_id(request_id);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    issue::v1::Issue reply;
    return FromGrpcStatus(stub_->SubmitIssue(&context, request, &reply));
  }

  // Every issue's title, paging through ListIssues.
  std::vector<std::string> Titles() {
    std::vector<std::string> titles;
    std::string token;
    do {
      intake::v1::ListIssuesRequest request;
      request.set_page_size(500);
      request.set_page_token(token);
      grpc::ClientContext context;
      intake::v1::ListIssuesResponse response;
      const grpc::Status status = stub_->ListIssues(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& issue : response.issues()) titles.push_back(issue.title());
      token = response.next_page_token();
    } while (!token.empty());
    return titles;
  }

  double Metric(const std::string& series) {
    auto page = testing::FetchMetrics(metrics_port_);
    if (!page.ok()) return -1;
    auto value = testing::SampleValue(*page, series);
    return value.ok() ? *value : -1;
  }

  std::string Log() { return ReadAll(dir_ + "/stderr.log"); }

  static absl::Status entered_;
  const std::string dir_ = testing::MakeTempDir("disk_full_test");
  const std::string disk_ = dir_ + "/disk";
  bool mounted_ = false;
  std::string target_;
  int metrics_port_ = 0;
  std::unique_ptr<testing::Subprocess> child_;
  std::unique_ptr<IntakeService::Stub> stub_;
};

absl::Status DiskFullTest::entered_;

TEST_F(DiskFullTest, WritesFailUnavailableReadsWorkAndWritesResumeWithoutARestart) {
  Start();
  absl::flat_hash_set<std::string> acknowledged;
  for (int i = 0; i < 20; ++i) {
    const std::string id = absl::StrCat("early-", i);
    ASSERT_TRUE(Submit(id).ok());
    acknowledged.insert(id);
  }

  // Fill the disk: a ballast file until ENOSPC.
  const std::string ballast = disk_ + "/ballast";
  {
    std::ofstream file(ballast, std::ios::binary);
    const std::string chunk(1 << 16, 'b');
    while (file.write(chunk.data(), static_cast<std::streamsize>(chunk.size())) && file.flush()) {
    }
  }

  // Four submitters until every one of them is refused (RocksDB stops once
  // its preallocated WAL or a flush needs a block).
  Mutex mu;
  absl::flat_hash_set<std::string> refused;
  std::vector<std::string> wrong;
  std::vector<std::thread> submitters;
  for (int s = 0; s < 4; ++s) {
    submitters.emplace_back([&, s] {
      int refusals = 0;
      for (int i = 0; i < 2000 && refusals < 5; ++i) {
        const std::string id = absl::StrCat("s", s, "-", i);
        const absl::Status status = Submit(id);
        MutexLock lock(mu);
        if (status.ok()) {
          EXPECT_EQ(refusals, 0) << id << " was acknowledged after a refusal";
          acknowledged.insert(id);
          continue;
        }
        ++refusals;
        refused.insert(id);
        if (status.code() != absl::StatusCode::kUnavailable ||
            !absl::StrContains(status.message(), "is full") || !GetRetryDelay(status)) {
          wrong.push_back(status.ToString());
        }
      }
    });
  }
  for (std::thread& submitter : submitters) submitter.join();
  ASSERT_EQ(refused.size(), 20u) << "the disk never filled up; log:\n" << Log();
  EXPECT_THAT(wrong, ::testing::IsEmpty());
  ASSERT_TRUE(child_->Running()) << Log();

  // Reads go on; health and the metric say why writes do not.
  EXPECT_EQ(Titles().size(), acknowledged.size());
  EXPECT_EQ(*testing::HealthOf(target_, ""), "SERVING");
  EXPECT_EQ(*testing::HealthOf(target_, "switchboard.storage"), "NOT_SERVING");
  EXPECT_EQ(Metric("switchboard_rocksdb_writes_refused{reason=\"no_space\"}"), 1);
  EXPECT_THAT(Log(), ::testing::HasSubstr("storage refuses writes until it recovers"));

  // Space again: writes resume by themselves, within RocksDB's 5 s poll.
  std::filesystem::remove(ballast);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  absl::Status resumed;
  do {
    absl::SleepFor(absl::Milliseconds(250));
    resumed = Submit("after-space-returned");
  } while (!resumed.ok() && absl::Now() < deadline);
  ASSERT_TRUE(resumed.ok()) << resumed << "\n" << Log();
  acknowledged.insert("after-space-returned");
  EXPECT_EQ(*testing::HealthOf(target_, "switchboard.storage"), "SERVING");
  EXPECT_EQ(Metric("switchboard_rocksdb_writes_refused{reason=\"no_space\"}"), 0);
  EXPECT_EQ(Metric("switchboard_rocksdb_error_recoveries_total{outcome=\"recovered\"}"), 1);
  // The refused requests, retried with their request_id, are created once.
  for (const std::string& id : refused) {
    ASSERT_TRUE(Submit(id).ok()) << id;
    acknowledged.insert(id);
  }
  for (const std::string& id : refused) ASSERT_TRUE(Submit(id).ok()) << id;

  // kill -9 and restart: every acknowledged issue, once.
  child_->Kill();
  Start();
  std::vector<std::string> expected;
  for (const std::string& id : acknowledged) expected.push_back("full disk " + id);
  EXPECT_THAT(Titles(), ::testing::UnorderedElementsAreArray(expected));
}

}  // namespace
}  // namespace switchboard
