#include "services/routing/correlation.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <string>

#include "services/routing/compiled_ruleset.h"

namespace switchboard::routing {
namespace {

using issue::v1::Issue;
using ::testing::ElementsAre;

TEST(TitleFingerprintTest, IgnoresCasePunctuationNumbersAndIds) {
  const std::string a = TitleFingerprint("Blob writes fail with 503 (req 8f3a9c01)");
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, TitleFingerprint("blob writes FAIL with 500 - req 77aa01ff"));
  EXPECT_EQ(a, TitleFingerprint(
                   "  Blob   writes: fail, with 404; req 123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_NE(a, TitleFingerprint("Blob reads fail with 503 (req 8f3a9c01)"));
  // Short hex-like words and hex words without a digit are words.
  EXPECT_NE(TitleFingerprint("facade is down"), TitleFingerprint("decade is down"));
  EXPECT_EQ(TitleFingerprint("Disk v2 full"), TitleFingerprint("disk V3 full"));
  EXPECT_EQ(TitleFingerprint(""), "");
  EXPECT_EQ(TitleFingerprint(" -- !! "), "");
  // A hyphen breaks words like any punctuation; only a whole UUID is one id.
  EXPECT_EQ(TitleFingerprint("DB-123456 down"), TitleFingerprint("db 123456 down"));
  EXPECT_EQ(TitleFingerprint("cafe-2024 menu"), TitleFingerprint("cafe 2025 menu"));
  EXPECT_NE(TitleFingerprint("cafe-2024 menu"), TitleFingerprint("menu"));
  EXPECT_EQ(TitleFingerprint("job 123e4567-e89b-12d3-a456-426614174000 failed"),
            TitleFingerprint("job 00000000-0000-0000-0000-00000000abcd failed"));
  EXPECT_EQ(TitleFingerprint("job 123e4567-e89b-12d3-a456-426614174000 failed"),
            TitleFingerprint("job 42 failed"));
  // Curly quotes, dashes, ellipses and the no-break space break words too.
  EXPECT_EQ(TitleFingerprint("\u201cBlob writes fail\u201d \u2014 again\u2026"),
            TitleFingerprint("\"Blob writes fail\" - again..."));
  EXPECT_EQ(TitleFingerprint("Blob\u00a0writes fail"), TitleFingerprint("blob writes fail"));
  // UTF-8 letters stay part of their word.
  EXPECT_NE(TitleFingerprint("Zahlung fehlgeschlagen"), TitleFingerprint("Zählung fehlgeschlagen"));
}

TEST(ParseKeyFieldTest, KnowsTheKeyFieldsAndRefusesFreeText) {
  EXPECT_EQ(ParseKeyField("product")->Name(), "product");
  EXPECT_EQ(ParseKeyField("labels.cluster")->Name(), "labels.cluster");
  EXPECT_TRUE(ParseKeyField("title.fingerprint")->title_fingerprint);
  EXPECT_FALSE(ParseKeyField("title").has_value());
  EXPECT_FALSE(ParseKeyField("description").has_value());
  EXPECT_FALSE(ParseKeyField("labels.").has_value());
  EXPECT_FALSE(ParseKeyField("owner").has_value());
}

TEST(CrossesThresholdsTest, EitherThresholdAndNoneMeansNever) {
  v1::CorrelationThresholds none;
  EXPECT_FALSE(CrossesThresholds(none, 1'000, true));
  v1::CorrelationThresholds three;
  three.set_min_customers(3);
  EXPECT_FALSE(CrossesThresholds(three, 2, true));
  EXPECT_TRUE(CrossesThresholds(three, 3, false));
  v1::CorrelationThresholds strategic;
  strategic.set_any_strategic_customer(true);
  EXPECT_FALSE(CrossesThresholds(strategic, 50, false));
  EXPECT_TRUE(CrossesThresholds(strategic, 1, true));
}

class CorrelationMatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        R"pb(
          business_groups {
            id: "cloud"
            teams { id: "storage" }
          }
          business_groups {
            id: "support"
            teams { id: "triage" }
          }
          rules {
            id: "storage"
            conditions { field: "product" op: OPERATOR_EQUALS values: "azure-storage" }
            target { business_group: "cloud" team: "storage" }
          }
          default_target { business_group: "support" team: "triage" }
          correlation_policies {
            id: "by-cluster"
            key_fields: [ "labels.cluster" ]
            window { seconds: 600 }
            rules: "storage"
          }
          correlation_policies {
            id: "regional-outage"
            key_fields: [ "product", "region" ]
            window { seconds: 7200 }
            business_groups: "cloud"
            escalation { min_customers: 3 }
          }
          correlation_policies {
            id: "same-title"
            key_fields: [ "title.fingerprint", "customer.tier" ]
            window { seconds: 60 }
          }
        )pb",
        &ruleset_));
    auto compiled = CompiledRuleset::Compile(ruleset_, nullptr);
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    compiled_ = *std::move(compiled);
  }

  static Issue StorageIssue() {
    Issue issue;
    issue.set_title("Writes fail");
    issue.set_product("azure-storage");
    issue.set_region("emea");
    issue.set_severity(issue::v1::SEVERITY_HIGH);
    issue.mutable_customer()->set_id("contoso");
    issue.mutable_customer()->set_tier(issue::v1::CUSTOMER_TIER_ENTERPRISE);
    return issue;
  }

  v1::CorrelationMatch Match(const Issue& issue) const {
    return compiled_->Route(issue, /*explain=*/false).correlation();
  }

  v1::Ruleset ruleset_;
  std::shared_ptr<const CompiledRuleset> compiled_;
};

TEST_F(CorrelationMatchTest, TheFirstPolicyWhoseScopeHoldsAndWhoseFieldsHaveValuesDecides) {
  Issue issue = StorageIssue();
  (*issue.mutable_labels())["cluster"] = "ams-07";
  EXPECT_EQ(Match(issue).key(), "by-cluster|labels.cluster=ams-07");
  EXPECT_EQ(Match(issue).window().seconds(), 600);

  // No cluster label: the next policy.
  issue.mutable_labels()->clear();
  const v1::CorrelationMatch regional = Match(issue);
  EXPECT_EQ(regional.policy(), "regional-outage");
  EXPECT_EQ(regional.key(), "regional-outage|product=azure-storage|region=emea");
  EXPECT_EQ(regional.escalation().min_customers(), 3);

  // No region either: the last one.
  issue.clear_region();
  EXPECT_EQ(Match(issue).key(), "same-title|title.fingerprint=" + TitleFingerprint("Writes fail") +
                                    "|customer.tier=CUSTOMER_TIER_ENTERPRISE");

  // A title of nothing but punctuation has no fingerprint: no policy applies.
  issue.set_title("???");
  EXPECT_FALSE(compiled_->Route(issue, false).has_correlation());
}

TEST_F(CorrelationMatchTest, ScopeFollowsTheDecisionsRuleAndBusinessGroup) {
  Issue issue = StorageIssue();
  issue.set_product("xbox");  // the default target, in support
  (*issue.mutable_labels())["cluster"] = "ams-07";
  EXPECT_EQ(Match(issue).policy(), "same-title");
  // RouteSequentially decides the same.
  EXPECT_EQ(compiled_->RouteSequentially(issue).correlation().key(), Match(issue).key());
}

TEST_F(CorrelationMatchTest, KeysEscapeTheirSeparatorsAndTooLongKeysFallThrough) {
  Issue issue = StorageIssue();
  (*issue.mutable_labels())["cluster"] = "a|b=c%d\n";
  EXPECT_EQ(Match(issue).key(), "by-cluster|labels.cluster=a%7Cb%3Dc%25d%0A");
  issue.set_region("x|region=y");
  issue.mutable_labels()->clear();
  EXPECT_EQ(Match(issue).key(), "regional-outage|product=azure-storage|region=x%7Cregion%3Dy");

  (*issue.mutable_labels())["cluster"] = std::string(kMaxCorrelationKeyBytes, 'c');
  EXPECT_EQ(Match(issue).policy(), "regional-outage");
}

TEST(GroupIntoProblemsTest, WindowsOpenAtTheFirstIssueOfAKeyAndCountCustomers) {
  v1::CorrelationMatch match;
  match.set_policy("p");
  match.set_key("p|product=x");
  match.mutable_window()->set_seconds(60);
  match.mutable_escalation()->set_any_strategic_customer(true);
  std::vector<Issue> issues(5);
  issues[0].mutable_customer()->set_id("a");
  issues[1].mutable_customer()->set_id("b");
  issues[1].mutable_customer()->set_tier(issue::v1::CUSTOMER_TIER_STRATEGIC);
  issues[2].mutable_customer()->set_id("a");
  issues[3].mutable_customer()->set_id("c");
  issues[4].mutable_customer()->set_id("d");
  const absl::Time t = absl::FromUnixSeconds(1'000);
  // 3 comes first; 0 and 1 are within 60 s of it; 2 is exactly at the end,
  // so opens the next window; 4 has no match.
  const std::vector<absl::Time> times = {t + absl::Seconds(30), t + absl::Seconds(59),
                                         t + absl::Seconds(60), t, t};
  std::vector<const Issue*> pointers;
  for (const Issue& issue : issues) pointers.push_back(&issue);
  const std::vector<absl::optional<v1::CorrelationMatch>> matches = {match, match, match, match,
                                                                     absl::nullopt};
  const std::vector<v1::CorrelationGroup> groups = GroupIntoProblems(pointers, matches, times);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_THAT(groups[0].issue_indexes(), ElementsAre(3, 0, 1));
  EXPECT_EQ(groups[0].customers(), 3);
  EXPECT_TRUE(groups[0].would_escalate());
  EXPECT_THAT(groups[1].issue_indexes(), ElementsAre(2));
  EXPECT_EQ(groups[1].customers(), 1);
  EXPECT_FALSE(groups[1].would_escalate());
}

}  // namespace
}  // namespace switchboard::routing
