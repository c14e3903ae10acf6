#include "services/intake/issue_filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/status.h"

namespace switchboard::intake {
namespace {

TEST(IssueFilterTest, ParsesConjunctions) {
  auto terms =
      ParseIssueFilter("state=STATE_ROUTED AND team = storage-oncall AND customer.id=\"contoso\"");
  ASSERT_TRUE(terms.ok()) << terms.status();
  ASSERT_EQ(terms->size(), 3u);
  EXPECT_EQ((*terms)[0].field, FilterField::kState);
  EXPECT_EQ((*terms)[0].value, "STATE_ROUTED");
  EXPECT_EQ((*terms)[1].value, "storage-oncall");
  EXPECT_EQ((*terms)[2].field, FilterField::kCustomerId);
  EXPECT_EQ((*terms)[2].value, "contoso");
  EXPECT_TRUE(ParseIssueFilter("")->empty());
  EXPECT_TRUE(ParseIssueFilter("   ")->empty());
}

TEST(IssueFilterTest, RefusesWhatItCannotMean) {
  for (const char* bad : {"state", "state=ROUTED", "state=STATE_UNSPECIFIED", "colour=red",
                          "team=Storage Team", "team=a AND team=b", "product=\"open",
                          "team=a and state=STATE_ROUTED", "severity=SEVERITY_HIGH AND", "=x"}) {
    auto terms = ParseIssueFilter(bad);
    ASSERT_EQ(terms.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(GetFieldViolations(terms.status()).at(0).field, "filter") << bad;
  }
  EXPECT_FALSE(ParseIssueFilter(std::string(2000, 'a')).ok());
  EXPECT_FALSE(ParseIssueFilter("team=\xff").ok());
}

TEST(IssueFilterTest, MatchesIssues) {
  issue::v1::Issue issue;
  issue.set_state(issue::v1::STATE_ROUTED);
  issue.set_severity(issue::v1::SEVERITY_HIGH);
  issue.mutable_assignment()->mutable_target()->set_team("storage");
  issue.set_product("azure-storage");
  EXPECT_TRUE(MatchesFilter(issue, *ParseIssueFilter("state=STATE_ROUTED AND team=storage")));
  EXPECT_FALSE(MatchesFilter(issue, *ParseIssueFilter("state=STATE_ROUTED AND team=compute")));
  EXPECT_TRUE(
      MatchesFilter(issue, *ParseIssueFilter("severity=SEVERITY_HIGH AND product=azure-storage")));
  EXPECT_TRUE(MatchesFilter(issue, {}));
}

TEST(IssueFilterTest, FiltersIssuesByTheirProblem) {
  issue::v1::Issue issue;
  issue.set_problem("problems/01jd8x3q5w0000000000000000");
  EXPECT_TRUE(
      MatchesFilter(issue, *ParseIssueFilter("problem=problems/01jd8x3q5w0000000000000000")));
  EXPECT_FALSE(
      MatchesFilter(issue, *ParseIssueFilter("problem=problems/01jd8x3q5w0000000000000001")));
  for (const char* bad : {"problem=01jd8x3q5w0000000000000000", "problem=problems/x",
                          "problem=issues/01jd8x3q5w0000000000000000"}) {
    EXPECT_EQ(ParseIssueFilter(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(IssueFilterTest, ProblemFiltersTakeProblemFieldsAndStates) {
  issue::v1::Problem problem;
  problem.set_state(issue::v1::PROBLEM_STATE_OPEN);
  problem.mutable_owner()->set_business_group("cloud-infra");
  problem.mutable_owner()->set_team("storage");
  problem.set_product("azure-storage");
  EXPECT_TRUE(MatchesFilter(
      problem, *ParseProblemFilter("state=PROBLEM_STATE_OPEN AND business_group=cloud-infra AND "
                                   "team=storage AND product=azure-storage")));
  EXPECT_FALSE(MatchesFilter(problem, *ParseProblemFilter("state=PROBLEM_STATE_RESOLVED")));
  for (const char* bad : {"state=STATE_ROUTED", "state=PROBLEM_STATE_UNSPECIFIED",
                          "severity=SEVERITY_HIGH", "source=crm", "team=Not An Id"}) {
    absl::StatusOr<std::vector<FilterTerm>> terms = ParseProblemFilter(bad);
    EXPECT_EQ(terms.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(std::string(ParseProblemFilter("source=crm").status().message()),
              ::testing::HasSubstr("one of state, business_group, team, product"));
}

}  // namespace
}  // namespace switchboard::intake
