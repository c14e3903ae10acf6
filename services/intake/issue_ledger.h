// What intake's dispatch loops (route_loop.h, publish_loop.h,
// sla_timer_loop.h) may ask of the issues: read the newest version, and
// record what they did. IntakeCore implements it; the loops' tests use a
// fake. A loop never touches the store or the commit queue itself.
//
// Every write blocks until it is durable (or has failed, writing nothing):
// call only from a loop's own thread, never from a gRPC callback or the
// commit thread.
#ifndef SWITCHBOARD_SERVICES_INTAKE_ISSUE_LEDGER_H_
#define SWITCHBOARD_SERVICES_INTAKE_ISSUE_LEDGER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "common/outbox.h"
#include "services/intake/issue_store.h"
#include "switchboard/issue/v1/issue.pb.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::intake {

class IssueLedger {
 public:
  // A route task and what became of it.
  struct Routed {
    Outbox::Item task;  // its value is the issue id
    // The decision; absent when the issue could not be read (the task is
    // removed all the same, and the failure logged).
    absl::optional<routing::v1::RoutingDecision> decision;
  };

  virtual ~IssueLedger() = default;

  // The newest version of issue `id`: durable, or queued a moment ago.
  // NOT_FOUND if there is none.
  virtual absl::StatusOr<issue::v1::Issue> Current(absl::string_view id) = 0;

  // Makes each RECEIVED issue ROUTED by its decision (assignment, deadlines,
  // timer, ROUTED event) and removes every task, in one batch. Issues that
  // moved on since keep their state.
  virtual absl::Status RecordRoutings(const std::vector<Routed>& routed) = 0;

  // Removes items that were handed on from `outbox`: events published from
  // the event outbox of one notification partition, or messages delivered
  // from the mail outbox of one intake partition.
  virtual absl::Status RemovePublished(Outbox& outbox, const std::vector<Outbox::Item>& events) = 0;

  // The armed SLA timer with the earliest deadline, if any.
  virtual absl::StatusOr<absl::optional<SlaTimer>> NextTimer() = 0;

  // `timer` fired. With a decision, moves the issue to the next owner
  // (ESCALATED event, a new ack deadline); without one (the escalation list
  // is exhausted, or the issue cannot be read) only disarms the timer. An
  // issue whose timer moved on since is left as it is.
  virtual absl::Status RecordEscalation(const SlaTimer& timer,
                                        const routing::v1::RoutingDecision* decision) = 0;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_ISSUE_LEDGER_H_
