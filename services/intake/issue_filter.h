// The ListIssues filter: a conjunction of `field=value` terms joined by
// ` AND `, e.g. `state=STATE_ROUTED AND team=storage-oncall`. Fields: state,
// severity (enum value names), business_group, team, source, customer.id,
// product (ids), problem (problems/{id}). Spaces around `=` and double quotes around a value are
// allowed; each field at most once.
//
// ListProblems takes the same grammar over state (a ProblemState name),
// business_group, team and product, which compare with the problem's state
// and owner.
#ifndef SWITCHBOARD_SERVICES_INTAKE_ISSUE_FILTER_H_
#define SWITCHBOARD_SERVICES_INTAKE_ISSUE_FILTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "switchboard/issue/v1/issue.pb.h"

namespace switchboard::intake {

enum class FilterField {
  kState,
  kSeverity,
  kBusinessGroup,
  kTeam,
  kSource,
  kCustomerId,
  kProduct,
  kProblem,
  kRating,
};

struct FilterTerm {
  FilterField field;
  std::string value;  // enum fields: the value name
};

inline constexpr size_t kMaxFilterBytes = 1024;

// Parses `filter` ("" matches everything). INVALID_ARGUMENT with a `filter`
// field violation saying what is wrong.
absl::StatusOr<std::vector<FilterTerm>> ParseIssueFilter(absl::string_view filter);

// As ParseIssueFilter, for ListProblems.
absl::StatusOr<std::vector<FilterTerm>> ParseProblemFilter(absl::string_view filter);

// The name of `field` as filters write it.
absl::string_view FilterFieldName(FilterField field);

// The value of `field` in `issue`, as a term compares it ("" when unset).
std::string FilterFieldValue(const issue::v1::Issue& issue, FilterField field);

// Whether `issue` satisfies every term.
bool MatchesFilter(const issue::v1::Issue& issue, const std::vector<FilterTerm>& terms);

// The value of `field` in `problem` ("" for fields problems are not
// filtered by), and whether `problem` satisfies every term.
std::string ProblemFilterValue(const issue::v1::Problem& problem, FilterField field);
bool MatchesFilter(const issue::v1::Problem& problem, const std::vector<FilterTerm>& terms);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_ISSUE_FILTER_H_
