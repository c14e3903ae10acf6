// The rules of broad problems, as pure functions over the Problem resource:
// whether an issue of a correlation key opens a problem or joins one, what a
// link changes (counts, distinct customers and their tiers, severity, first
// and last seen), when breadth escalates a problem, and its events.
//
// They hold no state and do no I/O. The one writer of problem state (see
// docs/plans/broad-issues.md) reads the stored problem and the key's window,
// calls these, and writes the result in one batch.
//
//   switch (DecideCorrelation(window, problem, created)) {
//     case Correlation::kOpen: problem = OpenProblem(name, issue, match, now); ...
//     case Correlation::kLink: ...
//   }
//   AddLink(problem, issue, new_customer, now);
//   if (CheckBreadth(problem, match.escalation(), now)) { ... PROBLEM_ESCALATED ... }
#ifndef SWITCHBOARD_SERVICES_INTAKE_PROBLEMS_H_
#define SWITCHBOARD_SERVICES_INTAKE_PROBLEMS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "switchboard/issue/v1/issue.pb.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::intake {

// "problems/{id}", and back; problem ids have the issue id form.
inline constexpr absl::string_view kProblemPrefix = "problems/";
std::string ProblemName(absl::string_view id);
// "" when `name` is not a well-formed problem name.
absl::string_view ProblemIdFromName(absl::string_view name);
// The intake partition (of `count`) where problem `name` lives: the one its
// id names, as issue ids do; -1 when `name` is malformed.
int ProblemPartitionOf(absl::string_view name, int count);

// The latest window of a correlation key: the problem its first issue
// opened, and the creation time of that issue plus the policy's window.
struct KeyWindow {
  std::string problem;  // "problems/{id}"
  absl::Time start;
  absl::Time end;
};

enum class Correlation {
  kOpen,             // a new problem, with a new window
  kLink,             // link to the window's problem
  kLinkThenResolve,  // link, then resolve the issue with the (resolved) problem
};

// What to do with an issue of a key created at `created`, given the key's
// latest window and that window's problem (nullptr if none is stored):
// - the problem is open or acknowledged and the issue was created before the
//   window ends (even before it starts: a late arrival): link;
// - the problem is resolved, the issue was created before the window ends
//   and no later than the resolution (raised before the fix): link, then
//   resolve it with the problem;
// - otherwise: open a new problem.
Correlation DecideCorrelation(const absl::optional<KeyWindow>& window,
                              const issue::v1::Problem* problem, absl::Time created);

// A new problem `name` opened by `issue` (routed, with `match` on its
// decision) at `now`: owned by the issue's owner, with its title, product,
// region, severity and ack deadline; state OPEN, etag "1", nothing linked
// yet (AddLink the opener next).
issue::v1::Problem OpenProblem(absl::string_view name, const issue::v1::Issue& issue,
                               const routing::v1::CorrelationMatch& match, absl::Time now);

// Links `issue` to `problem`: one more linked issue, one more affected
// customer if `new_customer` (the caller keeps the distinct set), the
// severity raised to the issue's if higher, first and last seen moved, the
// issue added to the newest linked issues (at most kMaxListedLinks), and a
// new version (etag + 1, update_time `now`).
void AddLink(issue::v1::Problem& problem, const issue::v1::Issue& issue, bool new_customer,
             absl::Time now);

// Takes one linked issue (`issue`, of a customer of `tier`) out of
// `problem`: one linked issue fewer, one affected customer fewer if it was
// the customer's last (`last_of_customer`), the severity lowered to
// `highest_left` (the highest among the issues left) unless breadth
// escalated it, the issue dropped from the newest linked issues, and a new
// version. First and last seen stay as they were.
void RemoveLink(issue::v1::Problem& problem, absl::string_view issue, issue::v1::CustomerTier tier,
                bool last_of_customer, issue::v1::Severity highest_left, absl::Time now);

inline constexpr int kMaxListedLinks = 100;

// Makes `problem` its next version: etag + 1, update_time `now`.
void NextVersion(issue::v1::Problem& problem, absl::Time now);

// Whether this change makes `problem` broad for the first time: when it is
// not escalated or resolved yet and `thresholds` are crossed by its distinct
// customers or by a strategic one among them (from its
// affected_customer_tiers), it is marked escalated at `now` and its severity
// raised to `thresholds.raise_severity_to` (SEVERITY_CRITICAL when unset),
// never lowered (CrossesThresholds, common/correlation_thresholds.h). Changes
// nothing and returns false otherwise.
bool CheckBreadth(issue::v1::Problem& problem, const routing::v1::CorrelationThresholds& thresholds,
                  absl::Time now);

// The window a problem opened: from its first issue's creation to its
// window_end_time. Valid for a problem as OpenProblem made it.
KeyWindow WindowOf(const issue::v1::Problem& problem);

// A problem's own event (`type` one of EVENT_TYPE_PROBLEM_OPENED, _ESCALATED,
// _ACKNOWLEDGED, _TRANSFERRED, _RESOLVED), id "{problem}/{etag}/{type}" so
// that a retry makes the same id. Sent to the owner team and its business
// group, plus `also` (escalation contacts, a previous owner), each once; an
// empty team or group is left out.
issue::v1::IssueEvent MakeProblemEvent(issue::v1::EventType type, const issue::v1::Problem& problem,
                                       absl::Time time,
                                       const std::vector<issue::v1::Target>& also = {});

// The highest of two severities (CRITICAL is the highest); UNSPECIFIED is
// the lowest.
issue::v1::Severity HigherSeverity(issue::v1::Severity a, issue::v1::Severity b);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_PROBLEMS_H_
