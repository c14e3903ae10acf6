#include "services/routing/reference_router.h"

#include <re2/re2.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace switchboard::routing {
namespace {

using issue::v1::Issue;

std::string Value(const Issue& issue, const std::string& field) {
  if (field == "product") return issue.product();
  if (field == "severity")
    return issue.severity() == 0 ? "" : issue::v1::Severity_Name(issue.severity());
  if (field == "region") return issue.region();
  if (field == "source") return issue.source();
  if (field == "submitter") return issue.submitter();
  if (field == "title") return issue.title();
  if (field == "description") return issue.description();
  if (field == "customer.id") return issue.customer().id();
  if (field == "customer.tier") {
    return issue.customer().tier() == 0 ? ""
                                        : issue::v1::CustomerTier_Name(issue.customer().tier());
  }
  if (field == "customer.country") return issue.customer().country();
  if (absl::StartsWith(field, "labels.")) {
    auto it = issue.labels().find(field.substr(7));
    return it == issue.labels().end() ? "" : it->second;
  }
  return "";
}

bool Holds(const v1::Condition& condition, const Issue& issue) {
  const std::string value = Value(issue, condition.field());
  bool result = false;
  switch (condition.op()) {
    case v1::OPERATOR_EQUALS:
      result = value == condition.values(0);
      break;
    case v1::OPERATOR_IN:
      for (const std::string& v : condition.values()) result = result || value == v;
      break;
    case v1::OPERATOR_PREFIX:
      for (const std::string& v : condition.values()) result = result || absl::StartsWith(value, v);
      break;
    case v1::OPERATOR_REGEX:
      result = RE2::FullMatch(value, RE2(condition.values(0)));
      break;
    case v1::OPERATOR_CONTAINS:
      for (const std::string& v : condition.values()) {
        result =
            result || absl::StrContains(absl::AsciiStrToLower(value), absl::AsciiStrToLower(v));
      }
      break;
    case v1::OPERATOR_EXISTS:
      result = !value.empty();
      break;
    default:
      break;
  }
  return condition.negate() ? !result : result;
}

}  // namespace

std::string ReferenceRoute(const v1::Ruleset& ruleset, const Issue& issue) {
  for (const v1::Rule& rule : ruleset.rules()) {
    bool all = true;
    for (const v1::Condition& condition : rule.conditions()) all = all && Holds(condition, issue);
    if (all) return rule.id();
  }
  return "";
}

}  // namespace switchboard::routing
