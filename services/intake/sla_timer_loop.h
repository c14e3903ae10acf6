// The SLA timer loop: waits for the earliest ack deadline of a ROUTED issue
// (the timers index, read through the IssueLedger), asks routing for the
// next owner (EscalateIssue) when it passes, and records the escalation;
// with nobody left to escalate to, the timer is disarmed and the owner stays.
//
//   timers ──▶ SlaTimerLoop ──EscalateIssue──▶ routing
//                 └──RecordEscalation──▶ IssueLedger (IntakeCore)
//
// Deadlines are read on the given Clock (a FakeClock in tests). A batch
// that arms or moves a timer rings the store's timers_changed doorbell, so
// an earlier deadline is noticed at once.
#ifndef SWITCHBOARD_SERVICES_INTAKE_SLA_TIMER_LOOP_H_
#define SWITCHBOARD_SERVICES_INTAKE_SLA_TIMER_LOOP_H_

#include "common/clock.h"
#include "common/worker_loop.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/issue_ledger.h"
#include "services/intake/peers.h"

namespace switchboard::intake {

class SlaTimerLoop {
 public:
  using Options = WorkerLoop::Options;

  SlaTimerLoop(Doorbell& timers_changed, IssueLedger& ledger, RoutingPeer& routing,
               IntakeMetrics& metrics, Clock& clock, Options options);

  void Start() { loop_.Start(); }
  void Stop() { loop_.Stop(); }

  // One step on the caller's thread: fires the earliest timer if it is due.
  WorkerLoop::Step RunOnce();

 private:
  IssueLedger& ledger_;
  RoutingPeer& routing_;
  IntakeMetrics& metrics_;
  Clock& clock_;
  WorkerLoop loop_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_SLA_TIMER_LOOP_H_
