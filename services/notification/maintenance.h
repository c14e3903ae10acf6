// Periodic upkeep of the notification store: measures the backlog (stored,
// unacknowledged notifications and the age of the oldest), and deletes
// acknowledged notifications and recorded push attempts older than the
// retention. Deleting a notification deletes its dedup record too, so the
// retention is also how long a repeated event id is recognised; intake only
// republishes within minutes, far inside it.
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_MAINTENANCE_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_MAINTENANCE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/periodic.h"
#include "services/notification/log_store.h"
#include "services/notification/notification_core.h"
#include "services/notification/push_store.h"

namespace switchboard::notification {

class Maintenance {
 public:
  struct Options {
    // How often a pass runs.
    absl::Duration interval = absl::Seconds(15);
    // Acknowledged notifications and push attempts older than this go.
    absl::Duration retention = absl::Hours(24 * 7);
  };

  // What one pass saw and did.
  struct Report {
    uint64_t backlog = 0;
    absl::Duration oldest_unacknowledged_age = absl::ZeroDuration();
    int64_t compacted_notifications = 0;
    int64_t compacted_attempts = 0;
  };

  Maintenance(LogStore& logs, PushStore& pushes, CommitQueue& commits, NotificationMetrics& metrics,
              Clock& clock, Options options);
  ~Maintenance();  // Stop()s.

  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  // Runs a pass now and then every interval, on its own thread.
  void Start();
  void Stop();

  // One pass, on the caller's thread; updates the metrics.
  absl::StatusOr<Report> RunOnce();

 private:
  void RunAndLog();

  LogStore& logs_;
  PushStore& pushes_;
  CommitQueue& commits_;
  NotificationMetrics& metrics_;
  Clock& clock_;
  const Options options_;

  PeriodicTask task_{clock_, options_.interval, [this] { RunAndLog(); }};
};

}  // namespace switchboard::notification

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_MAINTENANCE_H_
