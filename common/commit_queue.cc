#include "common/commit_queue.h"

#include <utility>

#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/rocks.h"

namespace switchboard {
namespace {

// A WriteBatch's representation is a 12-byte header (fixed64 sequence,
// fixed32 record count, little-endian) followed by its records; see
// rocksdb/db/write_batch.cc. Concatenating the records of several batches
// under one header is what RocksDB's own WriteBatchInternal::Append does.
constexpr size_t kBatchHeaderBytes = 12;

rocksdb::WriteBatch Concatenate(const std::vector<rocksdb::WriteBatch*>& batches) {
  size_t bytes = kBatchHeaderBytes;
  for (const rocksdb::WriteBatch* batch : batches)
    bytes += batch->GetDataSize() - kBatchHeaderBytes;
  std::string rep(kBatchHeaderBytes, '\0');
  rep.reserve(bytes);
  uint32_t count = 0;
  for (const rocksdb::WriteBatch* batch : batches) {
    rep.append(batch->Data(), kBatchHeaderBytes, std::string::npos);
    count += batch->Count();
  }
  for (int i = 0; i < 4; ++i) rep[8 + i] = static_cast<char>((count >> (8 * i)) & 0xff);
  return rocksdb::WriteBatch(std::move(rep));
}

const std::vector<double>& GroupSizeBuckets() {
  static const auto* buckets =
      new std::vector<double>{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
  return *buckets;
}

const std::vector<double>& ByteBuckets() {
  static const auto* buckets = new std::vector<double>{1 << 10,   4 << 10, 16 << 10, 64 << 10,
                                                       256 << 10, 1 << 20, 4 << 20,  16 << 20};
  return *buckets;
}

}  // namespace

CommitQueue::CommitQueue(rocksdb::DB& db, Options options, prometheus::Registry* registry)
    : db_(db), options_(std::move(options)) {
  if (registry != nullptr) {
    const prometheus::Labels labels{{"store", options_.name}};
    metrics_.group_writes = &prometheus::BuildHistogram()
                                 .Name("switchboard_commit_group_writes")
                                 .Help("Writes committed together in one synced RocksDB write.")
                                 .Register(*registry)
                                 .Add(labels, GroupSizeBuckets());
    metrics_.group_bytes = &prometheus::BuildHistogram()
                                .Name("switchboard_commit_group_bytes")
                                .Help("Size of one group commit's WriteBatch.")
                                .Register(*registry)
                                .Add(labels, ByteBuckets());
    metrics_.sync_seconds = &prometheus::BuildHistogram()
                                 .Name("switchboard_commit_sync_seconds")
                                 .Help("Duration of one group commit's synced RocksDB write.")
                                 .Register(*registry)
                                 .Add(labels, LatencyBuckets());
    metrics_.failed_writes = &prometheus::BuildCounter()
                                  .Name("switchboard_commit_failures_total")
                                  .Help("Commits completed with an error.")
                                  .Register(*registry)
                                  .Add(labels);
  }
  thread_ = std::thread([this] { Run(); });
}

CommitQueue::~CommitQueue() {
  Stop();
  {
    MutexLock lock(mu_);
    exiting_ = true;
    queued_.SignalAll();
  }
  thread_.join();
}

void CommitQueue::Commit(rocksdb::WriteBatch batch, Done done) {
  const auto bytes = static_cast<int64_t>(batch.GetDataSize());
  if (options_.capacity != nullptr) options_.capacity->AddCommitBytes(bytes);
  MutexLock lock(mu_);
  queue_.push_back({std::move(batch), std::move(done), /*refused=*/stopped_, bytes});
  if (!stopped_) ++accepted_;
  queued_.Signal();
}

void CommitQueue::Stop() {
  MutexLock lock(mu_);
  stopped_ = true;
  while (accepted_ > 0) drained_.Wait(mu_);
}

CommitQueue::Stats CommitQueue::stats() const {
  Stats stats;
  stats.groups = groups_.load(std::memory_order_relaxed);
  stats.writes = writes_.load(std::memory_order_relaxed);
  stats.failed_writes = failed_writes_.load(std::memory_order_relaxed);
  return stats;
}

void CommitQueue::Run() {
  std::vector<Pending> group;
  std::vector<Pending> refused;
  while (true) {
    group.clear();
    refused.clear();
    {
      MutexLock lock(mu_);
      while (!exiting_ && queue_.empty()) queued_.Wait(mu_);
      if (queue_.empty()) return;  // exiting, and everything is completed
      while (!queue_.empty() && queue_.front().refused) {
        refused.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      size_t bytes = 0;
      while (!queue_.empty() && !queue_.front().refused &&
             group.size() < options_.max_group_writes &&
             (group.empty() ||
              bytes + queue_.front().batch.GetDataSize() <= options_.max_group_bytes)) {
        bytes += queue_.front().batch.GetDataSize();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    for (Pending& pending : refused) {
      Complete(pending, absl::UnavailableError("commit queue " + options_.name + " is stopped"));
    }
    if (group.empty()) continue;
    const absl::Status failed = WriteGroup(group);
    std::vector<Pending> behind;
    if (!failed.ok()) {
      // The database refused the whole group. What was queued behind it may
      // have been built on the failed writes (a service keeps what is in
      // flight in memory until its callback), so it must not be written
      // later, after the database has recovered: fail it too.
      MutexLock lock(mu_);
      for (Pending& pending : queue_) {
        if (!pending.refused) behind.push_back(std::move(pending));
      }
      std::erase_if(queue_, [](const Pending& pending) { return !pending.refused; });
    }
    for (Pending& pending : behind) Complete(pending, failed);
    MutexLock lock(mu_);
    accepted_ -= group.size() + behind.size();
    if (accepted_ == 0) drained_.SignalAll();
  }
}

namespace {

// Whether a failed write is about that batch alone (so the others of its
// group can still be written) rather than about the database: a bad batch
// is refused with these, while a full disk, a failed sync or corruption
// fails every write alike.
bool BlamesTheBatch(const rocksdb::Status& status) {
  return status.IsInvalidArgument() || status.IsNotSupported();
}

}  // namespace

absl::Status CommitQueue::WriteGroup(std::vector<Pending>& group) {
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync;

  std::vector<rocksdb::WriteBatch*> batches;
  batches.reserve(group.size());
  for (Pending& pending : group) batches.push_back(&pending.batch);
  rocksdb::WriteBatch combined;
  rocksdb::WriteBatch* to_write = batches.front();
  if (batches.size() > 1) {
    combined = Concatenate(batches);
    to_write = &combined;
  }

  const absl::Time start = absl::Now();
  const rocksdb::Status status = db_.Write(write_options, to_write);
  if (metrics_.sync_seconds != nullptr) {
    metrics_.sync_seconds->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    metrics_.group_writes->Observe(static_cast<double>(group.size()));
    metrics_.group_bytes->Observe(static_cast<double>(to_write->GetDataSize()));
  }
  groups_.fetch_add(1, std::memory_order_relaxed);

  if (status.ok()) {
    if (failing_) log::Info("group commits succeed again", {{"store", options_.name}});
    failing_ = false;
    for (Pending& pending : group) Complete(pending, absl::OkStatus());
    return absl::OkStatus();
  }
  if (!BlamesTheBatch(status)) {
    // Once per outage: while the database refuses, every group fails alike.
    if (!failing_) {
      log::Warning(
          "group commit failed; failing it and every write queued behind it, and so "
          "on until writes succeed again",
          {{"store", options_.name},
           {"writes", static_cast<int64_t>(group.size())},
           {"error", status.ToString()}});
    }
    failing_ = true;
    const absl::Status result = FromRocks(status, "commit");
    for (Pending& pending : group) Complete(pending, result);
    return result;
  }
  // Find out whose batch failed: write each alone.
  log::Warning("group commit refused, writing its batches one by one",
               {{"store", options_.name},
                {"writes", static_cast<int64_t>(group.size())},
                {"error", status.ToString()}});
  for (Pending& pending : group) {
    Complete(
        pending,
        FromRocks(group.size() == 1 ? status : db_.Write(write_options, &pending.batch), "commit"));
  }
  return absl::OkStatus();
}

void CommitQueue::Complete(Pending& pending, absl::Status status) {
  if (options_.capacity != nullptr) options_.capacity->AddCommitBytes(-pending.bytes);
  writes_.fetch_add(1, std::memory_order_relaxed);
  if (!status.ok()) {
    failed_writes_.fetch_add(1, std::memory_order_relaxed);
    if (metrics_.failed_writes != nullptr) metrics_.failed_writes->Increment();
  }
  std::move(pending.done)(std::move(status));
}

absl::Status CommitQueue::CommitAndWait(rocksdb::WriteBatch batch) {
  if (batch.Count() == 0) return absl::OkStatus();
  CommitWaiter waiter;
  Commit(std::move(batch), waiter.Expect());
  return waiter.Wait();
}

CommitQueue::Done CommitWaiter::Expect() {
  {
    MutexLock lock(mu_);
    ++pending_;
  }
  return [this](absl::Status status) {
    MutexLock lock(mu_);
    if (!status.ok() && status_.ok()) status_ = std::move(status);
    if (--pending_ == 0) done_.SignalAll();
  };
}

absl::Status CommitWaiter::Wait() {
  MutexLock lock(mu_);
  while (pending_ > 0) done_.Wait(mu_);
  return status_;
}

}  // namespace switchboard
