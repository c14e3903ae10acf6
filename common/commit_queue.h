// Group commit for RocksDB: many concurrent durable writes become one
// WriteBatch and one synced WAL write, and each caller is completed after it.
//
// Commit() never blocks on I/O, so gRPC callback threads can call it and
// finish their reactor in the callback. Batches are written in the order
// Commit() was called. A write is visible to readers only once its callback
// runs; services keep what is in flight in memory until then.
//
//   CommitQueue queue(db->db(), {.name = "intake"}, registry.get());
//   rocksdb::WriteBatch batch;
//   batch.Put(db->Family("issues"), key, value);
//   queue.Commit(std::move(batch), [reactor](absl::Status status) {
//     reactor->Finish(ToGrpcStatus(status));  // after the fsync
//   });
//
// A thread that may block (a service's own worker thread; never a gRPC
// callback thread or the commit thread itself) waits instead:
//
//   absl::Status status = queue.CommitAndWait(std::move(batch));
//
// or, when the Commit() calls must be made under a lock that orders them and
// the wait must not be, with a CommitWaiter:
//
//   CommitWaiter waiter;
//   { MutexLock lock(mu_); queue.Commit(std::move(batch), waiter.Expect()); }
//   absl::Status status = waiter.Wait();
#ifndef SWITCHBOARD_COMMON_COMMIT_QUEUE_H_
#define SWITCHBOARD_COMMON_COMMIT_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "common/capacity.h"
#include "common/sync.h"

namespace switchboard {

class CommitQueue {
 public:
  // Runs on the queue's thread with the outcome of one Commit(); keep it short.
  using Done = absl::AnyInvocable<void(absl::Status) &&>;

  struct Options {
    // The store's name, the `store` label of the metrics.
    std::string name = "default";
    // A group closes at this many writes or bytes, whichever comes first.
    size_t max_group_writes = 4096;
    size_t max_group_bytes = size_t{8} << 20;
    // fsync the WAL before completing callers. Only tests turn it off.
    bool sync = true;
    // Told of the bytes queued and not yet completed (common/capacity.h),
    // so that the service refuses writes while the disk is behind. Null:
    // told to nobody.
    Capacity* capacity = nullptr;
  };

  struct Stats {
    uint64_t groups = 0;         // synced group writes made
    uint64_t writes = 0;         // Commit() calls completed
    uint64_t failed_writes = 0;  // of them, completed with an error
  };

  // `registry` may be null (no metrics). The queue starts its thread at once.
  CommitQueue(rocksdb::DB& db, Options options, prometheus::Registry* registry = nullptr);

  // Stop()s.
  ~CommitQueue();

  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues `batch`; `done` runs once the group holding it is durable, with
  // OK, or with the error that kept this batch from being written. If
  // RocksDB refuses the group as malformed, each of its batches is retried
  // alone, so one bad batch fails only its own caller. If the database
  // fails it (a full disk, a failed sync), the group and every write queued
  // behind it at that moment fail with that error, and nothing of them is
  // written later. After Stop(), `done` runs with UNAVAILABLE. `done` always runs on the queue's
  // thread, never inside Commit(), so a caller may hold a lock across Commit() that `done` takes.
  void Commit(rocksdb::WriteBatch batch, Done done);

  // Commit(), then blocks until `batch` is durable or has failed. For
  // threads that may block only; an empty batch returns OK at once.
  absl::Status CommitAndWait(rocksdb::WriteBatch batch);

  // Writes everything queued so far and returns; later Commit()s are
  // refused. The thread runs on until the destructor, to complete them.
  // Idempotent; never call it from a `done` callback.
  void Stop();

  Stats stats() const;

 private:
  struct Pending {
    rocksdb::WriteBatch batch;
    Done done;
    bool refused = false;  // queued after Stop(): completed, never written
    int64_t bytes = 0;     // the batch's size, as told to options_.capacity
  };

  struct Metrics {
    prometheus::Histogram* group_writes = nullptr;
    prometheus::Histogram* group_bytes = nullptr;
    prometheus::Histogram* sync_seconds = nullptr;
    prometheus::Counter* failed_writes = nullptr;
  };

  void Run();
  // Writes and completes `group`. Returns the error when the database
  // failed the whole group, else OK.
  absl::Status WriteGroup(std::vector<Pending>& group);
  void Complete(Pending& pending, absl::Status status);

  rocksdb::DB& db_;
  const Options options_;
  Metrics metrics_;

  Mutex mu_;
  CondVar queued_;   // signalled when queue_ grows or exiting_ is set
  CondVar drained_;  // signalled when accepted_ reaches 0
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  size_t accepted_ ABSL_GUARDED_BY(mu_) = 0;  // queued before Stop(), not yet completed
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool exiting_ ABSL_GUARDED_BY(mu_) = false;

  bool failing_ = false;  // the last group failed; only the queue's thread uses it

  std::atomic<uint64_t> groups_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> failed_writes_{0};

  std::thread thread_;
};

// Waits for the outcome of one or more CommitQueue::Commit() calls, on a
// thread that may block. Wait() returns once every callback handed out by
// Expect() has run; the waiter must outlive them, which Wait() ensures.
class CommitWaiter {
 public:
  CommitWaiter() = default;
  CommitWaiter(const CommitWaiter&) = delete;
  CommitWaiter& operator=(const CommitWaiter&) = delete;

  // A Done for one more commit.
  CommitQueue::Done Expect();

  // Blocks until every expected commit completed: OK, or the first error.
  absl::Status Wait();

 private:
  Mutex mu_;
  CondVar done_;
  int pending_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_COMMIT_QUEUE_H_
