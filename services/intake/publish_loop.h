// The publish loop: takes events from one event outbox in order, in
// batches, publishes them to its notification partition (Publish), and then
// removes them through the IssueLedger. An event published again after a
// crash carries the same id, which notification recognises: at least once
// becomes exactly once per subscriber log. There is one loop per
// notification partition, so a partition that is down holds up only its own
// subscribers' events.
//
//   event_queue[_k] ──▶ PublishLoop ──Publish──▶ notification partition k
//                          └──RemovePublished──▶ IssueLedger (IntakeCore)
#ifndef SWITCHBOARD_SERVICES_INTAKE_PUBLISH_LOOP_H_
#define SWITCHBOARD_SERVICES_INTAKE_PUBLISH_LOOP_H_

#include <string>

#include "common/clock.h"
#include "common/outbox.h"
#include "common/worker_loop.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/issue_ledger.h"
#include "services/intake/peers.h"

namespace switchboard::intake {

class PublishLoop {
 public:
  struct Options {
    int batch = 500;  // events per Publish call, at most
    // Bytes per Publish call, at most (one event always goes): well under
    // the 1 MiB a server accepts, since events carry whole issues.
    size_t max_bytes = 512 * 1024;
    WorkerLoop::Options loop;
  };

  PublishLoop(Outbox& events, IssueLedger& ledger, NotificationPeer& notification,
              IntakeMetrics& metrics, Clock& clock, Options options);

  void Start() { loop_.Start(); }
  void Stop() { loop_.Stop(); }

  // One step on the caller's thread: publishes the next batch.
  WorkerLoop::Step RunOnce();

 private:
  Outbox& events_;
  // "publish" for event_queue, "publish_k" for event_queue_k: the loop's
  // name in logs and the backlog metric's queue label.
  const std::string name_;
  IssueLedger& ledger_;
  NotificationPeer& notification_;
  IntakeMetrics& metrics_;
  Clock& clock_;
  const Options options_;
  WorkerLoop loop_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_PUBLISH_LOOP_H_
