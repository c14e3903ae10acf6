#include "cli/format.h"

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/proto_time.h"

namespace switchboard::cli {
namespace {

using ::testing::HasSubstr;

TEST(FormatTest, EnumNamesShortAndLong) {
  const auto& severity = *issue::v1::Severity_descriptor();
  EXPECT_EQ(ShortEnumName(severity, issue::v1::SEVERITY_CRITICAL), "CRITICAL");
  EXPECT_EQ(*ParseEnumName(severity, "critical"), issue::v1::SEVERITY_CRITICAL);
  EXPECT_EQ(*ParseEnumName(severity, "SEVERITY_LOW"), issue::v1::SEVERITY_LOW);
  EXPECT_EQ(*ParseEnumName(*issue::v1::CustomerTier_descriptor(), "Strategic"),
            issue::v1::CUSTOMER_TIER_STRATEGIC);
  auto bad = ParseEnumName(severity, "urgent");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("use one of critical, high, medium, low"));
  EXPECT_FALSE(ParseEnumName(severity, "unspecified").ok());
}

TEST(FormatTest, DurationsForPeople) {
  EXPECT_EQ(HumanDuration(absl::Minutes(15)), "15m");
  EXPECT_EQ(HumanDuration(absl::Hours(27) + absl::Minutes(5)), "1d3h");
  EXPECT_EQ(HumanDuration(absl::Hours(24) + absl::Minutes(5)), "1d");
  EXPECT_EQ(HumanDuration(absl::Seconds(90)), "1m30s");
  EXPECT_EQ(HumanDuration(absl::Milliseconds(250)), "250ms");
}

TEST(FormatTest, TimesSayHowFarAway) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  EXPECT_EQ(FormatTime(ToProtoTime(now - absl::Minutes(2)), now), "2023-11-14 22:11:20Z (2m ago)");
  EXPECT_THAT(FormatTime(ToProtoTime(now + absl::Hours(4)), now), HasSubstr("(in 4h)"));
  EXPECT_EQ(FormatTime(google::protobuf::Timestamp(), now), "-");
}

TEST(FormatTest, AnIssueShowsItsOwnerAndDeadlines) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  issue::v1::Issue issue;
  issue.set_name("issues/abc");
  issue.set_title("Blob writes fail");
  issue.set_state(issue::v1::STATE_ROUTED);
  issue.set_severity(issue::v1::SEVERITY_CRITICAL);
  issue.mutable_customer()->set_id("contoso");
  issue.mutable_customer()->set_tier(issue::v1::CUSTOMER_TIER_STRATEGIC);
  issue.mutable_assignment()->mutable_target()->set_business_group("cloud-infra");
  issue.mutable_assignment()->mutable_target()->set_team("storage-oncall");
  issue.mutable_assignment()->set_rule("strategic-critical-storage");
  issue.mutable_assignment()->set_ruleset_revision(3);
  *issue.mutable_ack_deadline() = ToProtoTime(now + absl::Minutes(15));
  (*issue.mutable_labels())["b"] = "2";
  (*issue.mutable_labels())["a"] = "1";
  std::ostringstream out;
  PrintIssue(out, issue, now);
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("issues/abc  ROUTED  CRITICAL"));
  EXPECT_THAT(text, HasSubstr("contoso (STRATEGIC)"));
  EXPECT_THAT(
      text, HasSubstr("cloud-infra/storage-oncall (rule strategic-critical-storage, revision 3)"));
  EXPECT_THAT(text, HasSubstr("(in 15m)"));
  EXPECT_THAT(text, HasSubstr("a=1, b=2"));
}

TEST(FormatTest, AProblemShowsItsBreadthAndAnIssueItsProblem) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  issue::v1::Problem problem;
  problem.set_name("problems/p1");
  problem.set_title("Blob writes fail");
  problem.set_state(issue::v1::PROBLEM_STATE_OPEN);
  problem.set_severity(issue::v1::SEVERITY_CRITICAL);
  problem.set_escalated(true);
  problem.mutable_owner()->set_business_group("cloud-infra");
  problem.mutable_owner()->set_team("storage-oncall");
  problem.set_correlation_policy("regional-outage");
  problem.set_correlation_key("regional-outage|product=azure-storage|region=emea");
  problem.set_linked_issue_count(5);
  problem.set_affected_customer_count(4);
  auto* tier = problem.add_affected_customer_tiers();
  tier->set_tier(issue::v1::CUSTOMER_TIER_STRATEGIC);
  tier->set_customers(1);
  problem.add_linked_issues("issues/i5");
  *problem.mutable_create_time() = ToProtoTime(now - absl::Minutes(30));
  std::ostringstream out;
  PrintProblem(out, problem, now);
  EXPECT_THAT(out.str(), HasSubstr("problems/p1  OPEN  CRITICAL  escalated"));
  EXPECT_THAT(out.str(), HasSubstr("4 (1 STRATEGIC)"));
  EXPECT_THAT(out.str(), HasSubstr("(policy regional-outage)"));
  EXPECT_THAT(out.str(), HasSubstr("issues/i5"));

  google::protobuf::RepeatedPtrField<issue::v1::Problem> problems;
  *problems.Add() = problem;
  std::ostringstream table;
  PrintProblemTable(table, problems, now);
  EXPECT_THAT(table.str(), HasSubstr("CUSTOMERS"));
  EXPECT_THAT(table.str(), HasSubstr("cloud-infra/storage-oncall"));
  EXPECT_THAT(table.str(), HasSubstr("30m"));

  issue::v1::Issue issue;
  issue.set_name("issues/i5");
  issue.set_problem("problems/p1");
  std::ostringstream shown;
  PrintIssue(shown, issue, now);
  EXPECT_THAT(shown.str(), HasSubstr("problems/p1"));
}

TEST(FormatTest, ADecisionShowsItsProblemKeyAndARulesetItsPolicies) {
  routing::v1::RoutingDecision decision;
  decision.mutable_target()->set_business_group("cloud-infra");
  decision.mutable_target()->set_team("storage-oncall");
  decision.mutable_correlation()->set_policy("regional-outage");
  decision.mutable_correlation()->set_key("regional-outage|product=azure-storage|region=emea");
  decision.mutable_correlation()->mutable_window()->set_seconds(7200);
  std::ostringstream out;
  PrintDecision(out, decision);
  EXPECT_THAT(out.str(), HasSubstr("problem key regional-outage|product=azure-storage|region=emea "
                                   "(policy regional-outage, window 2h)"));

  routing::v1::Ruleset ruleset;
  routing::v1::CorrelationPolicy* policy = ruleset.add_correlation_policies();
  policy->set_id("regional-outage");
  policy->add_key_fields("product");
  policy->add_key_fields("region");
  policy->mutable_window()->set_seconds(7200);
  policy->add_business_groups("cloud-infra");
  std::ostringstream shown;
  PrintRuleset(shown, ruleset, absl::FromUnixSeconds(1'700'000'000));
  EXPECT_THAT(shown.str(), HasSubstr("correlation policies (1, first that applies wins):\n"
                                     "  regional-outage  key product+region, window 2h, groups "
                                     "cloud-infra\n"));
}

TEST(FormatTest, LongTitlesAreCutAtACharacterBoundary) {
  notification::v1::Notification notification;
  notification.set_sequence(12);
  notification.mutable_event()->set_type(issue::v1::EVENT_TYPE_ROUTED);
  notification.mutable_event()->mutable_issue()->set_title(std::string(58, 'x') + "ééé");
  const std::string line = FormatNotification(notification);
  EXPECT_THAT(line, HasSubstr("#12"));
  EXPECT_THAT(line, HasSubstr("ROUTED"));
  // 58 bytes of x, then é would end at byte 60 and "…" not fit: cut before é.
  EXPECT_THAT(line, HasSubstr(std::string(58, 'x') + "…"));
}

TEST(FormatTest, ProblemEventsShowTheProblem) {
  notification::v1::Notification opened;
  opened.set_sequence(3);
  issue::v1::IssueEvent& event = *opened.mutable_event();
  event.set_type(issue::v1::EVENT_TYPE_PROBLEM_OPENED);
  event.mutable_problem()->set_name("problems/p1");
  event.mutable_problem()->set_title("Blob writes fail");
  event.mutable_problem()->set_severity(issue::v1::SEVERITY_HIGH);
  event.mutable_problem()->set_affected_customer_count(1);
  event.mutable_problem()->mutable_owner()->set_business_group("cloud-infra");
  event.mutable_problem()->mutable_owner()->set_team("storage-oncall");
  const std::string line = FormatNotification(opened);
  EXPECT_THAT(line, HasSubstr("PROBLEM_OPENED"));
  EXPECT_THAT(line, HasSubstr("problems/p1"));
  EXPECT_THAT(line, HasSubstr("cloud-infra/storage-oncall"));
  EXPECT_THAT(line, HasSubstr("HIGH"));
  EXPECT_THAT(line, HasSubstr("Blob writes fail (1 customer)"));

  // A link names the issue and its problem.
  event.set_type(issue::v1::EVENT_TYPE_PROBLEM_LINKED);
  event.mutable_issue()->set_name("issues/i1");
  EXPECT_THAT(FormatNotification(opened), HasSubstr("issues/i1"));
  EXPECT_THAT(FormatNotification(opened), HasSubstr("[problems/p1]"));
}

}  // namespace
}  // namespace switchboard::cli
