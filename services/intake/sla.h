// The SLA arithmetic of an issue's life, on the terms stored with it.
//
// Routing answers each decision with its SLA terms: the two targets, how
// they count time (calendar time, or the owner's working hours) and the
// reopen window. Intake keeps the terms on the issue (`Issue.sla.terms`) and
// computes every deadline from them, so a ruleset change never moves the
// deadlines of issues already routed, and a pause, a resume or a reopen
// needs nothing but the issue. The functions here change an issue in
// memory; the core writes the result in one batch with its timer.
#ifndef SWITCHBOARD_SERVICES_INTAKE_SLA_H_
#define SWITCHBOARD_SERVICES_INTAKE_SLA_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "switchboard/issue/v1/issue.pb.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::intake {

// The reopen window of terms that name none.
inline constexpr absl::Duration kDefaultReopenWindow = absl::Hours(7 * 24);

// The terms of `decision`: its `sla`, or, from a routing service that sends
// none, its two targets on calendar time.
issue::v1::SlaTerms TermsOf(const routing::v1::RoutingDecision& decision);

// A new owner's SLA (routing, a transfer, an escalation): the decision's
// terms, and an ack deadline (cleared without a target) counted from `now`
// on them. With `resolve`, also the resolve deadline (routing starts it;
// a new owner inherits it).
void StartSla(const routing::v1::RoutingDecision& decision, absl::Time now, bool resolve,
              issue::v1::Issue& issue);

// The ack deadline a decision gives from `now`, on its terms; nullopt
// without an ack target.
absl::optional<absl::Time> AckDeadline(const routing::v1::RoutingDecision& decision,
                                       absl::Time now);

// ACKNOWLEDGED at `now` (a waiting issue returns to ACKNOWLEDGED when the
// wait ends): the ack outcome decided, MET if by the deadline, unless it was
// decided before.
void MarkAcknowledged(absl::Time now, issue::v1::Issue& issue);

// The ack deadline passed (the SLA timer fired): BREACHED, unless the ack
// outcome was decided before. An outcome is decided once per cycle (from
// routing, or from a reopen), by whichever comes first.
void MarkAckBreached(issue::v1::Issue& issue);

// Whether nobody has acknowledged the issue: ROUTED, or waiting on the
// customer from ROUTED.
bool AwaitsAcknowledgement(const issue::v1::Issue& issue);

// RESOLVED at `now` with `resolution`: ends a pause, records the resolve
// time and whether the resolve target was met.
void MarkResolved(absl::Time now, absl::string_view resolution, issue::v1::Issue& issue);

// ROUTED or ACKNOWLEDGED -> WAITING_ON_CUSTOMER at `now`, asking `question`.
void BeginWait(absl::Time now, absl::string_view question, issue::v1::Issue& issue);

// WAITING_ON_CUSTOMER -> the state before it at `now`: the time paused (on
// the terms' clock) is added to `paused_duration`, and each deadline still
// ahead when the wait began moves so that what was left of it is left again.
void EndWait(absl::Time now, issue::v1::Issue& issue);

// When the window to reopen or rate a RESOLVED issue ends.
absl::Time WindowEnd(const issue::v1::Issue& issue);

// FAILED_PRECONDITION naming `name` when `now` is past WindowEnd: `action`
// ("reopen", "rate") is no longer possible.
absl::Status CheckWindow(absl::string_view action, absl::Time now, const issue::v1::Issue& issue);

// RESOLVED -> ROUTED at `now`, with the same owner: a new ack deadline and
// resolve deadline from the stored terms, outcomes pending again, one more
// reopen.
void MarkReopened(absl::Time now, issue::v1::Issue& issue);

// Whether the team can still work on an issue in `state`: ROUTED,
// ACKNOWLEDGED or WAITING_ON_CUSTOMER.
bool IsActive(issue::v1::State state);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_SLA_H_
