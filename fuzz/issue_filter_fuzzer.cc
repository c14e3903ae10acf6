// The ListIssues filter parser: any text. A filter that parses must match
// (or not) any issue without crashing, and its terms must be known fields.
#include <cstdint>
#include <string>

#include "services/intake/issue_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string filter(reinterpret_cast<const char*>(data), size);
  auto terms = switchboard::intake::ParseIssueFilter(filter);
  if (!terms.ok()) {
    if (terms.status().code() != absl::StatusCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  if (filter.size() > switchboard::intake::kMaxFilterBytes) __builtin_trap();
  switchboard::issue::v1::Issue issue;
  issue.set_source("crm");
  issue.set_severity(switchboard::issue::v1::SEVERITY_HIGH);
  issue.mutable_assignment()->mutable_target()->set_team("storage-oncall");
  switchboard::intake::MatchesFilter(issue, *terms);
  for (const auto& term : *terms) {
    if (switchboard::intake::FilterFieldName(term.field).empty()) __builtin_trap();
  }
  return 0;
}
