#include "services/intake/problems.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/correlation_thresholds.h"
#include "common/proto_time.h"
#include "common/subscriber.h"
#include "services/intake/issue_id.h"

namespace switchboard::intake {
namespace {

using issue::v1::CustomerTierCount;
using issue::v1::Issue;
using issue::v1::Problem;
using issue::v1::Severity;

// Lower numbers are higher tiers (STRATEGIC = 1); UNSPECIFIED (0) sorts last.
int TierRank(int tier) { return tier == 0 ? 1'000 : tier; }

}  // namespace

void NextVersion(Problem& problem, absl::Time now) {
  int64_t version = 0;
  if (!absl::SimpleAtoi(problem.etag(), &version)) version = 0;
  problem.set_etag(absl::StrCat(version + 1));
  *problem.mutable_update_time() = ToProtoTime(now);
}

std::string ProblemName(absl::string_view id) { return absl::StrCat(kProblemPrefix, id); }

absl::string_view ProblemIdFromName(absl::string_view name) {
  return absl::ConsumePrefix(&name, kProblemPrefix) && IsValidIssueId(name) ? name
                                                                            : absl::string_view();
}

int ProblemPartitionOf(absl::string_view name, int count) {
  const absl::string_view id = ProblemIdFromName(name);
  return id.empty() ? -1 : IssuePartitionOf(IssueName(id), count);
}

Severity HigherSeverity(Severity a, Severity b) {
  if (a == issue::v1::SEVERITY_UNSPECIFIED) return b;
  if (b == issue::v1::SEVERITY_UNSPECIFIED) return a;
  return std::min(a, b);  // CRITICAL = 1 is the highest
}

Correlation DecideCorrelation(const absl::optional<KeyWindow>& window, const Problem* problem,
                              absl::Time created) {
  if (!window.has_value() || problem == nullptr || created >= window->end) {
    return Correlation::kOpen;
  }
  switch (problem->state()) {
    case issue::v1::PROBLEM_STATE_OPEN:
    case issue::v1::PROBLEM_STATE_ACKNOWLEDGED:
      return Correlation::kLink;
    case issue::v1::PROBLEM_STATE_RESOLVED:
      return created <= FromProtoTime(problem->resolve_time()) ? Correlation::kLinkThenResolve
                                                               : Correlation::kOpen;
    default:
      return Correlation::kOpen;
  }
}

Problem OpenProblem(absl::string_view name, const Issue& issue,
                    const routing::v1::CorrelationMatch& match, absl::Time now) {
  Problem problem;
  problem.set_name(std::string(name));
  problem.set_title(issue.title());
  problem.set_state(issue::v1::PROBLEM_STATE_OPEN);
  *problem.mutable_owner() = issue.assignment().target();
  problem.set_severity(issue.severity());
  problem.set_product(issue.product());
  problem.set_region(issue.region());
  problem.set_correlation_policy(match.policy());
  problem.set_correlation_key(match.key());
  const absl::Time created = issue.has_create_time() ? FromProtoTime(issue.create_time()) : now;
  *problem.mutable_first_seen_time() = ToProtoTime(created);
  *problem.mutable_last_seen_time() = ToProtoTime(created);
  *problem.mutable_window_end_time() = ToProtoTime(created + FromProtoDuration(match.window()));
  *problem.mutable_create_time() = ToProtoTime(now);
  *problem.mutable_update_time() = ToProtoTime(now);
  if (issue.has_ack_deadline()) *problem.mutable_ack_deadline() = issue.ack_deadline();
  problem.set_opening_issue(issue.name());
  problem.set_etag("1");
  return problem;
}

void AddLink(Problem& problem, const Issue& issue, bool new_customer, absl::Time now) {
  problem.set_linked_issue_count(problem.linked_issue_count() + 1);
  if (new_customer) {
    problem.set_affected_customer_count(problem.affected_customer_count() + 1);
    const int tier = issue.customer().tier();
    auto* tiers = problem.mutable_affected_customer_tiers();
    auto it = std::find_if(tiers->begin(), tiers->end(),
                           [tier](const CustomerTierCount& count) { return count.tier() == tier; });
    if (it != tiers->end()) {
      it->set_customers(it->customers() + 1);
    } else {
      CustomerTierCount* added = tiers->Add();
      added->set_tier(issue.customer().tier());
      added->set_customers(1);
      std::sort(tiers->begin(), tiers->end(), [](const auto& a, const auto& b) {
        return TierRank(a.tier()) < TierRank(b.tier());
      });
    }
  }
  problem.set_severity(HigherSeverity(problem.severity(), issue.severity()));
  if (issue.has_create_time()) {
    const absl::Time created = FromProtoTime(issue.create_time());
    if (!problem.has_first_seen_time() || created < FromProtoTime(problem.first_seen_time())) {
      *problem.mutable_first_seen_time() = issue.create_time();
    }
    if (!problem.has_last_seen_time() || created > FromProtoTime(problem.last_seen_time())) {
      *problem.mutable_last_seen_time() = issue.create_time();
    }
  }
  // Newest first, at most kMaxListedLinks, each once.
  std::vector<std::string> listed = {issue.name()};
  for (std::string& name : *problem.mutable_linked_issues()) {
    if (static_cast<int>(listed.size()) == kMaxListedLinks) break;
    if (name != issue.name()) listed.push_back(std::move(name));
  }
  problem.mutable_linked_issues()->Assign(listed.begin(), listed.end());
  NextVersion(problem, now);
}

KeyWindow WindowOf(const Problem& problem) {
  return KeyWindow{problem.name(), FromProtoTime(problem.first_seen_time()),
                   FromProtoTime(problem.window_end_time())};
}

bool CheckBreadth(Problem& problem, const routing::v1::CorrelationThresholds& thresholds,
                  absl::Time now) {
  if (problem.escalated() || problem.state() == issue::v1::PROBLEM_STATE_RESOLVED) return false;
  const bool any_strategic = std::any_of(
      problem.affected_customer_tiers().begin(), problem.affected_customer_tiers().end(),
      [](const CustomerTierCount& count) {
        return count.tier() == issue::v1::CUSTOMER_TIER_STRATEGIC && count.customers() > 0;
      });
  if (!CrossesThresholds(thresholds, problem.affected_customer_count(), any_strategic)) {
    return false;
  }
  problem.set_escalated(true);
  *problem.mutable_escalate_time() = ToProtoTime(now);
  const Severity raise = thresholds.raise_severity_to() == issue::v1::SEVERITY_UNSPECIFIED
                             ? issue::v1::SEVERITY_CRITICAL
                             : thresholds.raise_severity_to();
  problem.set_severity(HigherSeverity(problem.severity(), raise));
  NextVersion(problem, now);
  return true;
}

void RemoveLink(Problem& problem, absl::string_view issue, issue::v1::CustomerTier tier,
                bool last_of_customer, Severity highest_left, absl::Time now) {
  problem.set_linked_issue_count(std::max(0, problem.linked_issue_count() - 1));
  if (last_of_customer) {
    problem.set_affected_customer_count(std::max(0, problem.affected_customer_count() - 1));
    auto* tiers = problem.mutable_affected_customer_tiers();
    auto it = std::find_if(tiers->begin(), tiers->end(),
                           [tier](const CustomerTierCount& count) { return count.tier() == tier; });
    if (it != tiers->end()) {
      it->set_customers(it->customers() - 1);
      if (it->customers() <= 0) tiers->erase(it);
    }
  }
  if (!problem.escalated() && highest_left != issue::v1::SEVERITY_UNSPECIFIED) {
    problem.set_severity(highest_left);
  }
  auto* listed = problem.mutable_linked_issues();
  listed->erase(std::remove(listed->begin(), listed->end(), issue), listed->end());
  NextVersion(problem, now);
}

issue::v1::IssueEvent MakeProblemEvent(issue::v1::EventType type, const Problem& problem,
                                       absl::Time time,
                                       const std::vector<issue::v1::Target>& also) {
  issue::v1::IssueEvent event;
  std::string type_name = issue::v1::EventType_Name(type);
  absl::AsciiStrToLower(&type_name);
  absl::string_view short_name = type_name;
  absl::ConsumePrefix(&short_name, "event_type_");
  event.set_id(absl::StrCat(problem.name(), "/", problem.etag(), "/", short_name));
  event.set_type(type);
  *event.mutable_problem() = problem;
  *event.mutable_time() = ToProtoTime(time);
  auto add = [&event](absl::string_view id, const std::string& recipient) {
    if (id.empty()) return;
    for (const std::string& existing : event.recipients()) {
      if (existing == recipient) return;
    }
    event.add_recipients(recipient);
  };
  const issue::v1::Target& owner = problem.owner();
  add(owner.team(), TeamSubscriber(owner.team()));
  add(owner.business_group(), BusinessGroupSubscriber(owner.business_group()));
  for (const issue::v1::Target& target : also) add(target.team(), TeamSubscriber(target.team()));
  return event;
}

}  // namespace switchboard::intake
