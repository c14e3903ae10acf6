// What the database and the commit queue do when the disk fills up, an fsync
// fails or an fsync is slow, over a file system that injects those faults
// (common/testing/faulty_file_system.h). The same faults on real binaries
// are in tests/disk_full_test.cc and services/intake/intake_fault_test.cc.
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/commit_queue.h"
#include "common/rocks.h"
#include "common/rocks_metrics.h"
#include "common/status.h"
#include "common/sync.h"
#include "common/testing/faulty_file_system.h"
#include "common/testing/subprocess.h"

namespace switchboard {
namespace {

using testing::FaultyFileSystem;
using testing::FileKind;

class StorageFaultTest : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Over the faulty file system unless `faulty` is false; small memtables,
  // so that RocksDB waits for only 1 MiB of free space before resuming.
  std::unique_ptr<Database> Open(bool faulty = true) {
    auto db = Database::Open(
        {.path = dir_,
         .column_families = {"data"},
         .tuning = {.write_buffer_bytes = size_t{1} << 20, .file_system = faulty ? fs_ : nullptr}});
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? std::move(*db) : nullptr;
  }

  static rocksdb::WriteBatch Put(Database& db, const std::string& key) {
    rocksdb::WriteBatch batch;
    EXPECT_TRUE(batch.Put(db.Family("data"), key, "value-of-" + key).ok());
    return batch;
  }

  static bool Has(Database& db, const std::string& key) {
    std::string value;
    const rocksdb::Status status = db.db().Get({}, db.Family("data"), key, &value);
    EXPECT_TRUE(status.ok() || status.IsNotFound()) << status.ToString();
    return status.ok() && value == "value-of-" + key;
  }

  static double Gauge(const Database& db, const std::string& name, const std::string& label) {
    for (const prometheus::MetricFamily& family : DatabaseMetrics(db).Collect()) {
      if (family.name != name) continue;
      for (const prometheus::ClientMetric& sample : family.metric) {
        if (label.empty() || (!sample.label.empty() && sample.label[0].value == label)) {
          return family.type == prometheus::MetricType::Counter ? sample.counter.value
                                                                : sample.gauge.value;
        }
      }
    }
    ADD_FAILURE() << "no sample " << name << "{" << label << "}";
    return -1;
  }

  const std::string dir_ = testing::MakeTempDir("storage_fault_test");
  std::shared_ptr<FaultyFileSystem> fs_ = std::make_shared<FaultyFileSystem>();
};

// A full disk: writes fail UNAVAILABLE with a RetryInfo and plain words,
// reads go on, the state and the metric say why; once space is back RocksDB
// resumes by itself (it looks every 5 s) and nothing acknowledged is lost.
TEST_F(StorageFaultTest, NoSpaceRefusesWritesServesReadsAndResumesWhenSpaceReturns) {
  absl::flat_hash_set<std::string> acknowledged;
  // Outlive the database, whose observer uses them.
  Mutex mu;
  std::vector<StorageState> seen;
  {
    std::unique_ptr<Database> db = Open();
    ASSERT_NE(db, nullptr);
    db->WatchStorage([&](const StorageHealth& health) {
      MutexLock lock(mu);
      seen.push_back(health.state);
    });
    CommitQueue queue(db->db(), {.name = "test"});
    for (int i = 0; i < 20; ++i) {
      const std::string key = absl::StrCat("before-", i);
      ASSERT_TRUE(queue.CommitAndWait(Put(*db, key)).ok());
      acknowledged.insert(key);
    }

    fs_->SetNoSpace(true);
    const absl::Status refused = queue.CommitAndWait(Put(*db, "while-full"));
    EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
    EXPECT_THAT(std::string(refused.message()), ::testing::HasSubstr("disk"));
    EXPECT_THAT(std::string(refused.message()), ::testing::HasSubstr("is full"));
    EXPECT_FALSE(absl::StrContains(refused.message(), dir_)) << "paths belong in the log";
    EXPECT_EQ(GetRetryDelay(refused), kNoSpaceRetryDelay);
    EXPECT_EQ(db->storage().state, StorageState::kRecovering);
    EXPECT_EQ(db->storage().reason, "no_space");
    EXPECT_EQ(Gauge(*db, "switchboard_rocksdb_writes_refused", "no_space"), 1);
    EXPECT_EQ(Gauge(*db, "switchboard_rocksdb_writes_refused", "io_error"), 0);
    // Later writes are refused at once, and reads go on.
    EXPECT_EQ(queue.CommitAndWait(Put(*db, "while-full-2")).code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(Has(*db, "before-7"));

    fs_->SetNoSpace(false);
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (db->storage().state != StorageState::kWritable && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_EQ(db->storage().state, StorageState::kWritable) << "RocksDB did not resume";
    EXPECT_EQ(db->recoveries().recovered, 1u);
    EXPECT_EQ(Gauge(*db, "switchboard_rocksdb_writes_refused", "no_space"), 0);
    EXPECT_EQ(Gauge(*db, "switchboard_rocksdb_error_recoveries_total", "recovered"), 1);
    for (int i = 0; i < 20; ++i) {
      const std::string key = absl::StrCat("after-", i);
      ASSERT_TRUE(queue.CommitAndWait(Put(*db, key)).ok());
      acknowledged.insert(key);
    }
    {
      MutexLock lock(mu);
      EXPECT_THAT(seen, ::testing::ElementsAre(StorageState::kWritable, StorageState::kRecovering,
                                               StorageState::kWritable));
    }
    // Not under `mu`: the listener holds its own lock while it calls us.
    db->WatchStorage(nullptr);
  }
  std::unique_ptr<Database> db = Open(/*faulty=*/false);
  ASSERT_NE(db, nullptr);
  for (const std::string& key : acknowledged) EXPECT_TRUE(Has(*db, key)) << key;
  EXPECT_FALSE(Has(*db, "while-full"));
  EXPECT_FALSE(Has(*db, "while-full-2"));
}

// Writers keep committing while one WAL fsync fails and loses what it should
// have made durable. Exactly the writes of that group and every one after
// fail; none is acknowledged after the failure; the state is kFailed, for
// good; and the reopened database holds every acknowledged write and none
// of the failed ones.
TEST_F(StorageFaultTest, AFailedSyncFailsItsGroupAndEveryWriteAfterAndLosesNothingAcknowledged) {
  constexpr int kWriters = 8;
  Mutex mu;
  absl::flat_hash_set<std::string> acknowledged;
  absl::flat_hash_set<std::string> failed;
  int failed_reports = 0;
  {
    std::unique_ptr<Database> db = Open();
    ASSERT_NE(db, nullptr);
    db->WatchStorage([&](const StorageHealth& health) {
      MutexLock lock(mu);
      if (health.state == StorageState::kFailed) ++failed_reports;
    });
    CommitQueue queue(db->db(), {.name = "test"});
    std::atomic<int> commits{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        bool failing = false;
        // Each writer goes on for a while after its first failure: nothing
        // may be acknowledged after it.
        for (int i = 0, after_failure = 0; i < 5000 && after_failure < 20; ++i) {
          const std::string key = absl::StrCat(w, "/", i);
          const absl::Status status = queue.CommitAndWait(Put(*db, key));
          commits.fetch_add(1);
          MutexLock lock(mu);
          if (status.ok()) {
            EXPECT_FALSE(failing) << key << " was acknowledged after a failed write";
            acknowledged.insert(key);
          } else {
            EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
            failing = true;
            ++after_failure;
            failed.insert(key);
          }
        }
      });
    }
    while (commits.load() < 400) absl::SleepFor(absl::Milliseconds(1));
    fs_->FailSyncs(FileKind::kWal, 1, /*drop_unsynced=*/true);
    for (std::thread& writer : writers) writer.join();
    EXPECT_EQ(fs_->failed_syncs(FileKind::kWal), 1);
    EXPECT_EQ(db->storage().state, StorageState::kFailed);
    EXPECT_EQ(db->storage().reason, "io_error");
    EXPECT_EQ(Gauge(*db, "switchboard_rocksdb_writes_refused", "io_error"), 1);
  }
  MutexLock lock(mu);
  EXPECT_EQ(failed_reports, 1);
  EXPECT_GE(acknowledged.size(), 400u - kWriters);
  EXPECT_EQ(failed.size(), size_t{kWriters} * 20);
  std::unique_ptr<Database> db = Open(/*faulty=*/false);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->storage().state, StorageState::kWritable);
  for (const std::string& key : acknowledged) EXPECT_TRUE(Has(*db, key)) << key;
  for (const std::string& key : failed) EXPECT_FALSE(Has(*db, key)) << key;
}

// 200 ms per WAL fsync: commits wait longer and share groups; none fails.
TEST_F(StorageFaultTest, ASlowSyncMakesLargerGroupsAndFailsNothing) {
  std::unique_ptr<Database> db = Open();
  ASSERT_NE(db, nullptr);
  fs_->SetSyncDelay(FileKind::kWal, absl::Milliseconds(200));
  CommitQueue queue(db->db(), {.name = "test"});
  constexpr int kWriters = 16;
  constexpr int kPerWriter = 4;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        if (!queue.CommitAndWait(Put(*db, absl::StrCat(w, "/", i))).ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(failures.load(), 0);
  const CommitQueue::Stats stats = queue.stats();
  EXPECT_EQ(stats.writes, uint64_t{kWriters} * kPerWriter);
  // One sync at a time: while it takes 200 ms the others queue up.
  EXPECT_LE(stats.groups, stats.writes / 4) << "writes were not grouped";
  EXPECT_EQ(db->storage().state, StorageState::kWritable);
}

}  // namespace
}  // namespace switchboard
