// The notification service's domain logic, free of gRPC: durable appends to
// per-subscriber logs, acknowledged cursors, and the wake-ups streams wait on.
//
// Publish assigns each (recipient, event) the next sequence of that
// recipient's log and queues all appends in one batch through the commit
// queue, under one lock, so sequences are dense and stored in order. An event
// id already in a log (stored, or queued a moment ago) is skipped. Watchers
// of a subscriber are woken once its appends are durable; streams read the
// log itself, so replay and live delivery are one path with no gap between.
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_CORE_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_CORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/sync.h"
#include "services/notification/log_store.h"
#include "services/notification/notification_metrics.h"
#include "switchboard/notification/v1/notification.pb.h"

namespace switchboard::notification {

// Something waiting for a subscriber's log to grow: a stream.
class LogWatcher {
 public:
  virtual ~LogWatcher() = default;
  // New notifications are durable in the watched log. Called on the commit
  // thread with the watchers' lock held: must not block, read the store or
  // call back into the core; schedule the read on the watcher's own turn.
  virtual void OnAppended() = 0;
  // The service is shutting down: end the stream.
  virtual void OnShutdown() = 0;
};

class NotificationCore {
 public:
  using PublishDone = absl::AnyInvocable<void(absl::StatusOr<v1::PublishResponse>) &&>;
  using AckDone = absl::AnyInvocable<void(absl::StatusOr<v1::AcknowledgeNotificationsResponse>) &&>;

  NotificationCore(LogStore& store, CommitQueue& commits, NotificationMetrics& metrics,
                   Clock& clock);

  // Publish: `done` runs after the fsync, or at once for an invalid request.
  void Publish(const v1::PublishRequest& request, PublishDone done);

  // AcknowledgeNotifications: moves the durable cursor forward, never back.
  void Acknowledge(const v1::AcknowledgeNotificationsRequest& request, AckDone done);

  // ListNotifications: the stored log, oldest first.
  absl::StatusOr<v1::ListNotificationsResponse> List(
      const v1::ListNotificationsRequest& request) const;

  // Where a Subscribe starts: after start_after, or after the cursor.
  absl::StatusOr<uint64_t> StartAfter(const v1::SubscribeRequest& request) const;

  // Durable notifications above `after`, at most `limit`.
  absl::StatusOr<std::vector<v1::Notification>> ReadAfter(absl::string_view subscriber,
                                                          uint64_t after, int limit) const;

  // Commits `batch` together with the subscriber's acknowledged cursor moved
  // up to `sequence` (never back; 0 leaves it), ordered with every other
  // cursor write. For push delivery, whose progress acknowledges.
  void CommitWithCursor(const std::string& subscriber, uint64_t sequence, rocksdb::WriteBatch batch,
                        CommitQueue::Done done);

  // The acknowledged cursor, counting writes still in flight.
  absl::StatusOr<uint64_t> AcknowledgedCursor(const std::string& subscriber);

  void Watch(const std::string& subscriber, LogWatcher* watcher);
  void Unwatch(const std::string& subscriber, LogWatcher* watcher);

  // Tells every watcher to end; later Watch calls are told at once.
  void Shutdown();

  NotificationMetrics& metrics() { return metrics_; }
  Clock& clock() { return clock_; }

 private:
  absl::StatusOr<uint64_t> LastSequenceLocked(const std::string& subscriber)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Appended(const std::vector<std::string>& subscribers);
  // Moves the cursor in memory and in `batch` up to `sequence`; `stored` is
  // the durable cursor. Returns the cursor after the move.
  uint64_t AdvanceCursorLocked(const std::string& subscriber, uint64_t stored, uint64_t sequence,
                               rocksdb::WriteBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a cursor write failed: the next one starts again from the store.
  void ForgetCursor(const std::string& subscriber) ABSL_LOCKS_EXCLUDED(mu_);

  LogStore& store_;
  CommitQueue& commits_;
  NotificationMetrics& metrics_;
  Clock& clock_;

  Mutex mu_;
  // The last sequence given out per subscriber (durable or queued).
  absl::flat_hash_map<std::string, uint64_t> last_ ABSL_GUARDED_BY(mu_);
  // (subscriber, event id) appends queued but not yet durable.
  absl::flat_hash_set<std::string> queued_ ABSL_GUARDED_BY(mu_);
  // Cursors being written, so concurrent acks never move one backwards.
  absl::flat_hash_map<std::string, uint64_t> cursors_ ABSL_GUARDED_BY(mu_);

  Mutex watch_mu_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<LogWatcher*>> watchers_
      ABSL_GUARDED_BY(watch_mu_);
  bool shut_down_ ABSL_GUARDED_BY(watch_mu_) = false;
};

}  // namespace switchboard::notification

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_CORE_H_
