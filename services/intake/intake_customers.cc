// IntakeCore's customer-facing turns of an issue's life: waiting on the
// customer, the customer's answer, reopen and the customer's rating. Each is
// one Update (intake_core.cc): checked against the newest version, written
// with its event and timer change in one batch, retried harmlessly with a
// request_id. The SLA arithmetic is in sla.h.
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "services/intake/access.h"
#include "services/intake/intake_core.h"
#include "services/intake/requests.h"
#include "services/intake/sla.h"

namespace switchboard::intake {

using issue::v1::Issue;

void IntakeCore::WaitOnCustomer(const v1::WaitOnCustomerRequest& request, const Caller& caller,
                                IssueDone done) {
  if (absl::Status invalid = ValidateWaitOnCustomerRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  Update(
      IssueIdFromName(request.name()),
      [&](const Issue& current) -> absl::StatusOr<IssueChange> {
        RETURN_IF_ERROR(MayChange(caller, current, "wait on the customer of"));
        if (current.state() != issue::v1::STATE_ROUTED &&
            current.state() != issue::v1::STATE_ACKNOWLEDGED) {
          return WrongState("wait on the customer of", current, "ROUTED or ACKNOWLEDGED");
        }
        RETURN_IF_ERROR(CheckEtag(request.etag(), current));
        IssueChange change{.updated = current,
                           .event = issue::v1::EVENT_TYPE_WAITING_ON_CUSTOMER,
                           .actor = request.actor(),
                           .caller = CallerIdentity(caller),
                           .reason = request.question()};
        BeginWait(clock_.Now(), request.question(), change.updated);
        return change;
      },
      std::move(done), ChangeKeyOf("WaitOnCustomer", request, caller));
}

namespace {

// WAITING_ON_CUSTOMER back to the state before it, as `event`.
absl::StatusOr<IssueChange> EndWaitChange(const Issue& current, absl::string_view action,
                                          absl::string_view etag, absl::Time now,
                                          IssueChange change) {
  if (current.state() != issue::v1::STATE_WAITING_ON_CUSTOMER) {
    return WrongState(action, current, "WAITING_ON_CUSTOMER");
  }
  RETURN_IF_ERROR(CheckEtag(etag, current));
  change.updated = current;
  EndWait(now, change.updated);
  return change;
}

}  // namespace

void IntakeCore::Respond(const v1::RespondToIssueRequest& request, const Caller& caller,
                         IssueDone done) {
  if (absl::Status invalid = ValidateRespondToIssueRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  Update(
      IssueIdFromName(request.name()),
      [&](const Issue& current) -> absl::StatusOr<IssueChange> {
        RETURN_IF_ERROR(MayActForSource(caller, current, "answer for the customer of"));
        return EndWaitChange(current, "answer for the customer of", request.etag(), clock_.Now(),
                             {.event = issue::v1::EVENT_TYPE_CUSTOMER_RESPONDED,
                              .actor = request.actor(),
                              .caller = CallerIdentity(caller),
                              .reason = request.response()});
      },
      std::move(done), ChangeKeyOf("RespondToIssue", request, caller));
}

void IntakeCore::Resume(const v1::ResumeIssueRequest& request, const Caller& caller,
                        IssueDone done) {
  if (absl::Status invalid = ValidateResumeIssueRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  Update(
      IssueIdFromName(request.name()),
      [&](const Issue& current) -> absl::StatusOr<IssueChange> {
        RETURN_IF_ERROR(MayChange(caller, current, "resume"));
        return EndWaitChange(current, "resume", request.etag(), clock_.Now(),
                             {.event = issue::v1::EVENT_TYPE_RESUMED,
                              .actor = request.actor(),
                              .caller = CallerIdentity(caller),
                              .reason = request.reason()});
      },
      std::move(done), ChangeKeyOf("ResumeIssue", request, caller));
}

void IntakeCore::Reopen(const v1::ReopenIssueRequest& request, const Caller& caller,
                        IssueDone done) {
  if (absl::Status invalid = ValidateReopenIssueRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  Update(
      IssueIdFromName(request.name()),
      [&](const Issue& current) -> absl::StatusOr<IssueChange> {
        RETURN_IF_ERROR(MayActForSource(caller, current, "reopen", /*operators=*/true));
        if (current.state() != issue::v1::STATE_RESOLVED) {
          return WrongState("reopen", current, "RESOLVED");
        }
        const absl::Time now = clock_.Now();
        RETURN_IF_ERROR(CheckWindow("reopen", now, current));
        RETURN_IF_ERROR(CheckEtag(request.etag(), current));
        IssueChange change{.updated = current,
                           .event = issue::v1::EVENT_TYPE_REOPENED,
                           .actor = request.actor(),
                           .caller = CallerIdentity(caller),
                           .reason = request.reason()};
        MarkReopened(now, change.updated);
        return change;
      },
      std::move(done), ChangeKeyOf("ReopenIssue", request, caller));
}

void IntakeCore::Rate(const v1::RateIssueRequest& request, const Caller& caller, IssueDone done) {
  if (absl::Status invalid = ValidateRateIssueRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  Update(
      IssueIdFromName(request.name()),
      [&](const Issue& current) -> absl::StatusOr<IssueChange> {
        RETURN_IF_ERROR(MayActForSource(caller, current, "rate"));
        if (current.state() != issue::v1::STATE_RESOLVED) {
          return WrongState("rate", current, "RESOLVED");
        }
        const absl::Time now = clock_.Now();
        RETURN_IF_ERROR(CheckWindow("rate", now, current));
        RETURN_IF_ERROR(CheckEtag(request.etag(), current));
        IssueChange change{.updated = current,
                           .event = issue::v1::EVENT_TYPE_RATED,
                           .actor = request.actor(),
                           .caller = CallerIdentity(caller),
                           .reason = request.comment()};
        // Rated before resolve_time existed: its resolution was its last
        // change, and rating must not move the window.
        if (!current.has_resolve_time()) {
          *change.updated.mutable_resolve_time() = current.update_time();
        }
        issue::v1::SlaStatus& sla = *change.updated.mutable_sla();
        *sla.mutable_rated_owner() = current.assignment().target();
        sla.set_rating(request.rating());
        sla.set_rating_comment(request.comment());
        *sla.mutable_rate_time() = ToProtoTime(now);
        return change;
      },
      std::move(done), ChangeKeyOf("RateIssue", request, caller));
}

}  // namespace switchboard::intake
