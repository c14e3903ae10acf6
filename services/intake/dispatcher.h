// Drives accepted issues through the other services, from RocksDB, so that
// nothing is lost when any process dies:
//
//  - the router takes route tasks in order, in batches, asks RoutingService
//    (RouteIssues) and records each decision (state ROUTED, deadlines, the
//    ROUTED event) in the same batch that removes the task;
//  - the publisher takes queued events in order, in batches, publishes them
//    to NotificationService and then removes them; event ids make a
//    re-publish after a crash harmless;
//  - the timer loop fires when an issue is still ROUTED at its ack deadline,
//    asks EscalateIssue for the next owner and records the escalation (or,
//    with the list exhausted, disarms the timer).
//
// Calls that fail are retried with exponential backoff and jitter; intake
// keeps accepting issues meanwhile and the backlog drains when the peer is
// back. Each loop runs on a thread of its own, never on a gRPC thread.
#ifndef SWITCHBOARD_SERVICES_INTAKE_DISPATCHER_H_
#define SWITCHBOARD_SERVICES_INTAKE_DISPATCHER_H_

#include <atomic>
#include <cstdint>
#include <thread>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/sync.h"
#include "services/intake/intake_core.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/issue_store.h"
#include "services/intake/peers.h"

namespace switchboard::intake {

class Dispatcher {
 public:
  struct Options {
    int route_batch = 200;
    int publish_batch = 500;
    // How often an idle loop looks again without being woken.
    absl::Duration idle_poll = absl::Seconds(1);
    ExponentialBackoff::Options backoff = {.initial = absl::Milliseconds(50),
                                           .max = absl::Seconds(5)};
  };

  // `timer_clock` decides when ack deadlines pass (a FakeClock in tests);
  // backoff and polling use real time.
  Dispatcher(IntakeCore& core, IssueStore& store, CommitQueue& commits, RoutingPeer& routing,
             NotificationPeer& notification, IntakeMetrics& metrics, Clock& timer_clock,
             Options options);

  // Stop()s.
  ~Dispatcher();

  // Counts the backlog and starts the three loops.
  absl::Status Start();

  // Wakes the loops and waits for them to finish their current step.
  void Stop();

  // New work may be queued: a route task, an event or a timer.
  void Wake();

 private:
  void RouteLoop();
  void PublishLoop();
  void TimerLoop();

  // One step of each loop; false when there was nothing to do or it failed.
  bool RouteOnce(ExponentialBackoff& backoff);
  bool PublishOnce(ExponentialBackoff& backoff);
  bool FireNextTimer(ExponentialBackoff& backoff);

  // Sleeps until woken, stopped, or `timeout` has passed (real time).
  void Idle(uint64_t seen, absl::Duration timeout);
  uint64_t generation();
  bool stopping();
  void Failed(absl::string_view peer, const absl::Status& status, ExponentialBackoff& backoff);
  absl::Status CommitAndWait(rocksdb::WriteBatch batch);
  void UpdateBacklog(absl::string_view queue, int64_t size, absl::Duration oldest);

  IntakeCore& core_;
  IssueStore& store_;
  CommitQueue& commits_;
  RoutingPeer& routing_;
  NotificationPeer& notification_;
  IntakeMetrics& metrics_;
  Clock& timer_clock_;
  const Options options_;

  Mutex mu_;
  CondVar woken_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool timer_wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Where each queue's next read starts: one past the last item removed.
  // Each is touched only by its own loop's thread.
  uint64_t route_from_ = 0;
  uint64_t publish_from_ = 0;

  std::thread router_;
  std::thread publisher_;
  std::thread timers_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_DISPATCHER_H_
