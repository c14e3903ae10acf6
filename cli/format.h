// Human-readable output: the default of every command (--json prints the
// messages themselves). Enum values are shown without their type prefix
// ("CRITICAL", "ROUTED"), targets as "group/team", times in UTC with how long
// ago (or from now) they are.
#ifndef SWITCHBOARD_CLI_FORMAT_H_
#define SWITCHBOARD_CLI_FORMAT_H_

#include <iosfwd>
#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/repeated_ptr_field.h>
#include <google/protobuf/timestamp.pb.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "switchboard/issue/v1/issue.pb.h"
#include "switchboard/notification/v1/notification.pb.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::cli {

// "SEVERITY_CRITICAL" → "CRITICAL" for an enum whose values share a prefix.
std::string ShortEnumName(const google::protobuf::EnumDescriptor& type, int number);

// Parses "critical", "CRITICAL" or "SEVERITY_CRITICAL" into the value's
// number; INVALID_ARGUMENT listing the accepted values otherwise (never
// the UNSPECIFIED one).
absl::StatusOr<int> ParseEnumName(const google::protobuf::EnumDescriptor& type,
                                  absl::string_view text);

// "15m", "4h", "2d3h": the largest two units, for people.
std::string HumanDuration(absl::Duration duration);

// "2026-11-23 10:00:00Z (2m ago)", or "-" when unset.
std::string FormatTime(const google::protobuf::Timestamp& time, absl::Time now);

// "cloud-infra/storage-oncall".
std::string FormatTarget(const issue::v1::Target& target);

// Every field of an issue, one per line.
void PrintIssue(std::ostream& out, const issue::v1::Issue& issue, absl::Time now);

// The issue's SLA line: clock, outcomes, time paused, reopens, and the
// customer's rating; the pending question while it waits on the customer.
void PrintSla(std::ostream& out, const issue::v1::Issue& issue, absl::Time now);

// One row per issue under a header: name, state, severity, owner, age, title.
void PrintIssueTable(std::ostream& out,
                     const google::protobuf::RepeatedPtrField<issue::v1::Issue>& issues,
                     absl::Time now);

// "#12  ROUTED  issues/…  cloud-infra/storage-oncall  CRITICAL  title".
// A problem in full, and problems as a table.
void PrintProblem(std::ostream& out, const issue::v1::Problem& problem, absl::Time now);
void PrintProblemTable(std::ostream& out,
                       const google::protobuf::RepeatedPtrField<issue::v1::Problem>& problems,
                       absl::Time now);

std::string FormatNotification(const notification::v1::Notification& notification);

// The owner, rule, SLA and, when explained, each rule's verdict.
void PrintDecision(std::ostream& out, const routing::v1::RoutingDecision& decision);

// Revision, author, time, comment, the groups and teams, and the rules.
void PrintRuleset(std::ostream& out, const routing::v1::Ruleset& ruleset, absl::Time now);

}  // namespace switchboard::cli

#endif  // SWITCHBOARD_CLI_FORMAT_H_
