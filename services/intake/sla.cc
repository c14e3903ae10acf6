#include "services/intake/sla.h"

#include "absl/strings/str_cat.h"
#include "common/business_calendar.h"
#include "common/proto_time.h"
#include "common/status.h"

namespace switchboard::intake {

using issue::v1::Issue;

namespace {

// `deadline` moved for a pause from `start` to `now` on `timeline`: the
// budget it had left at `start` is left again from `now`. A deadline that
// had already passed when the pause began stays where it is.
google::protobuf::Timestamp Shifted(const SlaTimeline& timeline, absl::Time start, absl::Time now,
                                    const google::protobuf::Timestamp& deadline) {
  const absl::Time at = FromProtoTime(deadline);
  if (at <= start) return deadline;
  return ToProtoTime(timeline.Add(now, timeline.Between(start, at)));
}

absl::Duration ReopenWindowOf(const issue::v1::SlaTerms& terms) {
  return terms.has_reopen_window() ? FromProtoDuration(terms.reopen_window())
                                   : kDefaultReopenWindow;
}

}  // namespace

issue::v1::SlaTerms TermsOf(const routing::v1::RoutingDecision& decision) {
  if (decision.has_sla()) return decision.sla();
  issue::v1::SlaTerms terms;
  terms.set_clock(issue::v1::SLA_CLOCK_CALENDAR);
  if (decision.has_ack_within()) *terms.mutable_ack_within() = decision.ack_within();
  if (decision.has_resolve_within()) *terms.mutable_resolve_within() = decision.resolve_within();
  return terms;
}

absl::optional<absl::Time> AckDeadline(const routing::v1::RoutingDecision& decision,
                                       absl::Time now) {
  const issue::v1::SlaTerms terms = TermsOf(decision);
  if (!terms.has_ack_within()) return absl::nullopt;
  return SlaTimeline::Of(terms).Add(now, FromProtoDuration(terms.ack_within()));
}

void StartSla(const routing::v1::RoutingDecision& decision, absl::Time now, bool resolve,
              Issue& issue) {
  issue::v1::SlaStatus& sla = *issue.mutable_sla();
  *sla.mutable_terms() = TermsOf(decision);
  const SlaTimeline timeline = SlaTimeline::Of(sla.terms());
  if (sla.terms().has_ack_within()) {
    *issue.mutable_ack_deadline() =
        ToProtoTime(timeline.Add(now, FromProtoDuration(sla.terms().ack_within())));
  } else {
    issue.clear_ack_deadline();
  }
  if (!resolve) return;
  if (sla.terms().has_resolve_within()) {
    *issue.mutable_resolve_deadline() =
        ToProtoTime(timeline.Add(now, FromProtoDuration(sla.terms().resolve_within())));
  } else {
    issue.clear_resolve_deadline();
  }
}

void MarkAcknowledged(absl::Time now, Issue& issue) {
  issue::v1::SlaStatus& sla = *issue.mutable_sla();
  // A waiting issue's clock stopped when the wait began, and its deadline
  // moves only when the wait ends: judge it as of the stop.
  absl::Time at = now;
  if (issue.state() == issue::v1::STATE_WAITING_ON_CUSTOMER) {
    sla.set_state_before_wait(issue::v1::STATE_ACKNOWLEDGED);  // it returns to it
    if (sla.has_pause_start()) at = FromProtoTime(sla.pause_start());
  } else {
    issue.set_state(issue::v1::STATE_ACKNOWLEDGED);
  }
  if (sla.ack_outcome() != issue::v1::SLA_OUTCOME_UNSPECIFIED || !issue.has_ack_deadline()) return;
  sla.set_ack_outcome(at <= FromProtoTime(issue.ack_deadline()) ? issue::v1::SLA_OUTCOME_MET
                                                                : issue::v1::SLA_OUTCOME_BREACHED);
}

void MarkAckBreached(Issue& issue) {
  issue::v1::SlaStatus& sla = *issue.mutable_sla();
  if (sla.ack_outcome() == issue::v1::SLA_OUTCOME_UNSPECIFIED) {
    sla.set_ack_outcome(issue::v1::SLA_OUTCOME_BREACHED);
  }
}

bool AwaitsAcknowledgement(const Issue& issue) {
  // An unset state before the wait counts as ROUTED, as EndWait reads it.
  return issue.state() == issue::v1::STATE_ROUTED ||
         (issue.state() == issue::v1::STATE_WAITING_ON_CUSTOMER &&
          (issue.sla().state_before_wait() == issue::v1::STATE_ROUTED ||
           issue.sla().state_before_wait() == issue::v1::STATE_UNSPECIFIED));
}

void MarkResolved(absl::Time now, absl::string_view resolution, Issue& issue) {
  if (issue.state() == issue::v1::STATE_WAITING_ON_CUSTOMER) EndWait(now, issue);
  issue.set_state(issue::v1::STATE_RESOLVED);
  issue.set_resolution(std::string(resolution));
  *issue.mutable_resolve_time() = ToProtoTime(now);
  issue::v1::SlaStatus& sla = *issue.mutable_sla();
  if (!issue.has_resolve_deadline()) return;
  sla.set_resolve_outcome(now <= FromProtoTime(issue.resolve_deadline())
                              ? issue::v1::SLA_OUTCOME_MET
                              : issue::v1::SLA_OUTCOME_BREACHED);
}

void BeginWait(absl::Time now, absl::string_view question, Issue& issue) {
  issue::v1::SlaStatus& sla = *issue.mutable_sla();
  sla.set_state_before_wait(issue.state());
  *sla.mutable_pause_start() = ToProtoTime(now);
  sla.set_question(std::string(question));
  issue.set_state(issue::v1::STATE_WAITING_ON_CUSTOMER);
}

void EndWait(absl::Time now, Issue& issue) {
  issue::v1::SlaStatus& sla = *issue.mutable_sla();
  const SlaTimeline timeline = SlaTimeline::Of(sla.terms());
  const absl::Time start = FromProtoTime(sla.pause_start());
  const absl::Duration paused = timeline.Between(start, now);
  *sla.mutable_paused_duration() =
      ToProtoDuration(FromProtoDuration(sla.paused_duration()) + paused);
  const issue::v1::State before = sla.state_before_wait() == issue::v1::STATE_UNSPECIFIED
                                      ? issue::v1::STATE_ROUTED
                                      : sla.state_before_wait();
  if (before == issue::v1::STATE_ROUTED && issue.has_ack_deadline()) {
    *issue.mutable_ack_deadline() = Shifted(timeline, start, now, issue.ack_deadline());
  }
  if (issue.has_resolve_deadline()) {
    *issue.mutable_resolve_deadline() = Shifted(timeline, start, now, issue.resolve_deadline());
  }
  issue.set_state(before);
  sla.clear_pause_start();
  sla.clear_state_before_wait();
  sla.clear_question();
}

absl::Time WindowEnd(const Issue& issue) {
  // Issues resolved before resolve_time existed: their last change was the
  // resolution.
  const absl::Time resolved = issue.has_resolve_time() ? FromProtoTime(issue.resolve_time())
                                                       : FromProtoTime(issue.update_time());
  return resolved + ReopenWindowOf(issue.sla().terms());
}

absl::Status CheckWindow(absl::string_view action, absl::Time now, const Issue& issue) {
  const absl::Time end = WindowEnd(issue);
  if (now <= end) return absl::OkStatus();
  const std::string window = absl::FormatDuration(ReopenWindowOf(issue.sla().terms()));
  return WithFieldViolation(
      absl::FailedPreconditionError(
          absl::StrCat("cannot ", action, " ", issue.name(), ": its reopen window of ", window,
                       " ended at ", absl::FormatTime(absl::RFC3339_sec, end, absl::UTCTimeZone()),
                       action == "reopen" ? "; file a new issue" : "")),
      "name", absl::StrCat("reopen window of ", window, " ended"));
}

void MarkReopened(absl::Time now, Issue& issue) {
  issue::v1::SlaStatus& sla = *issue.mutable_sla();
  const SlaTimeline timeline = SlaTimeline::Of(sla.terms());
  issue.set_state(issue::v1::STATE_ROUTED);
  issue.clear_resolution();
  issue.clear_resolve_time();
  issue.mutable_assignment()->set_escalation_level(0);
  *issue.mutable_assignment()->mutable_original_target() = issue.assignment().target();
  *issue.mutable_assignment()->mutable_assign_time() = ToProtoTime(now);
  if (sla.terms().has_ack_within()) {
    *issue.mutable_ack_deadline() =
        ToProtoTime(timeline.Add(now, FromProtoDuration(sla.terms().ack_within())));
  } else {
    issue.clear_ack_deadline();
  }
  if (sla.terms().has_resolve_within()) {
    *issue.mutable_resolve_deadline() =
        ToProtoTime(timeline.Add(now, FromProtoDuration(sla.terms().resolve_within())));
  } else {
    issue.clear_resolve_deadline();
  }
  sla.clear_ack_outcome();
  sla.clear_resolve_outcome();
  sla.set_reopen_count(sla.reopen_count() + 1);
}

bool IsActive(issue::v1::State state) {
  return state == issue::v1::STATE_ROUTED || state == issue::v1::STATE_ACKNOWLEDGED ||
         state == issue::v1::STATE_WAITING_ON_CUSTOMER;
}

}  // namespace switchboard::intake
