// Intake's RocksDB, opened as one: the issue schema (IssueStore), the two
// outboxes of work that leaves intake, the doorbell of the SLA timers, and
// the commit queue every write goes through.
//
//   route_queue  outbox: issue ids accepted and waiting to be routed
//   event_queue  outbox: IssueEvents waiting to be published
//   (and the families of IssueStore: issues, requests, index, timers)
//
// A new issue is one batch: the issue, its request record, its index
// entries, a route task and its RECEIVED event. Each later change is one
// batch too: the issue, its index and timer entries, its event, and the
// removal of the work item it completes.
#ifndef SWITCHBOARD_SERVICES_INTAKE_STORE_H_
#define SWITCHBOARD_SERVICES_INTAKE_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/outbox.h"
#include "common/rocks.h"
#include "common/worker_loop.h"
#include "services/intake/issue_store.h"

namespace switchboard::intake {

class IntakeStore {
 public:
  struct Options {
    std::string path;  // the data directory
    // fsync each group commit; only tests turn it off.
    bool sync = true;
  };

  static constexpr char kRouteQueue[] = "route_queue";
  static constexpr char kEventQueue[] = "event_queue";

  // Every column family of intake's database.
  static std::vector<ColumnFamily> ColumnFamilies();

  // Opens (creating if needed) the database and reads where the outboxes
  // stand. `registry` (may be null) gets the commit queue's and RocksDB's
  // metrics families.
  static absl::StatusOr<std::unique_ptr<IntakeStore>> Open(const Options& options, Clock& clock,
                                                           prometheus::Registry* registry);

  // Stops the commit queue (writing what was queued), then closes.
  ~IntakeStore();

  Database& db() { return *db_; }
  CommitQueue& commits() { return *commits_; }
  IssueStore& issues() { return *issues_; }
  Outbox& route_tasks() { return *route_tasks_; }
  Outbox& events() { return *events_; }
  // Rung when a durable batch armed or moved an SLA timer.
  Doorbell& timers_changed() { return timers_changed_; }

 private:
  IntakeStore() = default;

  std::unique_ptr<Database> db_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<IssueStore> issues_;
  std::unique_ptr<Outbox> route_tasks_;
  std::unique_ptr<Outbox> events_;
  Doorbell timers_changed_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_STORE_H_
