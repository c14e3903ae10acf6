#include "services/intake/sla_timer_loop.h"

#include "common/logging.h"

namespace switchboard::intake {

SlaTimerLoop::SlaTimerLoop(Doorbell& timers_changed, IssueLedger& ledger, RoutingPeer& routing,
                           IntakeMetrics& metrics, Clock& clock, Options options)
    : ledger_(ledger),
      routing_(routing),
      metrics_(metrics),
      clock_(clock),
      loop_("sla-timers", clock, timers_changed, options, [this] { return RunOnce(); }) {}

WorkerLoop::Step SlaTimerLoop::RunOnce() {
  absl::StatusOr<absl::optional<SlaTimer>> timer = ledger_.NextTimer();
  if (!timer.ok()) {
    log::Error("cannot read the SLA timers", {{"status", timer.status()}});
    return WorkerLoop::Step::Failed();
  }
  if (!timer->has_value()) return WorkerLoop::Step::Idle();
  const SlaTimer& due = **timer;
  if (due.deadline > clock_.Now()) return WorkerLoop::Step::Idle(due.deadline);

  absl::StatusOr<issue::v1::Issue> issue = ledger_.Current(due.issue_id);
  absl::StatusOr<routing::v1::RoutingDecision> decision =
      absl::FailedPreconditionError("the issue moved on");
  if (issue.ok() && TimerKey(*issue) == due.key) {
    routing::v1::EscalateIssueRequest request;
    *request.mutable_issue() = *std::move(issue);
    decision = routing_.EscalateIssue(request);
    if (!decision.ok() && decision.status().code() != absl::StatusCode::kFailedPrecondition &&
        decision.status().code() != absl::StatusCode::kInvalidArgument) {
      metrics_.CountDispatchFailure("routing", decision.status());
      log::Warning("EscalateIssue failed; retrying after a backoff",
                   {{"issue", due.issue_id}, {"status", decision.status()}});
      return WorkerLoop::Step::Failed();
    }
    if (!decision.ok()) {
      log::Warning("ack deadline passed and nobody is left to escalate to",
                   {{"issue", due.issue_id}, {"status", decision.status()}});
    }
  }
  if (absl::Status recorded = ledger_.RecordEscalation(due, decision.ok() ? &*decision : nullptr);
      !recorded.ok()) {
    log::Error("cannot record an escalation", {{"issue", due.issue_id}, {"status", recorded}});
    return WorkerLoop::Step::Failed();
  }
  return WorkerLoop::Step::Progress();
}

}  // namespace switchboard::intake
