// Intake's RocksDB, opened as one: the issue schema (IssueStore), the two
// outboxes of work that leaves intake, the doorbell of the SLA timers, and
// the commit queue every write goes through.
//
//   route_queue    outbox: issue ids accepted and waiting to be routed
//   event_queue    outbox: IssueEvents waiting to be published to
//                  notification partition 0; event_queue_1, _2... for the
//                  others, each event holding only that partition's
//                  recipients (AppendEvent)
//   mail_{d}       outbox: PartitionMessages (intake/v1/partition.proto) to
//                  intake partition d, this one included, about problems
//   default        "mail_run": this run's number; "mail_from/{p}": the
//                  (run, sequence) of the last message from partition p
//                  applied here, written with its effects
//   (and the families of IssueStore: issues, requests, index, timers; and
//   of ProblemStore: problems and their links, customers and windows)
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
#include "common/partition.h"
#include "common/rocks.h"
#include "common/worker_loop.h"
#include "services/intake/issue_store.h"
#include "services/intake/problem_store.h"

namespace switchboard::intake {

// Where one sender's mail stands: messages are ordered by (run, sequence).
struct MailPosition {
  uint64_t run = 0;
  uint64_t sequence = 0;
  friend bool operator<=(const MailPosition& a, const MailPosition& b) {
    return a.run < b.run || (a.run == b.run && a.sequence <= b.sequence);
  }
};

class IntakeStore {
 public:
  struct Options {
    std::string path;  // the data directory
    StorageTuning tuning;
    // fsync each group commit; only tests turn it off.
    bool sync = true;
    // How many notification partitions events are published to: one event
    // outbox each.
    int notification_partitions = 1;
    // Which intake partition this store holds (common/partition.h); checked
    // against, or recorded as, what the store was first opened as.
    Partitioning partitioning;
    // Told of the bytes waiting for commit (CommitQueue::Options::capacity).
    Capacity* capacity = nullptr;
  };

  static constexpr char kRouteQueue[] = "route_queue";
  static constexpr char kEventQueue[] = "event_queue";
  static constexpr char kMailQueue[] = "mail_";

  // Every column family of intake's database.
  static std::vector<ColumnFamily> ColumnFamilies(int notification_partitions = 1,
                                                  int intake_partitions = 1);
  // The event outbox of notification partition `partition`.
  static std::string EventQueueName(int partition);
  // The outbox of messages to intake partition `partition`.
  static std::string MailQueueName(int partition);

  // Opens (creating if needed) the database and reads where the outboxes
  // stand. `registry` (may be null) gets the commit queue's and RocksDB's
  // metrics families.
  static absl::StatusOr<std::unique_ptr<IntakeStore>> Open(const Options& options, Clock& clock,
                                                           prometheus::Registry* registry);

  // Stops the commit queue (writing what was queued), then closes.
  ~IntakeStore();

  Database& db() { return *db_; }
  // The intake partition this store holds.
  int partition() const { return partition_; }
  CommitQueue& commits() { return *commits_; }
  IssueStore& issues() { return *issues_; }
  ProblemStore& problems() { return *problems_; }
  Outbox& route_tasks() { return *route_tasks_; }
  // The events waiting for notification partition `partition`.
  Outbox& events(int partition = 0) { return *events_[partition]; }
  int event_partitions() const { return static_cast<int>(events_.size()); }
  // The messages waiting for intake partition `partition` (this one too).
  Outbox& mail(int partition) { return *mail_[partition]; }
  // How many intake partitions there are.
  int intake_partitions() const { return static_cast<int>(mail_.size()); }
  // This run's number, one more than the last run's: every message this run
  // sends carries it, so that with the outbox sequence it orders every
  // message of this partition to one destination, across restarts (an
  // outbox drained empty starts its sequence over; the run number does
  // not).
  uint64_t mail_run() const { return mail_run_; }
  // Where the mail from partition `sender` stands here: the (run, sequence)
  // of the last message applied, {0, 0} for none.
  absl::StatusOr<MailPosition> MailFrom(int sender) const;
  void PutMailFrom(int sender, const MailPosition& position, rocksdb::WriteBatch& batch);
  // Adds `event` to `batch`: into the outbox of each notification partition
  // that owns some of its recipients, with just those recipients.
  void AppendEvent(const issue::v1::IssueEvent& event, rocksdb::WriteBatch& batch);
  // Rings every event outbox's doorbell (after a batch with events is durable).
  void RingEvents();
  // Rings every mail outbox's doorbell (after a batch with mail is durable).
  void RingMail();
  // Rung when a durable batch armed or moved an SLA timer.
  Doorbell& timers_changed() { return timers_changed_; }

 private:
  IntakeStore() = default;

  int partition_ = 0;
  uint64_t mail_run_ = 0;
  std::unique_ptr<Database> db_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<IssueStore> issues_;
  std::unique_ptr<ProblemStore> problems_;
  std::unique_ptr<Outbox> route_tasks_;
  std::vector<std::unique_ptr<Outbox>> events_;
  std::vector<std::unique_ptr<Outbox>> mail_;
  Doorbell timers_changed_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_STORE_H_
