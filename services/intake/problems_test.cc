#include "services/intake/problems.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"

namespace switchboard::intake {
namespace {

using issue::v1::Issue;
using issue::v1::Problem;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

Issue RoutedIssue(const std::string& id, const std::string& customer, absl::Duration after,
                  issue::v1::Severity severity = issue::v1::SEVERITY_HIGH,
                  issue::v1::CustomerTier tier = issue::v1::CUSTOMER_TIER_ENTERPRISE) {
  Issue issue;
  issue.set_name(absl::StrCat("issues/", id));
  issue.set_title("Blob writes fail");
  issue.set_product("azure-storage");
  issue.set_region("emea");
  issue.set_severity(severity);
  issue.mutable_customer()->set_id(customer);
  issue.mutable_customer()->set_tier(tier);
  issue.mutable_assignment()->mutable_target()->set_business_group("cloud-infra");
  issue.mutable_assignment()->mutable_target()->set_team("storage-oncall");
  *issue.mutable_create_time() = ToProtoTime(kT0 + after);
  *issue.mutable_ack_deadline() = ToProtoTime(kT0 + after + absl::Minutes(15));
  return issue;
}

routing::v1::CorrelationMatch Match() {
  routing::v1::CorrelationMatch match;
  match.set_policy("regional-outage");
  match.set_key("regional-outage|product=azure-storage|region=emea");
  match.mutable_window()->set_seconds(7200);
  match.mutable_escalation()->set_min_customers(3);
  return match;
}

TEST(DecideCorrelationTest, LinksWithinAnOpenWindowResolvesLateComersAndOpensOtherwise) {
  const KeyWindow window{"problems/p1", kT0, kT0 + absl::Hours(2)};
  Problem problem;
  problem.set_state(issue::v1::PROBLEM_STATE_OPEN);
  EXPECT_EQ(DecideCorrelation(absl::nullopt, nullptr, kT0), Correlation::kOpen);
  EXPECT_EQ(DecideCorrelation(window, nullptr, kT0), Correlation::kOpen);
  EXPECT_EQ(DecideCorrelation(window, &problem, kT0 + absl::Minutes(5)), Correlation::kLink);
  // A late arrival, created before the window's first issue, links too.
  EXPECT_EQ(DecideCorrelation(window, &problem, kT0 - absl::Minutes(5)), Correlation::kLink);
  // The window ends at its end: an issue created then opens a new problem.
  EXPECT_EQ(DecideCorrelation(window, &problem, kT0 + absl::Hours(2)), Correlation::kOpen);
  problem.set_state(issue::v1::PROBLEM_STATE_ACKNOWLEDGED);
  EXPECT_EQ(DecideCorrelation(window, &problem, kT0 + absl::Minutes(5)), Correlation::kLink);

  // Resolved at +30 min: raised before the fix, it is resolved with it;
  // raised after, the problem is back.
  problem.set_state(issue::v1::PROBLEM_STATE_RESOLVED);
  *problem.mutable_resolve_time() = ToProtoTime(kT0 + absl::Minutes(30));
  EXPECT_EQ(DecideCorrelation(window, &problem, kT0 + absl::Minutes(29)),
            Correlation::kLinkThenResolve);
  EXPECT_EQ(DecideCorrelation(window, &problem, kT0 + absl::Minutes(30)),
            Correlation::kLinkThenResolve);
  EXPECT_EQ(DecideCorrelation(window, &problem, kT0 + absl::Minutes(31)), Correlation::kOpen);
}

TEST(OpenProblemTest, TakesTheOpenersOwnerFactsAndWindow) {
  const Issue opener = RoutedIssue("i1", "contoso", absl::Minutes(1));
  const Problem problem = OpenProblem("problems/p1", opener, Match(), kT0 + absl::Minutes(2));
  EXPECT_EQ(problem.name(), "problems/p1");
  EXPECT_EQ(problem.state(), issue::v1::PROBLEM_STATE_OPEN);
  EXPECT_EQ(problem.owner().team(), "storage-oncall");
  EXPECT_EQ(problem.owner().business_group(), "cloud-infra");
  EXPECT_EQ(problem.title(), "Blob writes fail");
  EXPECT_EQ(problem.severity(), issue::v1::SEVERITY_HIGH);
  EXPECT_EQ(problem.region(), "emea");
  EXPECT_EQ(problem.correlation_policy(), "regional-outage");
  EXPECT_EQ(problem.correlation_key(), "regional-outage|product=azure-storage|region=emea");
  EXPECT_EQ(FromProtoTime(problem.window_end_time()), kT0 + absl::Minutes(1) + absl::Hours(2));
  EXPECT_EQ(FromProtoTime(problem.ack_deadline()), kT0 + absl::Minutes(16));
  EXPECT_EQ(problem.opening_issue(), "issues/i1");
  EXPECT_EQ(problem.linked_issue_count(), 0);
  EXPECT_EQ(problem.etag(), "1");
}

TEST(AddLinkTest, CountsIssuesAndDistinctCustomersByTierAndRaisesSeverity) {
  Problem problem =
      OpenProblem("problems/p1", RoutedIssue("i1", "contoso", absl::Minutes(10)), Match(), kT0);
  AddLink(problem, RoutedIssue("i1", "contoso", absl::Minutes(10)), true, kT0);
  AddLink(problem, RoutedIssue("i2", "contoso", absl::Minutes(20)), false, kT0);
  AddLink(problem,
          RoutedIssue("i3", "fabrikam", absl::Minutes(5), issue::v1::SEVERITY_CRITICAL,
                      issue::v1::CUSTOMER_TIER_STRATEGIC),
          true, kT0 + absl::Minutes(30));
  AddLink(problem,
          RoutedIssue("i4", "adatum", absl::Minutes(15), issue::v1::SEVERITY_LOW,
                      issue::v1::CUSTOMER_TIER_UNSPECIFIED),
          true, kT0 + absl::Minutes(31));
  AddLink(problem, RoutedIssue("i5", "tailspin", absl::Minutes(16)), true, kT0);
  EXPECT_EQ(problem.linked_issue_count(), 5);
  EXPECT_EQ(problem.affected_customer_count(), 4);
  std::vector<std::pair<int, int>> tiers;
  for (const auto& count : problem.affected_customer_tiers())
    tiers.emplace_back(count.tier(), count.customers());
  EXPECT_THAT(tiers, ElementsAre(std::pair{issue::v1::CUSTOMER_TIER_STRATEGIC, 1},
                                 std::pair{issue::v1::CUSTOMER_TIER_ENTERPRISE, 2},
                                 std::pair{issue::v1::CUSTOMER_TIER_UNSPECIFIED, 1}));
  EXPECT_EQ(problem.severity(), issue::v1::SEVERITY_CRITICAL);  // a LOW link lowers nothing
  EXPECT_EQ(FromProtoTime(problem.first_seen_time()), kT0 + absl::Minutes(5));
  EXPECT_EQ(FromProtoTime(problem.last_seen_time()), kT0 + absl::Minutes(20));
  EXPECT_THAT(problem.linked_issues(),
              ElementsAre("issues/i5", "issues/i4", "issues/i3", "issues/i2", "issues/i1"));
  EXPECT_EQ(problem.etag(), "6");
  EXPECT_EQ(FromProtoTime(problem.update_time()), kT0);
}

TEST(AddLinkTest, ListsTheNewestLinksOnlyAndEachOnce) {
  Problem problem =
      OpenProblem("problems/p1", RoutedIssue("i0", "c", absl::ZeroDuration()), Match(), kT0);
  for (int i = 0; i < kMaxListedLinks + 5; ++i) {
    AddLink(problem, RoutedIssue(absl::StrCat("i", i), "c", absl::ZeroDuration()), i == 0, kT0);
  }
  AddLink(problem, RoutedIssue("i50", "c", absl::ZeroDuration()), false, kT0);  // again
  ASSERT_EQ(problem.linked_issues_size(), kMaxListedLinks);
  EXPECT_EQ(problem.linked_issues(0), "issues/i50");
  EXPECT_EQ(problem.linked_issues(1), absl::StrCat("issues/i", kMaxListedLinks + 4));
  EXPECT_EQ(
      std::count(problem.linked_issues().begin(), problem.linked_issues().end(), "issues/i50"), 1);
}

// Sets the problem's distinct customers, `strategic` of them strategic.
void SetCustomers(Problem& problem, int customers, int strategic = 0) {
  problem.set_affected_customer_count(customers);
  problem.clear_affected_customer_tiers();
  if (strategic > 0) {
    issue::v1::CustomerTierCount* count = problem.add_affected_customer_tiers();
    count->set_tier(issue::v1::CUSTOMER_TIER_STRATEGIC);
    count->set_customers(strategic);
  }
  issue::v1::CustomerTierCount* rest = problem.add_affected_customer_tiers();
  rest->set_tier(issue::v1::CUSTOMER_TIER_SMB);
  rest->set_customers(customers - strategic);
}

TEST(CheckBreadthTest, EscalatesOnceAtTheThresholdAndRaisesSeverity) {
  Problem problem =
      OpenProblem("problems/p1", RoutedIssue("i1", "a", absl::ZeroDuration()), Match(), kT0);
  SetCustomers(problem, 2, 1);  // a strategic one, but the policy does not care
  EXPECT_FALSE(CheckBreadth(problem, Match().escalation(), kT0));
  EXPECT_FALSE(problem.escalated());
  EXPECT_EQ(problem.etag(), "1");

  SetCustomers(problem, 3);
  EXPECT_TRUE(CheckBreadth(problem, Match().escalation(), kT0 + absl::Minutes(1)));
  EXPECT_TRUE(problem.escalated());
  EXPECT_EQ(FromProtoTime(problem.escalate_time()), kT0 + absl::Minutes(1));
  EXPECT_EQ(problem.severity(), issue::v1::SEVERITY_CRITICAL);
  EXPECT_EQ(problem.etag(), "2");
  SetCustomers(problem, 4, 1);
  EXPECT_FALSE(CheckBreadth(problem, Match().escalation(), kT0));  // once only

  // A strategic customer, raised to HIGH only: never lowers a CRITICAL.
  routing::v1::CorrelationThresholds strategic;
  strategic.set_any_strategic_customer(true);
  strategic.set_raise_severity_to(issue::v1::SEVERITY_HIGH);
  Problem low = OpenProblem("problems/p2",
                            RoutedIssue("i2", "a", absl::ZeroDuration(), issue::v1::SEVERITY_LOW),
                            Match(), kT0);
  SetCustomers(low, 5);
  EXPECT_FALSE(CheckBreadth(low, strategic, kT0));
  SetCustomers(low, 5, 1);
  EXPECT_TRUE(CheckBreadth(low, strategic, kT0));
  EXPECT_EQ(low.severity(), issue::v1::SEVERITY_HIGH);
  Problem critical = OpenProblem(
      "problems/p3", RoutedIssue("i3", "a", absl::ZeroDuration(), issue::v1::SEVERITY_CRITICAL),
      Match(), kT0);
  SetCustomers(critical, 1, 1);
  EXPECT_TRUE(CheckBreadth(critical, strategic, kT0));
  EXPECT_EQ(critical.severity(), issue::v1::SEVERITY_CRITICAL);

  // A resolved problem is not escalated.
  Problem resolved =
      OpenProblem("problems/p4", RoutedIssue("i4", "a", absl::ZeroDuration()), Match(), kT0);
  SetCustomers(resolved, 10, 10);
  resolved.set_state(issue::v1::PROBLEM_STATE_RESOLVED);
  EXPECT_FALSE(CheckBreadth(resolved, strategic, kT0));
}

TEST(CheckBreadthTest, AStrategicLinkCountsThroughAddLink) {
  routing::v1::CorrelationThresholds strategic;
  strategic.set_any_strategic_customer(true);
  Problem problem =
      OpenProblem("problems/p1", RoutedIssue("i1", "a", absl::ZeroDuration()), Match(), kT0);
  AddLink(problem, RoutedIssue("i1", "a", absl::ZeroDuration()), true, kT0);
  EXPECT_FALSE(CheckBreadth(problem, strategic, kT0));
  AddLink(problem,
          RoutedIssue("i2", "b", absl::ZeroDuration(), issue::v1::SEVERITY_HIGH,
                      issue::v1::CUSTOMER_TIER_STRATEGIC),
          true, kT0);
  EXPECT_TRUE(CheckBreadth(problem, strategic, kT0));
}

TEST(WindowOfTest, IsTheOpenersCreationToTheWindowsEnd) {
  const Problem problem = OpenProblem("problems/p1", RoutedIssue("i1", "a", absl::Minutes(3)),
                                      Match(), kT0 + absl::Hours(1));
  const KeyWindow window = WindowOf(problem);
  EXPECT_EQ(window.problem, "problems/p1");
  EXPECT_EQ(window.start, kT0 + absl::Minutes(3));
  EXPECT_EQ(window.end, kT0 + absl::Minutes(3) + absl::Hours(2));
}

TEST(MakeProblemEventTest, StableIdsAndTheOwnersTeamGroupAndContactsOnce) {
  Problem problem =
      OpenProblem("problems/p1", RoutedIssue("i1", "a", absl::ZeroDuration()), Match(), kT0);
  issue::v1::Target leads;
  leads.set_business_group("cloud-infra");
  leads.set_team("storage-leads");
  issue::v1::Target self = problem.owner();
  const issue::v1::IssueEvent event =
      MakeProblemEvent(issue::v1::EVENT_TYPE_PROBLEM_ESCALATED, problem, kT0, {leads, self});
  EXPECT_EQ(event.id(), "problems/p1/1/problem_escalated");
  EXPECT_EQ(event.type(), issue::v1::EVENT_TYPE_PROBLEM_ESCALATED);
  EXPECT_FALSE(event.has_issue());
  EXPECT_EQ(event.problem().name(), "problems/p1");
  EXPECT_THAT(event.recipients(),
              UnorderedElementsAre("teams/storage-oncall", "business-groups/cloud-infra",
                                   "teams/storage-leads"));
  EXPECT_EQ(
      MakeProblemEvent(issue::v1::EVENT_TYPE_PROBLEM_ESCALATED, problem, kT0 + absl::Hours(1)).id(),
      event.id());  // a retry of the same version makes the same id

  // An empty team or group is never a recipient.
  problem.mutable_owner()->clear_business_group();
  EXPECT_THAT(
      MakeProblemEvent(issue::v1::EVENT_TYPE_PROBLEM_OPENED, problem, kT0, {issue::v1::Target()})
          .recipients(),
      ElementsAre("teams/storage-oncall"));
}

TEST(HigherSeverityTest, CriticalIsHighestAndUnspecifiedLowest) {
  EXPECT_EQ(HigherSeverity(issue::v1::SEVERITY_LOW, issue::v1::SEVERITY_CRITICAL),
            issue::v1::SEVERITY_CRITICAL);
  EXPECT_EQ(HigherSeverity(issue::v1::SEVERITY_UNSPECIFIED, issue::v1::SEVERITY_LOW),
            issue::v1::SEVERITY_LOW);
  EXPECT_EQ(HigherSeverity(issue::v1::SEVERITY_MEDIUM, issue::v1::SEVERITY_UNSPECIFIED),
            issue::v1::SEVERITY_MEDIUM);
}

}  // namespace
}  // namespace switchboard::intake
