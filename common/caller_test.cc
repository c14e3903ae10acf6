#include "common/caller.h"

#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"

namespace switchboard {
namespace {

constexpr Role kAllRoles[] = {Role::kSubmitter, Role::kTeamMember, Role::kRulesetAdmin,
                              Role::kOperator, Role::kService};

TEST(RoleTest, NamesAreTheOnesThePolicyUsesAndParseBack) {
  EXPECT_EQ(RoleName(Role::kSubmitter), "submitter");
  EXPECT_EQ(RoleName(Role::kTeamMember), "team_member");
  EXPECT_EQ(RoleName(Role::kRulesetAdmin), "ruleset_admin");
  EXPECT_EQ(RoleName(Role::kOperator), "operator");
  EXPECT_EQ(RoleName(Role::kService), "service");
  ASSERT_EQ(std::size(kAllRoles), static_cast<size_t>(kRoleCount));
  for (Role role : kAllRoles) {
    Role parsed = role == Role::kService ? Role::kSubmitter : Role::kService;
    EXPECT_TRUE(ParseRole(RoleName(role), &parsed)) << RoleName(role);
    EXPECT_EQ(parsed, role) << RoleName(role);
  }
}

TEST(RoleTest, UnknownNamesDoNotParse) {
  for (absl::string_view name : {"", "admin", "Submitter", "submitter ", " operator", "team-member",
                                 "teammember", "local", "none"}) {
    Role role = Role::kOperator;
    EXPECT_FALSE(ParseRole(name, &role)) << "\"" << name << "\"";
  }
}

TEST(CallerTest, ClassIsTheFirstRoleAsTheCallerListsThem) {
  const Caller ops_first("a", {Role::kOperator, Role::kSubmitter}, {"crm"}, {});
  const Caller submitter_first("b", {Role::kSubmitter, Role::kOperator}, {"crm"}, {});
  EXPECT_EQ(ops_first.caller_class(), "operator");
  EXPECT_EQ(submitter_first.caller_class(), "submitter");
  EXPECT_EQ(ops_first.name(), "a");
  EXPECT_FALSE(ops_first.local());
  for (Role role : kAllRoles) {
    const Caller caller("x", {role}, {"crm"}, {"triage"});
    EXPECT_EQ(caller.caller_class(), RoleName(role));
  }
}

TEST(CallerTest, HasOnlyTheRolesItWasGiven) {
  const Caller caller("ops", {Role::kOperator, Role::kRulesetAdmin}, {}, {});
  EXPECT_TRUE(caller.Has(Role::kOperator));
  EXPECT_TRUE(caller.Has(Role::kRulesetAdmin));
  EXPECT_FALSE(caller.Has(Role::kSubmitter));
  EXPECT_FALSE(caller.Has(Role::kTeamMember));
  EXPECT_FALSE(caller.Has(Role::kService));
  EXPECT_TRUE(caller.HasAny({Role::kService, Role::kOperator}));
  EXPECT_FALSE(caller.HasAny({Role::kService, Role::kSubmitter}));
  EXPECT_FALSE(caller.HasAny({}));
}

TEST(CallerTest, SubmitterActsOnlyForItsSources) {
  const Caller crm("crm.example.com", {Role::kSubmitter}, {"crm", "crm-eu"}, {});
  EXPECT_TRUE(crm.SubmitsAs("crm"));
  EXPECT_TRUE(crm.SubmitsAs("crm-eu"));
  EXPECT_FALSE(crm.SubmitsAs("partner-portal"));
  EXPECT_FALSE(crm.SubmitsAs("CRM"));
  EXPECT_FALSE(crm.SubmitsAs("crm-e"));
  EXPECT_FALSE(crm.SubmitsAs(""));
  EXPECT_FALSE(crm.ActsForTeam("crm")) << "a source is not a team";
  EXPECT_EQ(crm.sources(), (absl::flat_hash_set<std::string>{"crm", "crm-eu"}));
  EXPECT_TRUE(crm.teams().empty());
}

TEST(CallerTest, SourcesWithoutTheSubmitterRoleGrantNothing) {
  const Caller ops("ops", {Role::kOperator}, {"crm"}, {});
  EXPECT_FALSE(ops.SubmitsAs("crm"));
  EXPECT_FALSE(ops.ActsAsSubscriber("sources/crm"));
  EXPECT_EQ(ops.SoleSource(), "");
}

TEST(CallerTest, TeamMemberActsOnlyForItsTeams) {
  const Caller bot("storage-bot", {Role::kTeamMember}, {}, {"storage-oncall", "triage"});
  EXPECT_TRUE(bot.ActsForTeam("storage-oncall"));
  EXPECT_TRUE(bot.ActsForTeam("triage"));
  EXPECT_FALSE(bot.ActsForTeam("compute-oncall"));
  EXPECT_FALSE(bot.ActsForTeam("Triage"));
  EXPECT_FALSE(bot.ActsForTeam(""));
  EXPECT_FALSE(bot.SubmitsAs("triage")) << "a team is not a source";
  const Caller no_role("storage-bot", {Role::kOperator}, {}, {"storage-oncall"});
  EXPECT_FALSE(no_role.ActsForTeam("storage-oncall")) << "teams without the team_member role";
}

TEST(CallerTest, SubscribersAreTeamsOfAMemberOrSourcesOfASubmitter) {
  const Caller both("both", {Role::kTeamMember, Role::kSubmitter}, {"crm"}, {"triage"});
  EXPECT_TRUE(both.ActsAsSubscriber("teams/triage"));
  EXPECT_TRUE(both.ActsAsSubscriber("sources/crm"));
  for (absl::string_view subscriber :
       {"teams/crm", "sources/triage", "teams/storage", "sources/portal", "teams/", "sources/",
        "teams", "triage", "crm", "", "Teams/triage", "/teams/triage", "teams/triage/x",
        "teams//triage", "business-groups/triage", "submitters/crm"}) {
    EXPECT_FALSE(both.ActsAsSubscriber(subscriber)) << "\"" << subscriber << "\"";
  }
}

TEST(CallerTest, SoleSourceOnlyForASubmitterWithExactlyOneSource) {
  EXPECT_EQ(Caller("a", {Role::kSubmitter}, {"crm"}, {}).SoleSource(), "crm");
  EXPECT_EQ(Caller("a", {Role::kOperator, Role::kSubmitter}, {"crm"}, {}).SoleSource(), "crm");
  EXPECT_EQ(Caller("a", {Role::kSubmitter}, {"crm", "crm-eu"}, {}).SoleSource(), "");
  EXPECT_EQ(Caller("a", {Role::kSubmitter}, {}, {}).SoleSource(), "");
  EXPECT_EQ(Caller("a", {Role::kTeamMember}, {}, {"triage"}).SoleSource(), "");
}

TEST(CallerTest, LocalHoldsEveryPermissionButNoSoleSource) {
  const Caller local = Caller::Local();
  EXPECT_TRUE(local.local());
  EXPECT_EQ(local.name(), "local");
  EXPECT_EQ(local.caller_class(), "local");
  for (Role role : kAllRoles) EXPECT_TRUE(local.Has(role)) << RoleName(role);
  EXPECT_TRUE(local.HasAny({Role::kService}));
  EXPECT_TRUE(local.SubmitsAs("any-source"));
  EXPECT_TRUE(local.ActsForTeam("any-team"));
  EXPECT_TRUE(local.ActsAsSubscriber("teams/any-team"));
  EXPECT_TRUE(local.ActsAsSubscriber("not a subscriber name"));
  EXPECT_TRUE(local.sources().empty());
  EXPECT_TRUE(local.teams().empty());
  // Local submits as whatever its request names; it has no default.
  EXPECT_EQ(local.SoleSource(), "");
}

TEST(CallerTest, DenyIsPermissionDeniedNamingTheCallerItsClassAndTheAction) {
  const Caller bot("spiffe://example.com/bot", {Role::kTeamMember, Role::kOperator}, {},
                   {"triage"});
  const absl::Status denied = bot.Deny("resolve issues of team storage");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "spiffe://example.com/bot (team_member) may not resolve issues of team storage");
  const absl::Status local = Caller::Local().Deny("do this");
  EXPECT_EQ(local.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(local.message(), "local (local) may not do this");
}

}  // namespace
}  // namespace switchboard
