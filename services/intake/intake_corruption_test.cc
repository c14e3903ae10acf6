// Intake started on damaged files: bytes flipped in an SST, the MANIFEST,
// the middle of the WAL and the page-token key refuse the start with
// DATA_LOSS naming the damage and what to do; a torn WAL tail (a crash
// mid-write) is dropped and everything acknowledged is there; with the
// check at open turned off, a damaged block is DATA_LOSS when read, never
// wrong data.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/subprocess.h"
#include "services/intake/intake_server.h"
#include "services/intake/testing/fake_peers.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

namespace switchboard::intake {
namespace {

using issue::v1::Issue;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

void FlipByte(const std::string& path, size_t offset) {
  std::string contents = ReadFile(path);
  ASSERT_LT(offset, contents.size()) << path;
  contents[offset] = static_cast<char>(contents[offset] ^ 0x5a);
  WriteFile(path, contents);
}

class IntakeCorruptionTest : public ::testing::Test {
 protected:
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  absl::Status Start(bool verify_checksums_on_open = true) {
    stub_.reset();
    auto server = IntakeServer::Start({
        .data_dir = dir_,
        .storage = {.verify_checksums_on_open = verify_checksums_on_open},
        .routing = &routing_,
        .notification = &notification_,
    });
    if (!server.ok()) return server.status();
    server_ = std::move(*server);
    stub_ = v1::IntakeService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->grpc_port()), grpc::InsecureChannelCredentials()));
    return absl::OkStatus();
  }

  // Submits `count` issues and returns their names and titles.
  std::vector<Issue> SubmitSome(int count) {
    std::vector<Issue> issues;
    for (int i = 0; i < count; ++i) {
      v1::SubmitIssueRequest request;
      Issue& issue = *request.mutable_issue();
      issue.set_title(absl::StrCat("issue ", i));
      issue.set_description(std::string(2000, 'd'));
      issue.mutable_customer()->set_id("contoso");
      issue.set_product("storage");
      issue.set_severity(issue::v1::SEVERITY_HIGH);
      issue.set_source("crm");
      request.set_request_id(absl::StrCat("r", i));
      grpc::ClientContext context;
      Issue submitted;
      const grpc::Status status = stub_->SubmitIssue(&context, request, &submitted);
      EXPECT_TRUE(status.ok()) << status.error_message();
      issues.push_back(submitted);
    }
    return issues;
  }

  // Flushes every family to SST files and stops; returns the path of the
  // issues' SST file.
  std::string FlushAndStop() {
    Database& db = server_->store().db();
    EXPECT_TRUE(db.db().Flush(rocksdb::FlushOptions(), db.Families()).ok());
    std::vector<rocksdb::LiveFileMetaData> files;
    db.db().GetLiveFilesMetaData(&files);
    std::string issues;
    for (const rocksdb::LiveFileMetaData& file : files) {
      if (file.column_family_name == "issues") issues = file.db_path + file.name;
    }
    EXPECT_FALSE(issues.empty()) << "no SST file of the issues";
    server_.reset();
    return issues;
  }

  // The largest file in the data directory whose name ends with `suffix`
  // or starts with `prefix`.
  std::string Largest(absl::string_view suffix, absl::string_view prefix = "\\0") {
    std::string best;
    uintmax_t best_size = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      const std::string name = entry.path().filename().string();
      if (!absl::EndsWith(name, suffix) && !absl::StartsWith(name, prefix)) continue;
      if (entry.file_size() >= best_size) {
        best = entry.path().string();
        best_size = entry.file_size();
      }
    }
    EXPECT_FALSE(best.empty()) << "no file " << prefix << "*" << suffix << " in " << dir_;
    return best;
  }

  absl::StatusOr<Issue> Get(const std::string& name) {
    v1::GetIssueRequest request;
    request.set_name(name);
    grpc::ClientContext context;
    Issue issue;
    const grpc::Status status = stub_->GetIssue(&context, request, &issue);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return issue;
  }

  const std::string dir_ = switchboard::testing::MakeTempDir("intake_corruption_test");
  fakes::FakeRouting routing_;
  fakes::FakeNotification notification_;
  std::unique_ptr<IntakeServer> server_;
  std::unique_ptr<v1::IntakeService::Stub> stub_;
};

TEST_F(IntakeCorruptionTest, AnSstByteFlippedRefusesTheStartNamingTheFile) {
  ASSERT_TRUE(Start().ok());
  SubmitSome(200);
  const std::string sst = FlushAndStop();
  FlipByte(sst, std::filesystem::file_size(sst) / 4);
  const absl::Status start = Start();
  EXPECT_EQ(start.code(), absl::StatusCode::kDataLoss) << start;
  EXPECT_THAT(std::string(start.message()),
              HasSubstr(std::filesystem::path(sst).filename().string()));
  EXPECT_THAT(std::string(start.message()), HasSubstr("Restore the directory from a backup"));
}

// Without the check at open, the damage shows when the block is read: as
// DATA_LOSS (at start, or to the caller), never as an issue with wrong data.
TEST_F(IntakeCorruptionTest, AnSstByteFlippedWithoutTheCheckIsDataLossWhenReadNeverWrongData) {
  ASSERT_TRUE(Start().ok());
  const std::vector<Issue> issues = SubmitSome(200);
  const std::string sst = FlushAndStop();
  FlipByte(sst, std::filesystem::file_size(sst) / 4);
  const absl::Status start = Start(/*verify_checksums_on_open=*/false);
  if (!start.ok()) {
    EXPECT_EQ(start.code(), absl::StatusCode::kDataLoss) << start;
    return;
  }
  int lost = 0;
  for (const Issue& issue : issues) {
    absl::StatusOr<Issue> read = Get(issue.name());
    if (read.ok()) {
      EXPECT_EQ(read->title(), issue.title());
      EXPECT_EQ(read->description(), issue.description());
    } else {
      EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
      ++lost;
    }
  }
  EXPECT_GT(lost, 0) << "the flipped byte was never read";
}

TEST_F(IntakeCorruptionTest, AManifestByteFlippedRefusesTheStart) {
  ASSERT_TRUE(Start().ok());
  SubmitSome(20);
  FlushAndStop();
  const std::string manifest = Largest("\\0", "MANIFEST-");
  FlipByte(manifest, std::filesystem::file_size(manifest) / 2);
  const absl::Status start = Start();
  EXPECT_EQ(start.code(), absl::StatusCode::kDataLoss) << start;
  EXPECT_THAT(std::string(start.message()), HasSubstr("is corrupt"));
  EXPECT_THAT(std::string(start.message()),
              HasSubstr(std::filesystem::path(manifest).filename().string()));
}

// RocksDB's default recovery would open here with every write after the
// damage silently missing; the start is refused instead.
TEST_F(IntakeCorruptionTest, AByteFlippedInTheMiddleOfTheWalRefusesTheStart) {
  ASSERT_TRUE(Start().ok());
  SubmitSome(200);
  server_.reset();  // no flush: the issues are in the WAL only
  const std::string wal = Largest(".log");
  FlipByte(wal, std::filesystem::file_size(wal) / 2);
  const absl::Status start = Start();
  EXPECT_EQ(start.code(), absl::StatusCode::kDataLoss) << start;
  EXPECT_THAT(std::string(start.message()), HasSubstr("is corrupt"));
}

// A crash in the middle of writing a record leaves it torn at the end of the
// WAL. It was never acknowledged: it is dropped, and everything before is
// there.
TEST_F(IntakeCorruptionTest, ATornWalTailIsDroppedAndEveryAcknowledgedIssueIsThere) {
  ASSERT_TRUE(Start().ok());
  const std::vector<Issue> issues = SubmitSome(50);
  server_.reset();
  const std::string wal = Largest(".log");
  // A record header (checksum, length 0x7fff, full type) whose payload the
  // crash cut short.
  std::ofstream(wal, std::ios::binary | std::ios::app)
      << std::string("\x12\x34\x56\x78\xff\x7f\x01", 7) << std::string(100, 'x');
  ASSERT_TRUE(Start().ok());
  for (const Issue& issue : issues) {
    absl::StatusOr<Issue> read = Get(issue.name());
    ASSERT_TRUE(read.ok()) << issue.name() << ": " << read.status();
    EXPECT_EQ(read->title(), issue.title());
  }
}

TEST_F(IntakeCorruptionTest, ADamagedPageTokenKeyRefusesTheStart) {
  ASSERT_TRUE(Start().ok());
  server_.reset();
  FlipByte(dir_ + "/page-token.key", 3);
  const absl::Status start = Start();
  EXPECT_EQ(start.code(), absl::StatusCode::kDataLoss) << start;
  EXPECT_THAT(std::string(start.message()), HasSubstr("page-token.key"));
}

}  // namespace
}  // namespace switchboard::intake
