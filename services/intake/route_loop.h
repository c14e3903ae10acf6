// The route loop: takes accepted issues from the route_queue outbox in
// order, in batches, asks routing for their owners (RouteIssues), and
// records each decision through the IssueLedger, which makes the issue
// ROUTED and removes its task in one batch.
//
//   route_queue ──▶ RouteLoop ──RouteIssues──▶ routing
//                      └──RecordRoutings──▶ IssueLedger (IntakeCore)
//
// A failed call is retried after a backoff (WorkerLoop); intake keeps
// accepting issues meanwhile, and the backlog drains when routing is back.
#ifndef SWITCHBOARD_SERVICES_INTAKE_ROUTE_LOOP_H_
#define SWITCHBOARD_SERVICES_INTAKE_ROUTE_LOOP_H_

#include "common/clock.h"
#include "common/outbox.h"
#include "common/worker_loop.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/issue_ledger.h"
#include "services/intake/peers.h"

namespace switchboard::intake {

class RouteLoop {
 public:
  struct Options {
    int batch = 200;  // issues per RouteIssues call
    WorkerLoop::Options loop;
  };

  RouteLoop(Outbox& tasks, IssueLedger& ledger, RoutingPeer& routing, IntakeMetrics& metrics,
            Clock& clock, Options options);

  void Start() { loop_.Start(); }
  void Stop() { loop_.Stop(); }

  // One step on the caller's thread: routes the next batch.
  WorkerLoop::Step RunOnce();

 private:
  Outbox& tasks_;
  IssueLedger& ledger_;
  RoutingPeer& routing_;
  IntakeMetrics& metrics_;
  Clock& clock_;
  const Options options_;
  WorkerLoop loop_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_ROUTE_LOOP_H_
