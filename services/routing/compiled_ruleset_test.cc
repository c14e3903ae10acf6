#include "services/routing/compiled_ruleset.h"

#include <random>

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "services/routing/reference_router.h"

namespace switchboard::routing {
namespace {

using issue::v1::Issue;
using ::testing::HasSubstr;
using v1::RoutingDecision;
using v1::Ruleset;

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

// Two groups; storage escalates to storage-leads, then to the duty manager.
constexpr char kDirectory[] = R"pb(
  revision: 7
  business_groups {
    id: "cloud"
    default_sla_policy: "standard"
    teams {
      id: "storage"
      escalation { business_group: "cloud" team: "storage-leads" }
      escalation { business_group: "cloud" team: "duty-manager" }
    }
    teams { id: "storage-leads" }
    teams { id: "duty-manager" }
    teams { id: "compute" }
  }
  business_groups {
    id: "support"
    teams { id: "triage" }
  }
  sla_policies {
    id: "standard"
    ack_within {
      key: "SEVERITY_HIGH"
      value { seconds: 3600 }
    }
    resolve_within {
      key: "SEVERITY_HIGH"
      value { seconds: 86400 }
    }
  }
  sla_policies {
    id: "strategic"
    ack_within {
      key: "SEVERITY_HIGH"
      value { seconds: 900 }
    }
  }
  default_target { business_group: "support" team: "triage" }
)pb";

std::shared_ptr<const CompiledRuleset> Compile(const std::string& rules) {
  auto compiled =
      CompiledRuleset::Compile(Parse<Ruleset>(absl::StrCat(kDirectory, rules)), nullptr);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return compiled.ok() ? *compiled : nullptr;
}

Issue StorageIssue() {
  return Parse<Issue>(R"pb(
    title: "Blob writes fail with 503 OUTAGE"
    description: "Since 09:00"
    customer { id: "contoso" tier: CUSTOMER_TIER_STRATEGIC country: "DE" }
    product: "azure-storage"
    severity: SEVERITY_HIGH
    region: "emea"
    source: "crm"
    submitter: "jane@contoso.com"
    labels { key: "channel" value: "partner" }
  )pb");
}

std::string RuleFor(const std::string& id, const std::string& conditions,
                    const std::string& team = "storage") {
  return absl::StrCat("rules { id: \"", id, "\" ", conditions,
                      " target { business_group: \"cloud\" team: \"", team, "\" } }");
}

TEST(CompiledRulesetTest, EveryOperatorAndField) {
  const Issue issue = StorageIssue();
  struct Case {
    std::string condition;
    bool matches;
  };
  const Case cases[] = {
      {R"(field: "product" op: OPERATOR_EQUALS values: "azure-storage")", true},
      {R"(field: "product" op: OPERATOR_EQUALS values: "azure-compute")", false},
      {R"(field: "region" op: OPERATOR_IN values: ["amer", "emea"])", true},
      {R"(field: "severity" op: OPERATOR_IN values: ["SEVERITY_CRITICAL", "SEVERITY_HIGH"])", true},
      {R"(field: "customer.tier" op: OPERATOR_EQUALS values: "CUSTOMER_TIER_SMB")", false},
      {R"(field: "customer.id" op: OPERATOR_PREFIX values: ["fabrikam", "cont"])", true},
      {R"(field: "submitter" op: OPERATOR_REGEX values: ".*@contoso\\.com")", true},
      {R"(field: "submitter" op: OPERATOR_REGEX values: "contoso")", false},  // full match only
      {R"(field: "title" op: OPERATOR_CONTAINS values: ["outage"])", true},   // case-insensitive
      {R"(field: "description" op: OPERATOR_CONTAINS values: ["OUTAGE"])", false},
      {R"(field: "labels.channel" op: OPERATOR_EQUALS values: "partner")", true},
      {R"(field: "labels.missing" op: OPERATOR_EXISTS)", false},
      {R"(field: "customer.country" op: OPERATOR_EXISTS)", true},
      {R"(field: "source" op: OPERATOR_EQUALS values: "crm" negate: true)", false},
      {R"(field: "labels.missing" op: OPERATOR_EXISTS negate: true)", true},
  };
  for (const Case& c : cases) {
    auto compiled = Compile(RuleFor("r", absl::StrCat("conditions { ", c.condition, " }")));
    ASSERT_NE(compiled, nullptr) << c.condition;
    EXPECT_EQ(compiled->Route(issue, false).rule(), c.matches ? "r" : "") << c.condition;
    EXPECT_EQ(compiled->Route(issue, true).rule(), c.matches ? "r" : "") << c.condition;
  }
}

TEST(CompiledRulesetTest, FirstMatchInRuleOrderWinsAcrossIndexes) {
  // "by-region" is filed under region, "by-product" under product and
  // "catch-all" under nothing: rule order must still decide.
  auto compiled = Compile(absl::StrCat(
      RuleFor("by-region", R"(conditions { field: "region" op: OPERATOR_EQUALS values: "emea" }
                              conditions { field: "severity" op: OPERATOR_EQUALS values: "SEVERITY_LOW" })"),
      RuleFor("by-product",
              R"(conditions { field: "product" op: OPERATOR_EQUALS values: "azure-storage" })",
              "compute"),
      RuleFor("catch-all", "", "storage-leads")));
  Issue issue = StorageIssue();
  EXPECT_EQ(compiled->Route(issue, false).rule(), "by-product");
  issue.set_severity(issue::v1::SEVERITY_LOW);
  EXPECT_EQ(compiled->Route(issue, false).rule(), "by-region");
  issue.set_region("apac");
  issue.set_product("other");
  EXPECT_EQ(compiled->Route(issue, false).rule(), "catch-all");
}

TEST(CompiledRulesetTest, DecisionCarriesTargetWatchersAndSla) {
  auto compiled = Compile(R"pb(
    rules {
      id: "strategic"
      sla_policy: "strategic"
      conditions { field: "customer.tier" op: OPERATOR_EQUALS values: "CUSTOMER_TIER_STRATEGIC" }
      target { business_group: "cloud" team: "storage" }
      watchers { business_group: "support" team: "triage" }
    }
  )pb");
  const RoutingDecision decision = compiled->Route(StorageIssue(), false);
  EXPECT_EQ(decision.target().team(), "storage");
  EXPECT_EQ(decision.rule(), "strategic");
  EXPECT_EQ(decision.ruleset_revision(), 7);
  ASSERT_EQ(decision.watchers_size(), 1);
  EXPECT_EQ(decision.watchers(0).team(), "triage");
  EXPECT_EQ(decision.ack_within().seconds(), 900);  // the rule's own policy
  EXPECT_FALSE(decision.has_resolve_within());      // which has no resolve entry
  EXPECT_EQ(decision.original_target().team(), "storage");
  EXPECT_EQ(decision.escalation_level(), 0);
}

TEST(CompiledRulesetTest, GroupDefaultSlaAndDefaultRoute) {
  auto compiled = Compile(RuleFor(
      "storage", R"(conditions { field: "product" op: OPERATOR_EQUALS values: "azure-storage" })"));
  RoutingDecision decision = compiled->Route(StorageIssue(), false);
  EXPECT_EQ(decision.ack_within().seconds(), 3600);  // cloud's default "standard"
  EXPECT_EQ(decision.resolve_within().seconds(), 86400);

  Issue other = StorageIssue();
  other.set_product("xbox");
  decision = compiled->Route(other, false);
  EXPECT_EQ(decision.rule(), "");
  EXPECT_EQ(decision.target().team(), "triage");
  EXPECT_FALSE(decision.has_ack_within());  // support has no default policy
}

TEST(CompiledRulesetTest, ExplainSaysWhyEachRuleMatchedOrNot) {
  auto compiled = Compile(absl::StrCat(
      RuleFor(
          "smb",
          R"(conditions { field: "customer.tier" op: OPERATOR_IN values: ["CUSTOMER_TIER_SMB"] })"),
      RuleFor("not-crm",
              R"(conditions { field: "source" op: OPERATOR_EQUALS values: "crm" negate: true })"),
      RuleFor("outage", R"(conditions { field: "title" op: OPERATOR_CONTAINS values: ["outage"] }
                           conditions { field: "labels.channel" op: OPERATOR_EXISTS })"),
      RuleFor("never-reached", "")));
  const RoutingDecision decision = compiled->Route(StorageIssue(), true);
  EXPECT_EQ(decision.rule(), "outage");
  ASSERT_EQ(decision.trace_size(), 3);
  EXPECT_EQ(decision.trace(0).rule(), "smb");
  EXPECT_FALSE(decision.trace(0).matched());
  EXPECT_EQ(decision.trace(0).reason(),
            "customer.tier: CUSTOMER_TIER_STRATEGIC not in [CUSTOMER_TIER_SMB]");
  EXPECT_EQ(decision.trace(1).reason(), "source: crm == crm (negated)");
  EXPECT_TRUE(decision.trace(2).matched());
  EXPECT_EQ(decision.trace(2).reason(), "all 2 conditions hold");
  EXPECT_TRUE(compiled->Route(StorageIssue(), false).trace().empty());
}

TEST(CompiledRulesetTest, EscalationFollowsTheOriginalTeamsListToItsEnd) {
  auto compiled = Compile("");
  Issue issue = StorageIssue();
  issue.mutable_assignment()->mutable_target()->set_business_group("cloud");
  issue.mutable_assignment()->mutable_target()->set_team("storage");

  auto first = compiled->Escalate(issue);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->target().team(), "storage-leads");
  EXPECT_EQ(first->escalation_level(), 1);
  EXPECT_EQ(first->original_target().team(), "storage");
  EXPECT_EQ(first->ack_within().seconds(), 3600);

  // As intake records it: the new owner, the level, the original owner.
  *issue.mutable_assignment()->mutable_target() = first->target();
  *issue.mutable_assignment()->mutable_original_target() = first->original_target();
  issue.mutable_assignment()->set_escalation_level(first->escalation_level());
  auto second = compiled->Escalate(issue);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->target().team(), "duty-manager");
  EXPECT_EQ(second->escalation_level(), 2);

  issue.mutable_assignment()->set_escalation_level(2);
  auto exhausted = compiled->Escalate(issue);
  EXPECT_EQ(exhausted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(exhausted.status().message()), HasSubstr("exhausted"));

  issue.mutable_assignment()->mutable_original_target()->set_team("gone");
  EXPECT_EQ(compiled->Escalate(issue).status().code(), absl::StatusCode::kFailedPrecondition);
  issue.clear_assignment();
  EXPECT_EQ(compiled->Escalate(issue).status().code(), absl::StatusCode::kInvalidArgument);
}

// An assignment that lost its original_target (written by an older client,
// or by hand) still escalates down the first owner's list when its rule
// says who that was, not down the list of whoever owns it now.
TEST(CompiledRulesetTest, EscalationWithoutAnOriginalTargetFallsBackToTheRulesTarget) {
  auto compiled = Compile(R"pb(
    rules {
      id: "to-storage"
      target { business_group: "cloud" team: "storage" }
    }
  )pb");
  Issue issue = StorageIssue();
  issue::v1::Assignment& assignment = *issue.mutable_assignment();
  assignment.mutable_target()->set_business_group("cloud");
  assignment.mutable_target()->set_team("storage-leads");  // already escalated once
  assignment.set_rule("to-storage");
  assignment.set_escalation_level(1);
  auto next = compiled->Escalate(issue);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->target().team(), "duty-manager");  // storage's list, level 1
  EXPECT_EQ(next->original_target().team(), "storage");

  // A rule this revision does not have: the current owner is all there is.
  assignment.set_rule("retired-rule");
  EXPECT_EQ(compiled->Escalate(issue).status().code(), absl::StatusCode::kFailedPrecondition)
      << "storage-leads has no escalation list";
}

TEST(CompiledRulesetTest, RouteToChecksTheTargetAndUsesItsGroupSla) {
  auto compiled = Compile("");
  issue::v1::Target target;
  target.set_business_group("cloud");
  target.set_team("compute");
  auto decision = compiled->RouteTo(StorageIssue(), target, "target");
  ASSERT_TRUE(decision.ok()) << decision.status();
  EXPECT_EQ(decision->target().team(), "compute");
  EXPECT_EQ(decision->ack_within().seconds(), 3600);

  target.set_business_group("support");  // compute is not in support
  auto wrong = compiled->RouteTo(StorageIssue(), target, "target");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(wrong.status()).at(0).field, "target");
}

TEST(CompiledRulesetTest, CountsDecisionsByGroupAndRule) {
  prometheus::Registry registry;
  RoutingMetrics metrics(registry);
  auto compiled = CompiledRuleset::Compile(
      Parse<Ruleset>(absl::StrCat(
          kDirectory,
          RuleFor(
              "storage",
              R"(conditions { field: "product" op: OPERATOR_EQUALS values: "azure-storage" })"))),
      &metrics);
  ASSERT_TRUE(compiled.ok());
  Issue issue = StorageIssue();
  (*compiled)->Route(issue, false);
  (*compiled)->Route(issue, true);
  issue.set_product("xbox");
  (*compiled)->Route(issue, false);
  EXPECT_EQ(metrics.Decisions("cloud", "storage").Value(), 2);
  EXPECT_EQ(metrics.Decisions("support", "").Value(), 1);
  EXPECT_EQ(metrics.default_decisions.Value(), 1);
}

// Care's desk counts SEVERITY_LOW targets in Dublin office hours (its
// group's calendar); its Seattle desk in its own; cloud has no calendar.
constexpr char kCalendars[] = R"pb(
  revision: 8
  calendars {
    id: "dublin"
    time_zone: "Europe/Dublin"
    hours {
      days: [ WEEKDAY_MONDAY, WEEKDAY_TUESDAY, WEEKDAY_WEDNESDAY, WEEKDAY_THURSDAY, WEEKDAY_FRIDAY ]
      start: "09:00"
      end: "17:30"
    }
    holidays: "2026-03-17"
  }
  calendars {
    id: "seattle"
    time_zone: "America/Los_Angeles"
    hours {
      days: [ WEEKDAY_MONDAY, WEEKDAY_TUESDAY, WEEKDAY_WEDNESDAY, WEEKDAY_THURSDAY, WEEKDAY_FRIDAY ]
      start: "08:00"
      end: "17:00"
    }
  }
  business_groups {
    id: "care"
    calendar: "dublin"
    default_sla_policy: "business-low"
    teams {
      id: "desk"
      escalation { business_group: "care" team: "seattle-desk" }
    }
    teams { id: "seattle-desk" calendar: "seattle" }
  }
  business_groups {
    id: "cloud"
    default_sla_policy: "business-low"
    teams { id: "oncall" }
  }
  business_groups {
    id: "support"
    teams { id: "triage" }
  }
  sla_policies {
    id: "business-low"
    ack_within {
      key: "SEVERITY_LOW"
      value { seconds: 14400 }
    }
    ack_within {
      key: "SEVERITY_HIGH"
      value { seconds: 3600 }
    }
    resolve_within {
      key: "SEVERITY_LOW"
      value { seconds: 172800 }
    }
    clock { key: "SEVERITY_LOW" value: SLA_CLOCK_BUSINESS }
    clock { key: "SEVERITY_HIGH" value: SLA_CLOCK_CALENDAR }
    reopen_window { seconds: 259200 }
  }
  sla_policies {
    id: "plain"
    ack_within {
      key: "SEVERITY_LOW"
      value { seconds: 600 }
    }
  }
  rules {
    id: "desk"
    conditions { field: "product" op: OPERATOR_EQUALS values: "desk" }
    target { business_group: "care" team: "desk" }
  }
  rules {
    id: "seattle"
    conditions { field: "product" op: OPERATOR_EQUALS values: "seattle" }
    target { business_group: "care" team: "seattle-desk" }
  }
  rules {
    id: "oncall"
    conditions { field: "product" op: OPERATOR_EQUALS values: "oncall" }
    target { business_group: "cloud" team: "oncall" }
  }
  rules {
    id: "plain"
    sla_policy: "plain"
    conditions { field: "product" op: OPERATOR_EQUALS values: "plain" }
    target { business_group: "care" team: "desk" }
  }
  default_target { business_group: "support" team: "triage" }
)pb";

std::shared_ptr<const CompiledRuleset> CompileCalendars() {
  auto compiled = CompiledRuleset::Compile(Parse<Ruleset>(kCalendars), nullptr);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return compiled.ok() ? *compiled : nullptr;
}

Issue IssueFor(const std::string& product, issue::v1::Severity severity) {
  Issue issue = StorageIssue();
  issue.set_product(product);
  issue.set_severity(severity);
  return issue;
}

TEST(CompiledRulesetSlaTest, ABusinessClockCountsInTheOwnersCalendar) {
  auto compiled = CompileCalendars();
  ASSERT_NE(compiled, nullptr);
  const Ruleset& ruleset = compiled->ruleset();

  // The group's calendar.
  RoutingDecision decision = compiled->Route(IssueFor("desk", issue::v1::SEVERITY_LOW), false);
  EXPECT_EQ(decision.sla().clock(), issue::v1::SLA_CLOCK_BUSINESS);
  EXPECT_EQ(decision.sla().calendar().SerializeAsString(),
            ruleset.calendars(0).SerializeAsString());
  EXPECT_EQ(decision.sla().ack_within().seconds(), 14400);
  EXPECT_EQ(decision.sla().resolve_within().seconds(), 172800);
  EXPECT_EQ(decision.sla().reopen_window().seconds(), 259200);
  EXPECT_EQ(decision.ack_within().seconds(), 14400);  // as before calendars
  EXPECT_EQ(decision.resolve_within().seconds(), 172800);

  // The team's own calendar wins over its group's.
  decision = compiled->Route(IssueFor("seattle", issue::v1::SEVERITY_LOW), false);
  EXPECT_EQ(decision.sla().clock(), issue::v1::SLA_CLOCK_BUSINESS);
  EXPECT_EQ(decision.sla().calendar().id(), "seattle");
  EXPECT_EQ(decision.sla().calendar().time_zone(), "America/Los_Angeles");

  // Neither names one: calendar time, the same targets.
  decision = compiled->Route(IssueFor("oncall", issue::v1::SEVERITY_LOW), false);
  EXPECT_EQ(decision.sla().clock(), issue::v1::SLA_CLOCK_CALENDAR);
  EXPECT_FALSE(decision.sla().has_calendar());
  EXPECT_EQ(decision.sla().ack_within().seconds(), 14400);
  EXPECT_EQ(decision.sla().reopen_window().seconds(), 259200);
}

TEST(CompiledRulesetSlaTest, OtherSeveritiesAndPoliciesCountCalendarTime) {
  auto compiled = CompileCalendars();
  ASSERT_NE(compiled, nullptr);
  // SLA_CLOCK_CALENDAR named for HIGH.
  RoutingDecision decision = compiled->Route(IssueFor("desk", issue::v1::SEVERITY_HIGH), false);
  EXPECT_EQ(decision.sla().clock(), issue::v1::SLA_CLOCK_CALENDAR);
  EXPECT_FALSE(decision.sla().has_calendar());
  EXPECT_EQ(decision.sla().ack_within().seconds(), 3600);
  EXPECT_FALSE(decision.sla().has_resolve_within());
  // No clock named for MEDIUM, and no target either.
  decision = compiled->Route(IssueFor("desk", issue::v1::SEVERITY_MEDIUM), false);
  EXPECT_EQ(decision.sla().clock(), issue::v1::SLA_CLOCK_CALENDAR);
  EXPECT_FALSE(decision.sla().has_ack_within());
  // A policy without a reopen window: seven days.
  decision = compiled->Route(IssueFor("plain", issue::v1::SEVERITY_LOW), false);
  EXPECT_EQ(decision.sla().clock(), issue::v1::SLA_CLOCK_CALENDAR);
  EXPECT_EQ(decision.sla().ack_within().seconds(), 600);
  EXPECT_EQ(decision.sla().reopen_window().seconds(), 7 * 86400);
  // No policy at all (support has no default): no targets, seven days.
  decision = compiled->Route(IssueFor("nothing", issue::v1::SEVERITY_LOW), false);
  EXPECT_EQ(decision.target().team(), "triage");
  EXPECT_EQ(decision.sla().clock(), issue::v1::SLA_CLOCK_CALENDAR);
  EXPECT_FALSE(decision.sla().has_ack_within());
  EXPECT_EQ(decision.sla().reopen_window().seconds(), 7 * 86400);
}

TEST(CompiledRulesetSlaTest, EscalationAndTransferTakeTheNewOwnersCalendar) {
  auto compiled = CompileCalendars();
  ASSERT_NE(compiled, nullptr);
  Issue issue = IssueFor("desk", issue::v1::SEVERITY_LOW);
  issue.mutable_assignment()->mutable_target()->set_business_group("care");
  issue.mutable_assignment()->mutable_target()->set_team("desk");
  auto escalated = compiled->Escalate(issue);
  ASSERT_TRUE(escalated.ok()) << escalated.status();
  EXPECT_EQ(escalated->target().team(), "seattle-desk");
  EXPECT_EQ(escalated->sla().clock(), issue::v1::SLA_CLOCK_BUSINESS);
  EXPECT_EQ(escalated->sla().calendar().id(), "seattle");
  EXPECT_EQ(escalated->sla().ack_within().seconds(), 14400);

  issue::v1::Target target;
  target.set_business_group("cloud");
  target.set_team("oncall");
  auto moved = compiled->RouteTo(issue, target, "target");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->sla().clock(), issue::v1::SLA_CLOCK_CALENDAR);
  EXPECT_FALSE(moved->sla().has_calendar());
  target.set_business_group("care");
  target.set_team("desk");
  moved = compiled->RouteTo(issue, target, "target");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->sla().calendar().id(), "dublin");
}

// Random rulesets and issues over a small vocabulary, so that conditions
// often hold: the compiled router and the plain reference must always agree.
class RandomRulesets {
 public:
  explicit RandomRulesets(uint32_t seed) : random_(seed) {}

  Ruleset NextRuleset() {
    Ruleset ruleset = Parse<Ruleset>(kDirectory);
    const int rules = Uniform(0, 40);
    for (int r = 0; r < rules; ++r) {
      v1::Rule* rule = ruleset.add_rules();
      rule->set_id(absl::StrCat("r", r));
      rule->mutable_target()->set_business_group("cloud");
      rule->mutable_target()->set_team("storage");
      const int conditions = Uniform(0, 3);
      for (int c = 0; c < conditions; ++c) *rule->add_conditions() = NextCondition();
    }
    return ruleset;
  }

  Issue NextIssue() {
    Issue issue;
    issue.set_title(Pick({"Outage in storage", "slow queries", "Billing question", "OUTAGE!"}));
    issue.set_description(Pick({"", "customer down", "minor"}));
    issue.set_product(Pick(kProducts));
    issue.set_region(Pick({"", "emea", "amer", "apac"}));
    issue.set_source(Pick({"crm", "portal", "partner"}));
    issue.set_submitter(Pick({"", "a@x.com", "b@y.com"}));
    issue.set_severity(static_cast<issue::v1::Severity>(Uniform(1, 4)));
    issue.mutable_customer()->set_id(Pick({"c1", "c2", "c10"}));
    issue.mutable_customer()->set_tier(static_cast<issue::v1::CustomerTier>(Uniform(0, 4)));
    issue.mutable_customer()->set_country(Pick({"", "DE", "US"}));
    for (const char* key : {"k1", "k2"}) {
      if (Uniform(0, 1) == 1) (*issue.mutable_labels())[key] = Pick({"v1", "v2"});
    }
    return issue;
  }

 private:
  static constexpr std::initializer_list<const char*> kProducts = {"p1", "p2", "p3", "p10"};

  v1::Condition NextCondition() {
    static const std::vector<std::string> kFields = {
        "product",   "severity",    "region",      "source",        "submitter",
        "title",     "description", "customer.id", "customer.tier", "customer.country",
        "labels.k1", "labels.k2"};
    v1::Condition condition;
    condition.set_field(kFields[Uniform(0, static_cast<int>(kFields.size()) - 1)]);
    condition.set_op(static_cast<v1::Operator>(Uniform(1, 6)));
    condition.set_negate(Uniform(0, 4) == 0);
    const std::string& field = condition.field();
    auto value = [&]() -> std::string {
      if (field == "severity") return issue::v1::Severity_Name(Uniform(1, 4));
      if (field == "customer.tier") return issue::v1::CustomerTier_Name(Uniform(1, 4));
      if (field == "product") return Pick(kProducts);
      if (field == "region") return Pick({"emea", "amer", "apac"});
      if (field == "source") return Pick({"crm", "portal", "partner"});
      if (field == "customer.id") return Pick({"c1", "c2", "c10"});
      if (field == "customer.country") return Pick({"DE", "US"});
      if (field == "title" || field == "description") return Pick({"outage", "SLOW", "down", "o"});
      if (field == "submitter") return Pick({"a@x.com", "b@y.com", "a"});
      return Pick({"v1", "v2"});
    };
    switch (condition.op()) {
      case v1::OPERATOR_EQUALS:
        condition.add_values(value());
        break;
      case v1::OPERATOR_REGEX:
        condition.add_values(
            Pick({"p[0-9]", ".*1.*", "(?i)outage.*", "SEVERITY_(HIGH|LOW)", "c1|c2"}));
        break;
      case v1::OPERATOR_EXISTS:
        break;
      default:
        for (int n = Uniform(1, 3); n > 0; --n) condition.add_values(value());
    }
    return condition;
  }

  int Uniform(int low, int high) { return std::uniform_int_distribution<int>(low, high)(random_); }
  std::string Pick(std::initializer_list<const char*> options) {
    return *(options.begin() + Uniform(0, static_cast<int>(options.size()) - 1));
  }

  std::mt19937 random_;
};

TEST(CompiledRulesetDifferentialTest, AgreesWithTheReferenceOnRandomRulesets) {
  const uint32_t seed = std::random_device()();
  RandomRulesets random(seed);
  int compared = 0;
  for (int n = 0; n < 3000; ++n) {
    const Ruleset ruleset = random.NextRuleset();
    auto compiled = CompiledRuleset::Compile(ruleset, nullptr);
    ASSERT_TRUE(compiled.ok()) << compiled.status() << "\nseed " << seed;
    for (int i = 0; i < 20; ++i) {
      const Issue issue = random.NextIssue();
      const std::string expected = ReferenceRoute(ruleset, issue);
      ASSERT_EQ((*compiled)->Route(issue, false).rule(), expected)
          << "seed " << seed << "\nruleset:\n"
          << ruleset.DebugString() << "\nissue:\n"
          << issue.DebugString();
      ASSERT_EQ((*compiled)->Route(issue, true).rule(), expected) << "seed " << seed;
      ASSERT_EQ((*compiled)->RouteSequentially(issue).rule(), expected) << "seed " << seed;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 60000);
}

}  // namespace
}  // namespace switchboard::routing
