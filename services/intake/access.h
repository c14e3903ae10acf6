// Who may do what in intake: every authorization decision of the service,
// in one place. The handlers (intake_service.cc) ask the role checks before
// a request reaches the core; the core asks the checks that depend on the
// issue as stored (who owns it, who may see it). Each returns OK or the
// caller's PERMISSION_DENIED (Caller::Deny), saying what was refused.
#ifndef SWITCHBOARD_SERVICES_INTAKE_ACCESS_H_
#define SWITCHBOARD_SERVICES_INTAKE_ACCESS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/caller.h"
#include "switchboard/intake/v1/intake.pb.h"
#include "switchboard/issue/v1/issue.pb.h"

namespace switchboard::intake {

// SubmitIssue: submitters only, as one of their own sources. An empty
// source becomes the caller's only source (INVALID_ARGUMENT naming
// issue.source when it has several).
absl::Status MaySubmit(const Caller& caller, issue::v1::Issue& issue);

// ListIssues: anyone with a role; the list holds only what MaySee allows.
absl::Status MayList(const Caller& caller);

// AcknowledgeIssue, ResolveIssue, TransferIssue: team members only (which
// team: MayChange, against the stored issue). `verb` names the action.
absl::Status MayChangeIssues(const Caller& caller, absl::string_view verb);

// RespondToIssue, RateIssue, ReopenIssue: submitters and operators pass
// this gate; MayActForSource then decides, against the stored issue, whether
// the caller submits as its source (operators only for ReopenIssue).
absl::Status MayActForCustomers(const Caller& caller, absl::string_view verb);

// Whether `caller` acts for the source that submitted `issue` (a submitter
// of that source), or, with `operators`, is an operator.
absl::Status MayActForSource(const Caller& caller, const issue::v1::Issue& issue,
                             absl::string_view verb, bool operators = false);

// DeliverPartitionMessages: intake's own partitions only, which call as the
// service role.
absl::Status MayDeliverMessages(const Caller& caller);

// Whether `caller` may read `issue`: operators and services every issue,
// submitters those of their sources, team members those their teams own.
bool MaySee(const Caller& caller, const issue::v1::Issue& issue);

// As MaySee, as a status.
absl::Status MayRead(const Caller& caller, const issue::v1::Issue& issue);

// Whether `caller` acts for the team that owns `issue`.
absl::Status MayChange(const Caller& caller, const issue::v1::Issue& issue, absl::string_view verb);

// Whether `caller` acts for the team that owns `problem`.
absl::Status MayChangeProblem(const Caller& caller, const issue::v1::Problem& problem,
                              absl::string_view verb);

// Who to record as having made a change: "" when nobody is authenticated.
std::string CallerIdentity(const Caller& caller);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_ACCESS_H_
