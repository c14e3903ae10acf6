#include "common/authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/proto_file.h"

namespace switchboard {
namespace {

using ::testing::HasSubstr;

access::v1::AccessPolicy Policy(absl::string_view yaml) {
  access::v1::AccessPolicy policy;
  absl::Status parsed = ParseJsonOrYaml(yaml, policy);
  EXPECT_TRUE(parsed.ok()) << parsed;
  return policy;
}

constexpr char kPolicy[] = R"(
principals:
  - {name: crm.example.com, roles: [submitter], sources: [crm, crm-eu]}
  - {name: spiffe://example.com/storage-bot, roles: [team_member], teams: [storage-oncall]}
  - {name: ops, roles: [operator, ruleset_admin], rate_limit: {requests_per_second: 5}}
default_rate_limit: {requests_per_second: 100, burst: 20}
)";

std::unique_ptr<Authenticator> Make(absl::string_view tokens = "") {
  auto authenticator = Authenticator::Create(Policy(kPolicy), tokens);
  EXPECT_TRUE(authenticator.ok()) << authenticator.status();
  return authenticator.ok() ? std::move(*authenticator) : nullptr;
}

TEST(AuthenticatorTest, ACertificateNamesItsPrincipalByAnySubjectAlternativeName) {
  auto authenticator = Make();
  auto caller = authenticator->Authenticate("", {"10.0.0.7", "spiffe://example.com/storage-bot"});
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ((*caller)->name(), "spiffe://example.com/storage-bot");
  EXPECT_EQ((*caller)->caller_class(), "team_member");
  EXPECT_TRUE((*caller)->ActsForTeam("storage-oncall"));
  EXPECT_FALSE((*caller)->ActsForTeam("compute-oncall"));
  EXPECT_TRUE((*caller)->ActsAsSubscriber("teams/storage-oncall"));
  EXPECT_FALSE((*caller)->ActsAsSubscriber("business-groups/cloud"));
  EXPECT_FALSE((*caller)->Has(Role::kSubmitter));
}

TEST(AuthenticatorTest, UnknownCertificatesAreDeniedAndMissingCredentialsUnauthenticated) {
  auto authenticator = Make();
  auto stranger = authenticator->Authenticate("", {"stranger.example.com"});
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(stranger.status().message(), HasSubstr("stranger.example.com"));
  EXPECT_EQ(authenticator->Authenticate("", {}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(AuthenticatorTest, TokensAreMatchedByTheirHashAndDecideOverTheCertificate) {
  const std::string tokens = "# bots\n\nops   " + Authenticator::HashToken("s3cret") + "  \n";
  auto authenticator = Make(tokens);
  auto ops = authenticator->Authenticate("Bearer s3cret", {"crm.example.com"});
  ASSERT_TRUE(ops.ok()) << ops.status();
  EXPECT_EQ((*ops)->name(), "ops");
  EXPECT_TRUE((*ops)->Has(Role::kOperator));
  EXPECT_TRUE((*ops)->Has(Role::kRulesetAdmin));
  EXPECT_EQ((*ops)->caller_class(), "operator");
  for (absl::string_view header :
       {"Bearer wrong", "Bearer ", "bearer s3cret", "s3cret", "Basic czNjcmV0"}) {
    EXPECT_EQ(authenticator->Authenticate(header, {"crm.example.com"}).status().code(),
              absl::StatusCode::kUnauthenticated)
        << header;
  }
}

TEST(AuthenticatorTest, HashIsSha256Hex) {
  // printf %s test | sha256sum
  EXPECT_EQ(Authenticator::HashToken("test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
}

TEST(AuthenticatorTest, RateLimitsComeFromThePrincipalOrTheDefault) {
  auto authenticator = Make();
  auto ops = authenticator->Authenticate("", {"ops"});
  auto crm = authenticator->Authenticate("", {"crm.example.com"});
  ASSERT_TRUE(ops.ok() && crm.ok());
  EXPECT_EQ(authenticator->RateLimitOf(**ops).requests_per_second, 5);
  EXPECT_EQ(authenticator->RateLimitOf(**ops).burst, 5) << "burst 0 means one second's worth";
  EXPECT_EQ(authenticator->RateLimitOf(**crm).requests_per_second, 100);
  EXPECT_EQ(authenticator->RateLimitOf(**crm).burst, 20);
  auto services = Authenticator::Create(
      Policy("default_rate_limit: {requests_per_second: 1}\n"
             "principals: [{name: intake, roles: [service]},\n"
             "             {name: slow, roles: [service], rate_limit: {requests_per_second: 2}}]"),
      "");
  ASSERT_TRUE(services.ok()) << services.status();
  auto intake = (*services)->Authenticate("", {"intake"});
  auto slow = (*services)->Authenticate("", {"slow"});
  ASSERT_TRUE(intake.ok() && slow.ok());
  EXPECT_EQ((*services)->RateLimitOf(**intake).requests_per_second, 0) << "services: unlimited";
  EXPECT_EQ((*services)->RateLimitOf(**slow).requests_per_second, 2) << "unless they set one";
}

TEST(AuthenticatorTest, BadPoliciesAndTokenFilesAreRefusedWithTheReason) {
  const struct {
    const char* policy;
    const char* why;
  } policies[] = {
      {"principals: [{name: a}]", "needs at least one role"},
      {"principals: [{name: a, roles: [admin]}]", "unknown role \"admin\""},
      {"principals: [{name: '', roles: [operator]}]", "name must be"},
      {"principals: [{name: a, roles: [submitter]}]", "submitter without sources"},
      {"principals: [{name: a, roles: [team_member]}]", "team member without teams"},
      {"principals: [{name: a, roles: [submitter], sources: [Bad Source]}]", "invalid source"},
      {"principals: [{name: a, roles: [operator]}, {name: a, roles: [service]}]",
       "repeats the name"},
      {"principals: [{name: a, roles: [operator], rate_limit: {requests_per_second: -1}}]",
       "must not be negative"},
  };
  for (const auto& [yaml, why] : policies) {
    auto made = Authenticator::Create(Policy(yaml), "");
    EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument) << yaml;
    EXPECT_THAT(made.status().message(), HasSubstr(why)) << yaml;
  }
  const std::string hash = Authenticator::HashToken("x");
  const struct {
    std::string tokens;
    const char* why;
  } token_files[] = {
      {"ops", "line 1: want"},
      {"\nops s3cret", "line 2: the hash must be 64 hex digits"},
      {"nobody " + hash, "not a principal"},
      {"ops " + hash + "\nops " + hash, "repeats a token hash"},
  };
  for (const auto& [tokens, why] : token_files) {
    auto made = Authenticator::Create(Policy(kPolicy), tokens);
    EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument) << tokens;
    EXPECT_THAT(made.status().message(), HasSubstr(why)) << tokens;
  }
}

TEST(AuthenticatorTest, TheShippedPolicyAndTokenFileLoad) {
  auto loaded = Authenticator::Load(SWITCHBOARD_SOURCE_DIR "/deploy/k8s/base/access-policy.yaml",
                                    SWITCHBOARD_SOURCE_DIR "/deploy/k8s/base/tokens");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  for (const char* service :
       {"switchboard-intake", "switchboard-routing", "switchboard-notification"}) {
    auto caller = (*loaded)->Authenticate("", {service});
    ASSERT_TRUE(caller.ok()) << service;
    EXPECT_TRUE((*caller)->Has(Role::kService));
    EXPECT_EQ((*loaded)->RateLimitOf(**caller).requests_per_second, 0) << "services are unlimited";
  }
}

TEST(CallerTest, LocalMayDoEverythingAndDenialsNameTheCaller) {
  const Caller local = Caller::Local();
  EXPECT_TRUE(local.local());
  EXPECT_TRUE(local.Has(Role::kRulesetAdmin));
  EXPECT_TRUE(local.SubmitsAs("anything"));
  EXPECT_TRUE(local.ActsAsSubscriber("business-groups/cloud"));
  const Caller submitter("crm", {Role::kSubmitter}, {"crm"}, {});
  EXPECT_EQ(submitter.SoleSource(), "crm");
  EXPECT_TRUE(submitter.ActsAsSubscriber("sources/crm"));
  EXPECT_FALSE(submitter.ActsAsSubscriber("sources/crm-eu"));
  EXPECT_FALSE(submitter.ActsAsSubscriber("submitters/crm"));
  const absl::Status denied = submitter.Deny("apply rulesets");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "crm (submitter) may not apply rulesets");
  const Caller two_sources("x", {Role::kSubmitter}, {"a", "b"}, {});
  EXPECT_EQ(two_sources.SoleSource(), "");
}

}  // namespace
}  // namespace switchboard
