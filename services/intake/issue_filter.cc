#include "services/intake/issue_filter.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/types/span.h"
#include "common/status.h"
#include "common/validation.h"
#include "services/intake/problems.h"

namespace switchboard::intake {
namespace {

struct NamedField {
  absl::string_view name;
  FilterField field;
};

constexpr NamedField kFields[] = {
    {"state", FilterField::kState},
    {"severity", FilterField::kSeverity},
    {"business_group", FilterField::kBusinessGroup},
    {"team", FilterField::kTeam},
    {"source", FilterField::kSource},
    {"customer.id", FilterField::kCustomerId},
    {"product", FilterField::kProduct},
    {"problem", FilterField::kProblem},
    {"rating", FilterField::kRating},
};

absl::Status Invalid(absl::string_view why) {
  return InvalidArgumentWithViolations(absl::StrCat("invalid filter: ", why),
                                       {{"filter", std::string(why)}});
}

}  // namespace

absl::string_view FilterFieldName(FilterField field) {
  for (const NamedField& named : kFields) {
    if (named.field == field) return named.name;
  }
  return "";
}

namespace {

// Parses a conjunction of terms over `fields`; `valid(field, value)` checks
// each value.
template <typename Valid>
absl::StatusOr<std::vector<FilterTerm>> ParseTerms(absl::string_view filter,
                                                   absl::Span<const NamedField> fields,
                                                   Valid valid) {
  std::vector<FilterTerm> terms;
  if (filter.size() > kMaxFilterBytes) {
    return Invalid(absl::StrCat("at most ", kMaxFilterBytes, " bytes"));
  }
  if (!IsValidUtf8(filter)) return Invalid("not valid UTF-8");
  if (absl::StripAsciiWhitespace(filter).empty()) return terms;
  for (absl::string_view term : absl::StrSplit(filter, " AND ")) {
    term = absl::StripAsciiWhitespace(term);
    const size_t equals = term.find('=');
    if (equals == absl::string_view::npos) {
      return Invalid(absl::StrCat("expected field=value, got \"", term, "\""));
    }
    const absl::string_view name = absl::StripAsciiWhitespace(term.substr(0, equals));
    absl::string_view value = absl::StripAsciiWhitespace(term.substr(equals + 1));
    if (value.size() >= 2 && absl::ConsumePrefix(&value, "\"") &&
        !absl::ConsumeSuffix(&value, "\"")) {
      return Invalid(absl::StrCat("unterminated quote in \"", term, "\""));
    }
    const NamedField* named = nullptr;
    for (const NamedField& candidate : fields) {
      if (candidate.name == name) named = &candidate;
    }
    if (named == nullptr) {
      std::vector<absl::string_view> names;
      for (const NamedField& field : fields) names.push_back(field.name);
      return Invalid(
          absl::StrCat("unknown field \"", name, "\"; one of ", absl::StrJoin(names, ", ")));
    }
    for (const FilterTerm& earlier : terms) {
      if (earlier.field == named->field) return Invalid(absl::StrCat(name, " appears twice"));
    }
    if (!valid(named->field, value)) {
      return Invalid(absl::StrCat("bad value \"", value, "\" for ", name));
    }
    terms.push_back({named->field, std::string(value)});
  }
  return terms;
}

}  // namespace

absl::StatusOr<std::vector<FilterTerm>> ParseIssueFilter(absl::string_view filter) {
  return ParseTerms(filter, kFields, [](FilterField field, absl::string_view value) {
    if (field == FilterField::kState) {
      issue::v1::State state;
      return issue::v1::State_Parse(std::string(value), &state) &&
             state != issue::v1::STATE_UNSPECIFIED;
    }
    if (field == FilterField::kSeverity) {
      issue::v1::Severity severity;
      return issue::v1::Severity_Parse(std::string(value), &severity) &&
             severity != issue::v1::SEVERITY_UNSPECIFIED;
    }
    if (field == FilterField::kProblem) return !ProblemIdFromName(value).empty();
    if (field == FilterField::kRating)
      return value.size() == 1 && value[0] >= '1' && value[0] <= '5';
    return IsValidId(value);
  });
}

absl::StatusOr<std::vector<FilterTerm>> ParseProblemFilter(absl::string_view filter) {
  static constexpr NamedField kProblemFields[] = {
      {"state", FilterField::kState},
      {"business_group", FilterField::kBusinessGroup},
      {"team", FilterField::kTeam},
      {"product", FilterField::kProduct},
  };
  return ParseTerms(filter, kProblemFields, [](FilterField field, absl::string_view value) {
    if (field == FilterField::kState) {
      issue::v1::ProblemState state;
      return issue::v1::ProblemState_Parse(std::string(value), &state) &&
             state != issue::v1::PROBLEM_STATE_UNSPECIFIED;
    }
    return IsValidId(value);
  });
}

std::string FilterFieldValue(const issue::v1::Issue& issue, FilterField field) {
  switch (field) {
    case FilterField::kState:
      return issue::v1::State_Name(issue.state());
    case FilterField::kSeverity:
      return issue::v1::Severity_Name(issue.severity());
    case FilterField::kBusinessGroup:
      return issue.assignment().target().business_group();
    case FilterField::kTeam:
      return issue.assignment().target().team();
    case FilterField::kSource:
      return issue.source();
    case FilterField::kCustomerId:
      return issue.customer().id();
    case FilterField::kProduct:
      return issue.product();
    case FilterField::kProblem:
      return issue.problem();
    case FilterField::kRating:
      return issue.sla().rating() == 0 ? "" : absl::StrCat(issue.sla().rating());
  }
  return "";
}

bool MatchesFilter(const issue::v1::Issue& issue, const std::vector<FilterTerm>& terms) {
  for (const FilterTerm& term : terms) {
    if (FilterFieldValue(issue, term.field) != term.value) return false;
  }
  return true;
}

std::string ProblemFilterValue(const issue::v1::Problem& problem, FilterField field) {
  switch (field) {
    case FilterField::kState:
      return issue::v1::ProblemState_Name(problem.state());
    case FilterField::kBusinessGroup:
      return problem.owner().business_group();
    case FilterField::kTeam:
      return problem.owner().team();
    case FilterField::kProduct:
      return problem.product();
    default:
      return "";
  }
}

bool MatchesFilter(const issue::v1::Problem& problem, const std::vector<FilterTerm>& terms) {
  for (const FilterTerm& term : terms) {
    if (ProblemFilterValue(problem, term.field) != term.value) return false;
  }
  return true;
}

}  // namespace switchboard::intake
