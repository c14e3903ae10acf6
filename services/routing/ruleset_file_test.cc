#include "services/routing/ruleset_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"
#include "services/routing/compiled_ruleset.h"

namespace switchboard::routing {
namespace {

using ::testing::HasSubstr;

constexpr char kYaml[] = R"(
comment: "yaml"
business_groups:
  - id: cloud
    teams: [{id: storage}, {id: "007"}]
    default_sla_policy: standard
sla_policies:
  - id: standard
    ack_within: {SEVERITY_HIGH: 3600s, SEVERITY_LOW: "1.5s"}
rules:
  - id: numbers-stay-strings
    conditions:
      - {field: product, op: OPERATOR_IN, values: ["365", "true", plain]}
      - {field: labels.priority, op: OPERATOR_EXISTS, negate: true}
    target: {business_group: cloud, team: "007"}
default_target: {business_group: cloud, team: storage}
)";

TEST(RulesetFileTest, ParsesYaml) {
  auto ruleset = ParseRulesetText(kYaml);
  ASSERT_TRUE(ruleset.ok()) << ruleset.status();
  EXPECT_EQ(ruleset->comment(), "yaml");
  EXPECT_EQ(ruleset->business_groups(0).teams(1).id(), "007");
  EXPECT_EQ(ruleset->sla_policies(0).ack_within().at("SEVERITY_HIGH").seconds(), 3600);
  EXPECT_EQ(ruleset->sla_policies(0).ack_within().at("SEVERITY_LOW").nanos(), 500'000'000);
  const auto& condition = ruleset->rules(0).conditions(0);
  EXPECT_EQ(condition.op(), v1::OPERATOR_IN);
  EXPECT_THAT(condition.values(), ::testing::ElementsAre("365", "true", "plain"));
  EXPECT_TRUE(ruleset->rules(0).conditions(1).negate());
  EXPECT_TRUE(CompiledRuleset::Compile(*ruleset, nullptr).ok());
}

TEST(RulesetFileTest, ParsesJson) {
  auto ruleset = ParseRulesetText(
      R"({"comment": "json", "rules": [{"id": "a"}], "defaultTarget": {"team": "t"}})");
  ASSERT_TRUE(ruleset.ok()) << ruleset.status();
  EXPECT_EQ(ruleset->rules(0).id(), "a");
  EXPECT_EQ(ruleset->default_target().team(), "t");
}

TEST(RulesetFileTest, RefusesTyposAndGarbage) {
  auto typo = ParseRulesetText("business_group:\n  - id: cloud\n");
  EXPECT_EQ(typo.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(typo.status().message()), HasSubstr("business_group"));
  EXPECT_EQ(ParseRulesetText("rules: [unclosed").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRulesetText("- a list").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRulesetText("{\"rules\": 5}").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadRulesetFile("/nonexistent/ruleset.yaml").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(RulesetFileTest, SameRulesIgnoresOutputOnlyFields) {
  auto a = ParseRulesetText(kYaml);
  ASSERT_TRUE(a.ok());
  v1::Ruleset b = *a;
  b.set_revision(9);
  b.set_author("bob");
  b.mutable_create_time()->set_seconds(5);
  EXPECT_TRUE(SameRules(*a, b));
  b.mutable_rules(0)->set_id("other");
  EXPECT_FALSE(SameRules(*a, b));
}

// The sample ruleset the local stack runs on: valid, and as rich as promised.
TEST(RulesetFileTest, SampleRulesetIsValidAndRealistic) {
  auto sample =
      LoadRulesetFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/config/sample-ruleset.yaml");
  ASSERT_TRUE(sample.ok()) << sample.status();
  auto compiled = CompiledRuleset::Compile(*sample, nullptr);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_GE(sample->business_groups_size(), 6);
  int teams = 0;
  int escalating = 0;
  for (const auto& group : sample->business_groups()) {
    for (const auto& team : group.teams()) {
      ++teams;
      escalating += team.escalation_size() > 0;
    }
  }
  EXPECT_GE(teams, 20);
  EXPECT_GE(escalating, 15);
  EXPECT_GE(sample->rules_size(), 40);
  EXPECT_GE(sample->sla_policies_size(), 3);
  EXPECT_EQ(sample->default_target().team(), "triage");
  absl::flat_hash_set<std::string> fields;
  for (const auto& rule : sample->rules()) {
    for (const auto& condition : rule.conditions()) fields.insert(condition.field());
  }
  for (const char* field : {"product", "customer.tier", "customer.id", "region", "severity",
                            "source", "title", "labels.channel"}) {
    EXPECT_TRUE(fields.contains(field)) << field;
  }

  // Its correlation policy groups a cloud product's issues by region.
  ASSERT_EQ(sample->correlation_policies_size(), 1);
  EXPECT_EQ(sample->correlation_policies(0).window().seconds(), 7200);
  issue::v1::Issue issue;
  issue.set_title("Blob writes fail");
  issue.set_product("azure-storage");
  issue.set_region("emea");
  issue.set_severity(issue::v1::SEVERITY_HIGH);
  issue.mutable_customer()->set_id("contoso");
  const v1::RoutingDecision decision = (*compiled)->Route(issue, false);
  EXPECT_EQ(decision.target().business_group(), "cloud-infra");
  EXPECT_EQ(decision.correlation().key(), "regional-outage|product=azure-storage|region=emea");
  // The owner team's escalation list comes with the decision.
  for (const auto& group : sample->business_groups()) {
    for (const auto& team : group.teams()) {
      if (team.id() != decision.target().team()) continue;
      ASSERT_FALSE(team.escalation().empty());
      ASSERT_EQ(decision.escalation_contacts_size(), team.escalation_size());
      EXPECT_EQ(decision.escalation_contacts(0).team(), team.escalation(0).team());
    }
  }
  issue.clear_region();
  EXPECT_FALSE((*compiled)->Route(issue, false).has_correlation());
}

// Its standard policy counts low-severity targets in office hours: customer
// care's in Dublin, its billing team's in Seattle; on-call teams have no
// calendar and count every minute.
TEST(RulesetFileTest, SampleRulesetCountsLowSeverityInOfficeHours) {
  auto sample =
      LoadRulesetFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/config/sample-ruleset.yaml");
  ASSERT_TRUE(sample.ok()) << sample.status();
  auto compiled = CompiledRuleset::Compile(*sample, nullptr);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const auto route = [&](const std::string& title, const std::string& product,
                         issue::v1::Severity severity) {
    issue::v1::Issue issue;
    issue.set_title(title);
    issue.set_product(product);
    issue.set_severity(severity);
    issue.mutable_customer()->set_id("adatum");
    return (*compiled)->Route(issue, false);
  };
  v1::RoutingDecision decision = route("Odd noise", "mystery-gadget", issue::v1::SEVERITY_LOW);
  EXPECT_EQ(decision.target().team(), "triage");
  EXPECT_EQ(decision.sla().clock(), issue::v1::SLA_CLOCK_BUSINESS);
  EXPECT_EQ(decision.sla().calendar().id(), "dublin-office");
  EXPECT_EQ(decision.sla().reopen_window().seconds(), 604800);
  decision = route("Invoice is wrong", "m365-licensing", issue::v1::SEVERITY_LOW);
  EXPECT_EQ(decision.target().team(), "billing");
  EXPECT_EQ(decision.sla().calendar().id(), "seattle-office");
  decision = route("Odd noise", "mystery-gadget", issue::v1::SEVERITY_HIGH);
  EXPECT_EQ(decision.sla().clock(), issue::v1::SLA_CLOCK_CALENDAR);
  decision = route("Slow disks", "azure-storage", issue::v1::SEVERITY_LOW);
  EXPECT_EQ(decision.target().team(), "storage-oncall");
  EXPECT_EQ(decision.sla().clock(), issue::v1::SLA_CLOCK_CALENDAR);
  EXPECT_EQ(decision.sla().ack_within().seconds(), 57600);
}

}  // namespace
}  // namespace switchboard::routing
