#include "services/routing/ruleset_validator.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "services/routing/correlation.h"

namespace switchboard::routing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr char kValid[] = R"pb(
  business_groups {
    id: "cloud"
    default_sla_policy: "standard"
    teams {
      id: "storage"
      escalation { business_group: "cloud" team: "leads" }
    }
    teams { id: "leads" }
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
  }
  rules {
    id: "storage"
    sla_policy: "standard"
    conditions { field: "product" op: OPERATOR_EQUALS values: "azure-storage" }
    conditions { field: "title" op: OPERATOR_REGEX values: "(?i).*outage.*" }
    target { business_group: "cloud" team: "storage" }
    watchers { business_group: "support" team: "triage" }
  }
  default_target { business_group: "support" team: "triage" }
)pb";

// The violations of kValid with `extra` merged in, as (field, description).
std::vector<std::pair<std::string, std::string>> Violated(const std::string& extra,
                                                          bool replace = false) {
  v1::Ruleset ruleset;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(replace ? extra : kValid, &ruleset));
  if (!replace) {
    v1::Ruleset more;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(extra, &more)) << extra;
    ruleset.MergeFrom(more);
  }
  Violations violations;
  ValidateRuleset(ruleset, "ruleset", violations);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : violations.list()) out.emplace_back(v.field, v.description);
  return out;
}

std::vector<std::string> Fields(const std::string& extra) {
  std::vector<std::string> fields;
  for (const auto& [field, description] : Violated(extra)) fields.push_back(field);
  return fields;
}

TEST(ValidateRulesetTest, ValidRulesetPasses) { EXPECT_THAT(Violated(""), IsEmpty()); }

TEST(ValidateRulesetTest, EmptyRulesetNeedsGroupsAndDefaultTarget) {
  EXPECT_THAT(
      Violated("", /*replace=*/true),
      ElementsAre(Pair("ruleset.business_groups", "at least one business group is required"),
                  Pair("ruleset.default_target", "required")));
}

TEST(ValidateRulesetTest, DuplicateIds) {
  EXPECT_THAT(Violated(R"pb(
                business_groups {
                  id: "cloud"
                  teams { id: "storage" }
                }
                sla_policies { id: "standard" }
                rules {
                  id: "storage"
                  target { business_group: "cloud" team: "storage" }
                }
              )pb"),
              UnorderedElementsAre(
                  Pair("ruleset.business_groups[2].id",
                       "duplicate business group id \"cloud\" (also business_groups[0])"),
                  Pair("ruleset.business_groups[2].teams[0].id",
                       "duplicate team id \"storage\" (also in business group \"cloud\"); team ids "
                       "are unique across the ruleset"),
                  Pair("ruleset.sla_policies[1].id", "duplicate SLA policy id \"standard\""),
                  Pair("ruleset.rules[1].id", "duplicate rule id \"storage\" (also rules[0])")));
}

TEST(ValidateRulesetTest, UnknownTargetsWatchersAndEscalations) {
  EXPECT_THAT(
      Violated(R"pb(
        business_groups {
          id: "devices"
          teams {
            id: "surface"
            escalation { business_group: "devices" team: "nobody" }
            escalation { business_group: "devices" team: "surface" }
          }
        }
        rules {
          id: "a"
          target { business_group: "gaming" team: "xbox" }
        }
        rules {
          id: "b"
          target { business_group: "devices" team: "storage" }
          watchers { business_group: "devices" team: "ghost" }
        }
        rules { id: "c" }
      )pb"),
      UnorderedElementsAre(
          Pair("ruleset.business_groups[2].teams[0].escalation[0].team", "unknown team \"nobody\""),
          Pair("ruleset.business_groups[2].teams[0].escalation[1]",
               "a team cannot escalate to itself"),
          Pair("ruleset.rules[1].target.business_group", "unknown business group \"gaming\""),
          Pair("ruleset.rules[2].target.team",
               "team \"storage\" belongs to business group \"cloud\", not \"devices\""),
          Pair("ruleset.rules[2].watchers[0].team", "unknown team \"ghost\""),
          Pair("ruleset.rules[3].target", "required")));
}

TEST(ValidateRulesetTest, UnknownFieldsOperatorsAndValues) {
  EXPECT_THAT(
      Fields(R"pb(
        rules {
          id: "x"
          target { business_group: "cloud" team: "storage" }
          conditions { field: "customer.name" op: OPERATOR_EQUALS values: "a" }
          conditions { field: "labels.Bad Key" op: OPERATOR_EXISTS }
          conditions { field: "product" values: "a" }
          conditions {
            field: "product"
            op: OPERATOR_EQUALS
            values: [ "a", "b" ]
          }
          conditions { field: "product" op: OPERATOR_IN }
          conditions { field: "product" op: OPERATOR_EXISTS values: "a" }
          conditions { field: "product" op: OPERATOR_PREFIX values: "" }
          conditions { field: "severity" op: OPERATOR_EQUALS values: "HIGH" }
          conditions {
            field: "customer.tier"
            op: OPERATOR_IN
            values: [ "CUSTOMER_TIER_UNSPECIFIED" ]
          }
          sla_policy: "gold"
        }
      )pb"),
      ElementsAre("ruleset.rules[1].conditions[0].field", "ruleset.rules[1].conditions[1].field",
                  "ruleset.rules[1].conditions[2].op", "ruleset.rules[1].conditions[3].values",
                  "ruleset.rules[1].conditions[4].values", "ruleset.rules[1].conditions[5].values",
                  "ruleset.rules[1].conditions[6].values[0]",
                  "ruleset.rules[1].conditions[7].values[0]",
                  "ruleset.rules[1].conditions[8].values[0]", "ruleset.rules[1].sla_policy"));
}

TEST(ValidateRulesetTest, BadAndOversizedRegexes) {
  const auto violations = Violated(absl::StrCat(R"pb(
    rules {
      id: "x"
      target { business_group: "cloud" team: "storage" }
      conditions { field: "title" op: OPERATOR_REGEX values: "(unclosed" }
      conditions {
        field: "title"
        op: OPERATOR_REGEX
        values: "[a-z]{0,500}[0-9]{0,500}x[a-z]{0,500}"
      }
    }
  )pb"));
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_EQ(violations[0].first, "ruleset.rules[1].conditions[0].values[0]");
  EXPECT_THAT(violations[0].second, ::testing::StartsWith("invalid RE2 pattern: missing )"));
  EXPECT_EQ(violations[1].first, "ruleset.rules[1].conditions[1].values[0]");
  EXPECT_THAT(violations[1].second, ::testing::StartsWith("pattern too large: RE2 program size"));
}

TEST(ValidateRulesetTest, SlaPolicies) {
  EXPECT_THAT(
      Violated(R"pb(
        sla_policies {
          id: "bad"
          ack_within {
            key: "HIGH"
            value { seconds: 60 }
          }
          ack_within {
            key: "SEVERITY_LOW"
            value { seconds: 0 }
          }
          resolve_within {
            key: "SEVERITY_LOW"
            value { seconds: 40000000 }
          }
        }
        business_groups {
          id: "gaming"
          default_sla_policy: "missing"
          teams { id: "xbox" }
        }
      )pb"),
      UnorderedElementsAre(
          Pair("ruleset.sla_policies[1].ack_within",
               "keys must be Severity names such as SEVERITY_CRITICAL, got \"HIGH\""),
          Pair("ruleset.sla_policies[1].ack_within[SEVERITY_LOW]",
               "must be positive and at most 366 days"),
          Pair("ruleset.sla_policies[1].resolve_within[SEVERITY_LOW]",
               "must be positive and at most 366 days"),
          Pair("ruleset.business_groups[2].default_sla_policy", "unknown SLA policy \"missing\"")));
}

TEST(ValidateRulesetTest, MalformedIdsAndEmptyGroups) {
  EXPECT_THAT(Fields(R"pb(
                business_groups { id: "Data AI" }
                business_groups {
                  id: "gaming"
                  teams { id: "" }
                }
                rules {
                  id: "-bad"
                  target { business_group: "cloud" team: "storage" }
                }
              )pb"),
              UnorderedElementsAre("ruleset.business_groups[2].id",
                                   "ruleset.business_groups[3].teams[0].id",
                                   "ruleset.business_groups[2].teams", "ruleset.rules[1].id"));
}

TEST(ValidateRulesetTest, Bounds) {
  v1::Ruleset ruleset;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kValid, &ruleset));
  for (int i = 0; i < kMaxRules; ++i) {
    v1::Rule* rule = ruleset.add_rules();
    rule->set_id(absl::StrCat("r", i));
    *rule->mutable_target() = ruleset.default_target();
  }
  Violations violations;
  ValidateRuleset(ruleset, "ruleset", violations);
  ASSERT_EQ(violations.list().size(), 1u);
  EXPECT_EQ(violations.list()[0].field, "ruleset.rules");
}

TEST(ValidateRulesetTest, RegexConditionsAreBoundedPerRuleset) {
  v1::Ruleset ruleset;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kValid, &ruleset));
  // kValid has one already.
  for (int i = 0; i < kMaxRegexConditions; ++i) {
    v1::Rule* rule = ruleset.add_rules();
    rule->set_id(absl::StrCat("r", i));
    *rule->mutable_target() = ruleset.default_target();
    v1::Condition* condition = rule->add_conditions();
    condition->set_field("title");
    condition->set_op(v1::OPERATOR_REGEX);
    condition->add_values(absl::StrCat("t", i, ".*"));
  }
  Violations violations;
  ValidateRuleset(ruleset, "ruleset", violations);
  ASSERT_EQ(violations.list().size(), 1u);
  EXPECT_EQ(violations.list()[0].field, "ruleset.rules");
  EXPECT_THAT(violations.list()[0].description, ::testing::HasSubstr("OPERATOR_REGEX"));
  ruleset.mutable_rules()->RemoveLast();
  Violations within;
  ValidateRuleset(ruleset, "ruleset", within);
  EXPECT_TRUE(within.empty());
}

TEST(ValidateRulesetTest, ACorrelationPolicyPasses) {
  EXPECT_THAT(Violated(R"pb(correlation_policies {
                              id: "regional-outage"
                              description: "One product failing in one region"
                              key_fields: [ "product", "region", "labels.cluster" ]
                              window { seconds: 7200 }
                              rules: "storage"
                              business_groups: "cloud"
                              escalation {
                                min_customers: 3
                                any_strategic_customer: true
                                raise_severity_to: SEVERITY_CRITICAL
                              }
                            }
                            correlation_policies {
                              id: "same-title"
                              key_fields: "title.fingerprint"
                              window { seconds: 2592000 }
                            })pb"),
              IsEmpty());
}

TEST(ValidateRulesetTest, EveryCorrelationPolicyViolationIsListed) {
  EXPECT_THAT(
      Violated(R"pb(correlation_policies {
                      id: "Bad Id"
                      key_fields: [ "title", "product", "product", "owner" ]
                      window { seconds: 0 }
                      rules: "no-such-rule"
                      business_groups: "no-such-group"
                      escalation { min_customers: 1 raise_severity_to: 42 }
                    }
                    correlation_policies {
                      id: "dup"
                      window { seconds: 2592001 }
                    }
                    correlation_policies { id: "dup" key_fields: "description" })pb"),
      ElementsAre(
          Pair("ruleset.correlation_policies[0].id", "must match [a-z0-9][a-z0-9._-]{0,62}"),
          Pair("ruleset.correlation_policies[0].key_fields[0]",
               "titles differ in every detail: use title.fingerprint"),
          Pair("ruleset.correlation_policies[0].key_fields[2]", "\"product\" is named twice"),
          Pair("ruleset.correlation_policies[0].key_fields[3]",
               ::testing::StartsWith("unknown key field; one of product,")),
          Pair("ruleset.correlation_policies[0].window", "must be positive and at most 30 days"),
          Pair("ruleset.correlation_policies[0].rules[0]", "unknown rule \"no-such-rule\""),
          Pair("ruleset.correlation_policies[0].business_groups[0]",
               "unknown business group \"no-such-group\""),
          Pair("ruleset.correlation_policies[0].escalation.min_customers", "0 (off) or 2..1000000"),
          Pair("ruleset.correlation_policies[0].escalation.raise_severity_to",
               "unknown Severity value 42"),
          Pair("ruleset.correlation_policies[1].key_fields", "at least one key field is required"),
          Pair("ruleset.correlation_policies[1].window", "must be positive and at most 30 days"),
          Pair("ruleset.correlation_policies[2].id",
               "duplicate correlation policy id \"dup\" (also correlation_policies[1])"),
          Pair("ruleset.correlation_policies[2].key_fields[0]",
               ::testing::StartsWith("unknown key field")),
          Pair("ruleset.correlation_policies[2].window", "required")));
}

TEST(ValidateRulesetTest, CorrelationPoliciesAreBounded) {
  v1::Ruleset ruleset;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kValid, &ruleset));
  for (int i = 0; i <= kMaxCorrelationPolicies; ++i) {
    v1::CorrelationPolicy* policy = ruleset.add_correlation_policies();
    policy->set_id(absl::StrCat("p", i));
    policy->add_key_fields("product");
    policy->mutable_window()->set_seconds(60);
  }
  Violations violations;
  ValidateRuleset(ruleset, "ruleset", violations);
  ASSERT_EQ(violations.list().size(), 1u);
  EXPECT_EQ(violations.list()[0].field, "ruleset.correlation_policies");
  v1::CorrelationPolicy* many = ruleset.mutable_correlation_policies(0);
  ruleset.mutable_correlation_policies()->DeleteSubrange(1, kMaxCorrelationPolicies);
  for (int i = 0; i < kMaxCorrelationKeyFields; ++i)
    many->add_key_fields(absl::StrCat("labels.k", i));
  Violations fields;
  ValidateRuleset(ruleset, "ruleset", fields);
  ASSERT_EQ(fields.list().size(), 1u);
  EXPECT_EQ(fields.list()[0].field, "ruleset.correlation_policies[0].key_fields");
}

constexpr char kDublinCalendar[] = R"pb(
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
)pb";

TEST(ValidateRulesetTest, CalendarsNamedByGroupsAndTeamsPass) {
  EXPECT_THAT(Violated(absl::StrCat(kDublinCalendar, R"pb(
                business_groups {
                  id: "care"
                  calendar: "dublin"
                  teams { id: "desk" }
                  teams { id: "night-desk" calendar: "dublin" }
                }
                sla_policies {
                  id: "business"
                  clock { key: "SEVERITY_LOW" value: SLA_CLOCK_BUSINESS }
                  clock { key: "SEVERITY_HIGH" value: SLA_CLOCK_UNSPECIFIED }
                  reopen_window { seconds: 604800 }
                }
              )pb")),
              IsEmpty());
}

TEST(ValidateRulesetTest, EveryCalendarAndClockViolationIsListed) {
  EXPECT_THAT(
      Violated(absl::StrCat(kDublinCalendar, R"pb(
        calendars {
          id: "dublin"
          time_zone: "Mars/Olympus_Mons"
          hours { days: WEEKDAY_MONDAY start: "18:00" end: "17:00" }
          holidays: "2026-13-01"
        }
        business_groups {
          id: "gaming"
          calendar: "nowhere"
          teams { id: "xbox" calendar: "elsewhere" }
        }
        sla_policies {
          id: "business"
          clock { key: "LOW" value: SLA_CLOCK_BUSINESS }
          reopen_window { seconds: 0 }
        }
        sla_policies {
          id: "long-reopen"
          reopen_window { seconds: 40000000 }
        }
      )pb")),
      UnorderedElementsAre(
          Pair("ruleset.calendars[1].id", "duplicate calendar id \"dublin\" (also calendars[0])"),
          Pair("ruleset.calendars[1].time_zone",
               "unknown time zone \"Mars/Olympus_Mons\"; use an IANA name such as Europe/Dublin"),
          Pair("ruleset.calendars[1].hours[0].end",
               "must be after start 18:00; hours do not run past midnight, so split a night shift "
               "into two entries"),
          Pair("ruleset.calendars[1].holidays[0]", "must be a date YYYY-MM-DD"),
          Pair("ruleset.business_groups[2].calendar", "unknown calendar \"nowhere\""),
          Pair("ruleset.business_groups[2].teams[0].calendar", "unknown calendar \"elsewhere\""),
          Pair("ruleset.sla_policies[1].clock",
               "keys must be Severity names such as SEVERITY_CRITICAL, got \"LOW\""),
          Pair("ruleset.sla_policies[1].reopen_window", "must be positive and at most 366 days"),
          Pair("ruleset.sla_policies[2].reopen_window", "must be positive and at most 366 days")));
}

TEST(ValidateRulesetTest, UnknownSlaClockValue) {
  v1::Ruleset ruleset;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kValid, &ruleset));
  (*ruleset.mutable_sla_policies(0)->mutable_clock())["SEVERITY_HIGH"] =
      static_cast<issue::v1::SlaClock>(7);
  Violations violations;
  ValidateRuleset(ruleset, "ruleset", violations);
  ASSERT_EQ(violations.list().size(), 1u);
  EXPECT_EQ(violations.list()[0].field, "ruleset.sla_policies[0].clock[SEVERITY_HIGH]");
  EXPECT_EQ(violations.list()[0].description, "unknown SlaClock value 7");
}

TEST(ValidateRulesetTest, CalendarsAreBounded) {
  v1::Ruleset ruleset;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(absl::StrCat(kValid, kDublinCalendar),
                                                            &ruleset));
  for (int i = 1; i <= kMaxCalendars; ++i) {
    issue::v1::Calendar& calendar = *ruleset.add_calendars();
    calendar = ruleset.calendars(0);
    calendar.set_id(absl::StrCat("office-", i));
  }
  Violations violations;
  ValidateRuleset(ruleset, "ruleset", violations);
  ASSERT_EQ(violations.list().size(), 1u);
  EXPECT_EQ(violations.list()[0].field, "ruleset.calendars");
  EXPECT_EQ(violations.list()[0].description, "at most 100 calendars");
}

}  // namespace
}  // namespace switchboard::routing
