#include "common/commit_queue.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/rocks.h"
#include "common/sync.h"
#include "common/testing/subprocess.h"

namespace switchboard {
namespace {

class CommitQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open({.path = dir_, .column_families = {"data"}});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string Get(const std::string& key) {
    std::string value;
    rocksdb::Status status = db_->db().Get({}, db_->Family("data"), key, &value);
    return status.ok() ? value : "<" + status.ToString() + ">";
  }

  rocksdb::WriteBatch Put(const std::string& key, const std::string& value) {
    rocksdb::WriteBatch batch;
    EXPECT_TRUE(batch.Put(db_->Family("data"), key, value).ok());
    return batch;
  }

  const std::string dir_ = testing::MakeTempDir("commit_queue_test");
  std::unique_ptr<Database> db_;
};

TEST_F(CommitQueueTest, ConcurrentWritersShareSyncedWrites) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  CommitQueue queue(db_->db(), {.name = "test"});
  BlockingCounter remaining(kThreads * kPerThread);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        queue.Commit(Put(absl::StrCat(t, "/", i), absl::StrCat("v", i)),
                     [&](const absl::Status& status) {
                       if (!status.ok()) ++failures;
                       remaining.DecrementCount();
                     });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  remaining.Wait();
  EXPECT_EQ(failures, 0);
  const CommitQueue::Stats stats = queue.stats();
  EXPECT_EQ(stats.writes, uint64_t{kThreads * kPerThread});
  // Writers that do not wait for each other are grouped: far fewer syncs.
  EXPECT_LE(stats.groups, stats.writes / 4) << stats.groups << " groups";
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; i += 37)
      EXPECT_EQ(Get(absl::StrCat(t, "/", i)), absl::StrCat("v", i));
  }
}

TEST_F(CommitQueueTest, CallbackRunsAfterTheWriteIsVisible) {
  CommitQueue queue(db_->db(), {.name = "test"});
  OneShot done;
  std::string seen;
  queue.Commit(Put("k", "v"), [&](const absl::Status& status) {
    EXPECT_TRUE(status.ok()) << status;
    seen = Get("k");
    done.Fire();
  });
  done.Wait();
  EXPECT_EQ(seen, "v");
}

TEST_F(CommitQueueTest, BatchesApplyInCommitOrder) {
  CommitQueue queue(db_->db(), {.name = "test"});
  BlockingCounter remaining(1000);
  for (int i = 0; i < 1000; ++i) {
    queue.Commit(Put("same", absl::StrCat(i)),
                 [&](const absl::Status&) { remaining.DecrementCount(); });
  }
  remaining.Wait();
  EXPECT_EQ(Get("same"), "999");
}

TEST_F(CommitQueueTest, BadBatchFailsOnlyItsOwnCaller) {
  // A batch naming a dropped column family cannot be written; RocksDB
  // rejects any group that contains it.
  rocksdb::ColumnFamilyHandle* doomed = nullptr;
  ASSERT_TRUE(db_->db().CreateColumnFamily({}, "doomed", &doomed).ok());
  rocksdb::WriteBatch bad;
  ASSERT_TRUE(bad.Put(doomed, "x", "y").ok());
  ASSERT_TRUE(db_->db().DropColumnFamily(doomed).ok());
  ASSERT_TRUE(db_->db().DestroyColumnFamilyHandle(doomed).ok());

  CommitQueue queue(db_->db(), {.name = "test"});
  constexpr int kGood = 50;
  Mutex mu;
  std::vector<absl::Status> results(kGood + 1);
  BlockingCounter remaining(kGood + 1);
  auto record = [&](int i) {
    return [&, i](const absl::Status& status) {
      {
        MutexLock lock(mu);
        results[i] = status;
      }
      remaining.DecrementCount();
    };
  };
  for (int i = 0; i < kGood / 2; ++i) queue.Commit(Put(absl::StrCat("good", i), "v"), record(i));
  queue.Commit(std::move(bad), record(kGood));
  for (int i = kGood / 2; i < kGood; ++i)
    queue.Commit(Put(absl::StrCat("good", i), "v"), record(i));
  remaining.Wait();

  EXPECT_EQ(results[kGood].code(), absl::StatusCode::kInternal) << results[kGood];
  for (int i = 0; i < kGood; ++i) {
    EXPECT_TRUE(results[i].ok()) << i << ": " << results[i];
    EXPECT_EQ(Get(absl::StrCat("good", i)), "v");
  }
  EXPECT_EQ(queue.stats().failed_writes, 1u);
}

TEST_F(CommitQueueTest, StopWritesWhatWasQueuedAndRefusesTheRest) {
  auto queue = std::make_unique<CommitQueue>(db_->db(), CommitQueue::Options{.name = "test"});
  std::atomic<int> ok{0};
  for (int i = 0; i < 100; ++i) {
    queue->Commit(Put(absl::StrCat("k", i), "v"),
                  [&](const absl::Status& status) { ok += status.ok(); });
  }
  queue->Stop();
  EXPECT_EQ(ok, 100);
  CommitWaiter waiter;
  queue->Commit(Put("late", "v"), waiter.Expect());
  EXPECT_EQ(waiter.Wait().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Get("late").front(), '<');
}

// Callers commit under the lock that orders their writes, and their callback
// takes it: a refusal after Stop() must not run inside Commit().
TEST_F(CommitQueueTest, ARefusalAfterStopRunsOnTheQueueThreadNotTheCaller) {
  CommitQueue queue(db_->db(), {.name = "test"});
  queue.Stop();
  Mutex mu;
  CommitWaiter waiter;
  std::thread::id ran_on;
  {
    MutexLock lock(mu);
    queue.Commit(Put("late", "v"), [&, done = waiter.Expect()](const absl::Status& status) mutable {
      MutexLock relock(mu);  // would deadlock if run inside Commit()
      ran_on = std::this_thread::get_id();
      std::move(done)(status);
    });
  }
  EXPECT_EQ(waiter.Wait().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST_F(CommitQueueTest, CommitAndWaitReturnsOnceTheBatchIsVisible) {
  CommitQueue queue(db_->db(), {.name = "test"});
  EXPECT_TRUE(queue.CommitAndWait(Put("k", "v")).ok());
  EXPECT_EQ(Get("k"), "v");
  EXPECT_TRUE(queue.CommitAndWait(rocksdb::WriteBatch()).ok());  // nothing to write
  queue.Stop();
  EXPECT_EQ(queue.CommitAndWait(Put("late", "v")).code(), absl::StatusCode::kUnavailable);
}

TEST_F(CommitQueueTest, CommitWaiterWaitsForEveryCommitAndKeepsTheFirstError) {
  rocksdb::ColumnFamilyHandle* doomed = nullptr;
  ASSERT_TRUE(db_->db().CreateColumnFamily({}, "doomed", &doomed).ok());
  rocksdb::WriteBatch bad;
  ASSERT_TRUE(bad.Put(doomed, "x", "y").ok());
  ASSERT_TRUE(db_->db().DropColumnFamily(doomed).ok());
  ASSERT_TRUE(db_->db().DestroyColumnFamilyHandle(doomed).ok());

  CommitQueue queue(db_->db(), {.name = "test"});
  CommitWaiter waiter;
  // Queued from other threads, as a service queues under its own lock.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    CommitQueue::Done done = waiter.Expect();
    threads.emplace_back([&, t, done = std::move(done)]() mutable {
      queue.Commit(Put(absl::StrCat("t", t), "v"), std::move(done));
    });
  }
  queue.Commit(std::move(bad), waiter.Expect());
  const absl::Status status = waiter.Wait();
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  for (int t = 0; t < 4; ++t) EXPECT_EQ(Get(absl::StrCat("t", t)), "v");

  CommitWaiter none;
  EXPECT_TRUE(none.Wait().ok());  // nothing expected: returns at once
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// The writer child commits 1 KiB values from 8 threads and prints each key
// once its commit is acknowledged. kill -9 at a random moment, three times:
// every acknowledged key must be in the database afterwards.
TEST(CommitQueueDurabilityTest, NothingAcknowledgedIsLostAcrossKill9) {
  const std::string dir = testing::MakeTempDir("commit_queue_kill");
  absl::flat_hash_set<std::string> acked;
  std::srand(static_cast<unsigned>(absl::ToUnixNanos(absl::Now())));
  for (int round = 0; round < 3; ++round) {
    auto child =
        testing::Subprocess::Start(testing::BinaryPath("commit_queue_writer"),
                                   {"--data_dir=" + dir, absl::StrCat("--prefix=r", round)},
                                   {.capture_stdout = true, .stderr_path = dir + ".stderr"});
    ASSERT_TRUE(child.ok()) << child.status();
    const int kill_after = 200 + std::rand() % 800;
    for (int n = 0; n < kill_after; ++n) {
      auto line = (*child)->ReadLine(absl::Seconds(30));
      ASSERT_TRUE(line.ok()) << line.status() << "; the writer said:\n"
                             << ReadFile(dir + ".stderr");
      ASSERT_TRUE(absl::StartsWith(*line, "acked ")) << *line;
      acked.insert(line->substr(6));
    }
    (*child)->Kill();
    // Lines already written to the pipe were acknowledged too.
    while (true) {
      auto line = (*child)->ReadLine(absl::Milliseconds(100));
      if (!line.ok()) break;
      if (absl::StartsWith(*line, "acked ")) acked.insert(line->substr(6));
    }
  }
  auto db = Database::Open({.path = dir});
  ASSERT_TRUE(db.ok()) << db.status();
  int missing = 0;
  for (const std::string& key : acked) {
    std::string value;
    if (!(*db)->db().Get({}, key, &value).ok()) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << acked.size() << " acknowledged keys";
  EXPECT_GE(acked.size(), 600u);
  db->reset();
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir + ".stderr");
}

}  // namespace
}  // namespace switchboard
