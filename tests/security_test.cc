// The three services run as production runs them: TLS with client
// certificates required (mutual TLS), an access policy and a token file,
// plaintext health ports for probes. Certificates are made at test time by
// scripts/gen-test-certs.sh. Each test is one caller, or a few, against that
// stack: who gets in, who may do what, what is recorded, and quotas.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/authenticator.h"
#include "common/status.h"
#include "common/testing/probes.h"
#include "common/testing/subprocess.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/stack.h"

namespace switchboard::testing {
namespace {

using intake::v1::IntakeService;
using issue::v1::Issue;
using notification::v1::NotificationService;
using routing::v1::RoutingService;
using ::testing::HasSubstr;

constexpr char kAliceToken[] = "alice-secret-token-0123456789";

constexpr char kPolicy[] = R"(
principals:
  - {name: switchboard-intake, roles: [service], rate_limit: {}}
  - {name: switchboard-routing, roles: [service], rate_limit: {}}
  - {name: switchboard-notification, roles: [service], rate_limit: {}}
  - {name: crm, roles: [submitter], sources: [crm]}
  - {name: portal, roles: [submitter], sources: [partner-portal]}
  - {name: secops-bot, roles: [team_member], teams: [security-response]}
  - {name: triage-bot, roles: [team_member], teams: [triage]}
  - {name: rules-admin, roles: [ruleset_admin]}
  - {name: ops, roles: [operator]}
  - {name: cli-alice, roles: [team_member], teams: [security-response]}
  - name: noisy
    roles: [submitter]
    sources: [noisy]
    rate_limit: {requests_per_second: 0.2, burst: 2}
default_rate_limit: {requests_per_second: 1000, burst: 2000}
)";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("security_test"));
    const std::string certs = *dir_ + "/certs";
    auto script = Subprocess::Start(
        "/bin/bash",
        {SWITCHBOARD_SOURCE_DIR "/scripts/gen-test-certs.sh", certs, "crm", "portal", "secops-bot",
         "triage-bot", "rules-admin", "ops", "noisy", "stranger", "switchboard-intake",
         "switchboard-routing", "switchboard-notification"},
        {});
    ASSERT_TRUE(script.ok()) << script.status();
    ASSERT_EQ((*script)->Wait(absl::Seconds(60)).value_or(-1), 0) << "gen-test-certs.sh failed";
    std::ofstream(*dir_ + "/policy.yaml") << kPolicy;
    std::ofstream(*dir_ + "/tokens")
        << "# principal  sha256\n"
        << "cli-alice " << Authenticator::HashToken(kAliceToken) << "\n";
    Stack::Options options;
    options.common_flags = {
        "--tls_cert_file=" + certs + "/{service}.pem", "--tls_key_file=" + certs + "/{service}.key",
        "--tls_client_ca_file=" + certs + "/ca.pem",
        "--access_policy_file=" + *dir_ + "/policy.yaml", "--token_file=" + *dir_ + "/tokens"};
    options.health_port = true;
    auto stack = Stack::Launch(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
  }

  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  void SetUp() override { ASSERT_NE(stack_, nullptr) << "the secure stack did not start"; }

  // A channel to `service` as `identity`: the certificate NAME.pem from the
  // test CA, or "" for none. `ca` is the file the server is verified with.
  static std::shared_ptr<grpc::Channel> ChannelAs(Service service, const std::string& identity,
                                                  const std::string& ca = "ca") {
    const std::string certs = *dir_ + "/certs/";
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(certs + ca + ".pem");
    if (!identity.empty()) {
      options.pem_cert_chain = ReadFile(certs + identity + ".pem");
      options.pem_private_key = ReadFile(certs + identity + ".key");
    }
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one handshake per identity
    return grpc::CreateCustomChannel(stack_->target(service), grpc::SslCredentials(options), args);
  }

  static std::unique_ptr<IntakeService::Stub> Intake(const std::string& identity) {
    return IntakeService::NewStub(ChannelAs(Service::kIntake, identity));
  }
  static std::unique_ptr<NotificationService::Stub> Notification(const std::string& identity) {
    return NotificationService::NewStub(ChannelAs(Service::kNotification, identity));
  }
  static std::unique_ptr<RoutingService::Stub> Routing(const std::string& identity) {
    return RoutingService::NewStub(ChannelAs(Service::kRouting, identity));
  }

  static void Deadline(grpc::ClientContext& context) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  }

  // SubmitIssue as `identity`, of a product the sample ruleset routes to
  // security/security-response.
  static grpc::Status Submit(const std::string& identity, const std::string& source, Issue* issue) {
    intake::v1::SubmitIssueRequest request;
    request.set_request_id(absl::StrCat(identity, "-", absl::ToUnixNanos(absl::Now())));
    Issue& input = *request.mutable_issue();
    input.set_title("Alerts stopped arriving");
    input.set_product("defender");
    input.set_severity(issue::v1::SEVERITY_HIGH);
    input.mutable_customer()->set_id("cust-42");
    input.set_source(source);
    grpc::ClientContext context;
    Deadline(context);
    return Intake(identity)->SubmitIssue(&context, request, issue);
  }

  static absl::StatusOr<Issue> GetAs(const std::string& identity, const std::string& name) {
    intake::v1::GetIssueRequest request;
    request.set_name(name);
    grpc::ClientContext context;
    Deadline(context);
    Issue issue;
    grpc::Status status = Intake(identity)->GetIssue(&context, request, &issue);
    if (!status.ok()) return FromGrpcStatus(status);
    return issue;
  }

  // Submits as crm and waits (as ops) until routing, over mutual TLS, has
  // routed the issue.
  static Issue SubmitRouted() {
    Issue issue;
    grpc::Status submitted = Submit("crm", "", &issue);
    EXPECT_TRUE(submitted.ok()) << submitted.error_message();
    for (int i = 0; i < 200; ++i) {
      absl::StatusOr<Issue> current = GetAs("ops", issue.name());
      if (current.ok() && current->state() == issue::v1::STATE_ROUTED) return *current;
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "issue " << issue.name() << " was not routed";
    return issue;
  }

  static grpc::Status Acknowledge(const std::string& identity, const Issue& issue) {
    intake::v1::AcknowledgeIssueRequest request;
    request.set_name(issue.name());
    grpc::ClientContext context;
    Deadline(context);
    Issue updated;
    return Intake(identity)->AcknowledgeIssue(&context, request, &updated);
  }

  static grpc::Status Resolve(const std::string& identity, const Issue& issue) {
    intake::v1::ResolveIssueRequest request;
    request.set_name(issue.name());
    request.set_resolution("rotated the alerting credentials");
    grpc::ClientContext context;
    Deadline(context);
    Issue updated;
    return Intake(identity)->ResolveIssue(&context, request, &updated);
  }

  static grpc::Status ListNotifications(const std::string& identity, const std::string& subscriber,
                                        notification::v1::ListNotificationsResponse* response,
                                        const std::string& token = "") {
    notification::v1::ListNotificationsRequest request;
    request.set_subscriber(subscriber);
    request.set_page_size(1000);
    grpc::ClientContext context;
    Deadline(context);
    if (!token.empty()) context.AddMetadata("authorization", token);
    return Notification(identity)->ListNotifications(&context, request, response);
  }

  static std::string* dir_;
  static Stack* stack_;
};

std::string* SecurityTest::dir_ = nullptr;
Stack* SecurityTest::stack_ = nullptr;

TEST_F(SecurityTest, HealthAnswersInPlaintextOnItsOwnPortOnly) {
  for (Service service : {Service::kIntake, Service::kRouting, Service::kNotification}) {
    auto health = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(stack_->health_target(service), grpc::InsecureChannelCredentials()));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    grpc::ClientContext context;
    Deadline(context);
    ASSERT_TRUE(health->Check(&context, request, &response).ok());
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

    // The health port serves nothing else.
    auto intake = IntakeService::NewStub(
        grpc::CreateChannel(stack_->health_target(service), grpc::InsecureChannelCredentials()));
    grpc::ClientContext list_context;
    Deadline(list_context);
    intake::v1::ListIssuesResponse listed;
    EXPECT_EQ(intake->ListIssues(&list_context, {}, &listed).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  // And the gRPC port speaks nothing but TLS.
  auto plaintext = IntakeService::NewStub(
      grpc::CreateChannel(stack_->target(Service::kIntake), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  Deadline(context);
  intake::v1::ListIssuesResponse listed;
  EXPECT_EQ(plaintext->ListIssues(&context, {}, &listed).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, CallersWithoutATrustedCertificateAreTurnedAway) {
  // No certificate, one from another CA that claims a known name, an expired
  // one: the handshake fails, so the call never reaches the service.
  for (const char* identity : {"", "rogue", "expired"}) {
    grpc::ClientContext context;
    Deadline(context);
    intake::v1::ListIssuesResponse listed;
    grpc::Status status = IntakeService::NewStub(ChannelAs(Service::kIntake, identity))
                              ->ListIssues(&context, {}, &listed);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << "as '" << identity << "'";
  }
  // A certificate from the right CA whose names the policy does not list:
  // known, but granted nothing.
  Issue issue;
  grpc::Status stranger = Submit("stranger", "crm", &issue);
  EXPECT_EQ(stranger.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(stranger.error_message(), HasSubstr("names no principal"));
  // A server verified against the wrong CA is refused by the client too.
  grpc::ClientContext context;
  Deadline(context);
  intake::v1::ListIssuesResponse listed;
  EXPECT_EQ(IntakeService::NewStub(ChannelAs(Service::kIntake, "crm", "rogue-ca"))
                ->ListIssues(&context, {}, &listed)
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // Nobody died of it.
  EXPECT_TRUE(Submit("crm", "", &issue).ok());
}

TEST_F(SecurityTest, SubmittersSubmitAndReadOnlyAsTheirOwnSource) {
  Issue issue;
  ASSERT_TRUE(Submit("crm", "", &issue).ok());
  EXPECT_EQ(issue.source(), "crm") << "the source comes from the identity";
  Issue ignored;
  grpc::Status claimed = Submit("crm", "partner-portal", &ignored);
  EXPECT_EQ(claimed.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(claimed.error_message(), HasSubstr("partner-portal"));
  EXPECT_EQ(Submit("ops", "crm", &ignored).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Submit("secops-bot", "crm", &ignored).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  EXPECT_TRUE(GetAs("crm", issue.name()).ok());
  EXPECT_TRUE(GetAs("ops", issue.name()).ok()) << "operators read everything";
  EXPECT_EQ(GetAs("portal", issue.name()).status().code(), absl::StatusCode::kPermissionDenied);

  // ListIssues shows each submitter its own source only.
  Issue portal_issue;
  ASSERT_TRUE(Submit("portal", "", &portal_issue).ok());
  EXPECT_EQ(portal_issue.source(), "partner-portal");
  for (const auto& [identity, source] : std::vector<std::pair<std::string, std::string>>{
           {"crm", "crm"}, {"portal", "partner-portal"}}) {
    grpc::ClientContext context;
    Deadline(context);
    intake::v1::ListIssuesRequest request;
    request.set_page_size(1000);
    intake::v1::ListIssuesResponse listed;
    ASSERT_TRUE(Intake(identity)->ListIssues(&context, request, &listed).ok());
    EXPECT_FALSE(listed.issues().empty());
    for (const Issue& seen : listed.issues()) EXPECT_EQ(seen.source(), source) << identity;
  }
  grpc::ClientContext context;
  Deadline(context);
  intake::v1::ListIssuesResponse listed;
  EXPECT_EQ(Intake("rules-admin")->ListIssues(&context, {}, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SecurityTest, OnlyTheOwningTeamActsOnAnIssueAndEachChangeRecordsWho) {
  const Issue routed = SubmitRouted();
  ASSERT_EQ(routed.assignment().target().team(), "security-response");
  EXPECT_EQ(Acknowledge("triage-bot", routed).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Acknowledge("crm", routed).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Acknowledge("ops", routed).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Acknowledge("secops-bot", routed).ok());

  // Transfer to triage: from then on triage acts, and security does not.
  intake::v1::TransferIssueRequest transfer;
  transfer.set_name(routed.name());
  transfer.mutable_target()->set_business_group("customer-care");
  transfer.mutable_target()->set_team("triage");
  transfer.set_reason("not a security product problem");
  transfer.set_actor("dana");  // a person, on whose behalf the bot acts
  grpc::ClientContext context;
  Deadline(context);
  Issue transferred;
  ASSERT_TRUE(Intake("secops-bot")->TransferIssue(&context, transfer, &transferred).ok());
  EXPECT_EQ(Acknowledge("secops-bot", transferred).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Acknowledge("triage-bot", transferred).ok());
  // Resolving too is for the owning team only.
  EXPECT_EQ(Resolve("secops-bot", transferred).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Resolve("crm", transferred).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Resolve("triage-bot", transferred).ok());

  // The events name the authenticated caller, and the actor (defaulted to
  // the caller when the request names none).
  notification::v1::ListNotificationsResponse log;
  ASSERT_TRUE(ListNotifications("secops-bot", "teams/security-response", &log).ok());
  int acknowledged = 0;
  int transfers = 0;
  for (const auto& notification : log.notifications()) {
    const issue::v1::IssueEvent& event = notification.event();
    if (event.issue().name() != routed.name()) continue;
    if (event.type() == issue::v1::EVENT_TYPE_ACKNOWLEDGED) {
      ++acknowledged;
      EXPECT_EQ(event.caller(), "secops-bot");
      EXPECT_EQ(event.actor(), "secops-bot");
    }
    if (event.type() == issue::v1::EVENT_TYPE_TRANSFERRED) {
      ++transfers;
      EXPECT_EQ(event.caller(), "secops-bot");
      EXPECT_EQ(event.actor(), "dana");
    }
  }
  EXPECT_EQ(acknowledged, 1);
  EXPECT_EQ(transfers, 1);
}

TEST_F(SecurityTest, BearerTokensNameTheirPrincipal) {
  notification::v1::ListNotificationsResponse log;
  // ops may read anything; its certificate with alice's token is alice,
  // a member of security-response only.
  EXPECT_TRUE(ListNotifications("ops", "teams/triage", &log).ok());
  const std::string alice = absl::StrCat("Bearer ", kAliceToken);
  EXPECT_TRUE(ListNotifications("ops", "teams/security-response", &log, alice).ok());
  EXPECT_EQ(ListNotifications("ops", "teams/triage", &log, alice).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A token that is wrong does not fall back to the certificate.
  grpc::Status wrong = ListNotifications("ops", "teams/triage", &log, "Bearer not-a-token");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListNotifications("ops", "teams/triage", &log, "Basic b3BzOm9wcw==").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SecurityTest, NotificationsAreTheirSubscribersOwn) {
  notification::v1::ListNotificationsResponse log;
  EXPECT_TRUE(ListNotifications("triage-bot", "teams/triage", &log).ok());
  EXPECT_EQ(ListNotifications("triage-bot", "teams/security-response", &log).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(ListNotifications("crm", "sources/crm", &log).ok());
  EXPECT_EQ(ListNotifications("crm", "sources/partner-portal", &log).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ListNotifications("crm", "business-groups/security", &log).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Subscribe is checked before the stream starts.
  notification::v1::SubscribeRequest subscribe;
  subscribe.set_subscriber("teams/security-response");
  grpc::ClientContext context;
  Deadline(context);
  auto stream = Notification("triage-bot")->Subscribe(&context, subscribe);
  notification::v1::Notification first;
  EXPECT_FALSE(stream->Read(&first));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // Publishing is for services; redriving dead letters for operators.
  grpc::ClientContext publish_context;
  Deadline(publish_context);
  notification::v1::PublishRequest publish;
  notification::v1::PublishResponse published;
  EXPECT_EQ(Notification("crm")->Publish(&publish_context, publish, &published).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  for (const auto& [identity, code] : std::vector<std::pair<std::string, grpc::StatusCode>>{
           {"secops-bot", grpc::StatusCode::PERMISSION_DENIED}, {"ops", grpc::StatusCode::OK}}) {
    grpc::ClientContext redrive_context;
    Deadline(redrive_context);
    notification::v1::RedriveDeadLettersResponse redriven;
    EXPECT_EQ(
        Notification(identity)->RedriveDeadLetters(&redrive_context, {}, &redriven).error_code(),
        code)
        << identity;
  }
}

TEST_F(SecurityTest, RulesetChangesNeedARulesetAdminAndRecordWho) {
  grpc::ClientContext get_context;
  Deadline(get_context);
  routing::v1::Ruleset active;
  ASSERT_TRUE(Routing("secops-bot")->GetRuleset(&get_context, {}, &active).ok());
  routing::v1::ApplyRulesetRequest apply;
  *apply.mutable_ruleset() = active;
  apply.mutable_ruleset()->mutable_rules(0)->set_description("reviewed by the admins");
  for (const char* identity : {"secops-bot", "ops", "crm"}) {
    grpc::ClientContext context;
    Deadline(context);
    routing::v1::Ruleset applied;
    EXPECT_EQ(Routing(identity)->ApplyRuleset(&context, apply, &applied).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << identity;
  }
  grpc::ClientContext context;
  Deadline(context);
  routing::v1::Ruleset applied;
  ASSERT_TRUE(Routing("rules-admin")->ApplyRuleset(&context, apply, &applied).ok());
  EXPECT_EQ(applied.author(), "rules-admin");
  EXPECT_GT(applied.revision(), active.revision());
}

TEST_F(SecurityTest, RateLimitsHoldPerCallerAndSayWhenToRetry) {
  // noisy: a burst of 2, then one call per 5 s.
  int exhausted = 0;
  absl::Duration retry_after;
  for (int i = 0; i < 4; ++i) {
    grpc::ClientContext context;
    Deadline(context);
    intake::v1::ListIssuesResponse listed;
    grpc::Status status = Intake("noisy")->ListIssues(&context, {}, &listed);
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++exhausted;
      absl::optional<absl::Duration> delay = GetRetryDelay(FromGrpcStatus(status));
      ASSERT_TRUE(delay.has_value()) << "RESOURCE_EXHAUSTED without RetryInfo";
      retry_after = *delay;
    } else {
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
  }
  EXPECT_GE(exhausted, 2);
  EXPECT_GT(retry_after, absl::ZeroDuration());
  EXPECT_LE(retry_after, absl::Seconds(5));
  // Others are not held back by noisy.
  Issue issue;
  EXPECT_TRUE(Submit("crm", "", &issue).ok());

  absl::StatusOr<std::string> page = FetchMetrics(stack_->metrics_port(Service::kIntake));
  ASSERT_TRUE(page.ok()) << page.status();
  absl::StatusOr<double> limited = SampleValue(
      *page, R"(switchboard_calls_refused_total{caller_class="submitter",reason="rate_limited"})");
  ASSERT_TRUE(limited.ok()) << limited.status();
  EXPECT_GE(*limited, 2);
  absl::StatusOr<double> admitted =
      SampleValue(*page, R"(switchboard_calls_admitted_total{caller_class="submitter"})");
  EXPECT_TRUE(admitted.ok()) << admitted.status();
}

TEST_F(SecurityTest, TheCommandLineClientCallsOverMutualTlsOrWithAToken) {
  const std::string certs = *dir_ + "/certs/";
  std::ofstream(*dir_ + "/alice.token") << kAliceToken << "\n";
  const auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> all = {"--intake=" + stack_->target(Service::kIntake),
                                    "--routing=" + stack_->target(Service::kRouting),
                                    "--notification=" + stack_->target(Service::kNotification),
                                    "--ca=" + certs + "ca.pem"};
    all.insert(all.end(), args.begin(), args.end());
    auto process = Subprocess::Start(BinaryPath("switchboard"), all,
                                     {.capture_stdout = true, .stderr_path = *dir_ + "/cli.err"});
    EXPECT_TRUE(process.ok()) << process.status();
    std::pair<int, std::string> result{-1, ""};
    if (!process.ok()) return result;
    result.second = (*process)->ReadToEnd(absl::Seconds(30));
    result.first = (*process)->Wait(absl::Seconds(30)).value_or(-1);
    return result;
  };
  Issue issue;
  ASSERT_TRUE(Submit("crm", "", &issue).ok());
  const std::vector<std::string> as_crm = {"--cert=" + certs + "crm.pem",
                                           "--key=" + certs + "crm.key"};
  auto listed = run({as_crm[0], as_crm[1], "--json", "issue", "list", "--page-size=1000"});
  EXPECT_EQ(listed.first, 0) << ReadFile(*dir_ + "/cli.err");
  EXPECT_THAT(listed.second, HasSubstr(issue.name()));
  EXPECT_THAT(listed.second, ::testing::Not(HasSubstr("partner-portal")));
  auto health = run({as_crm[0], as_crm[1], "health"});
  EXPECT_EQ(health.first, 0) << health.second << ReadFile(*dir_ + "/cli.err");
  // ops' certificate carrying alice's token is alice, who may read issues
  // her team owns (this one); a wrong token is nobody.
  const std::vector<std::string> as_ops = {"--cert=" + certs + "ops.pem",
                                           "--key=" + certs + "ops.key"};
  auto alice = run({as_ops[0], as_ops[1], "--token-file=" + *dir_ + "/alice.token", "issue", "get",
                    issue.name()});
  EXPECT_EQ(alice.first, 0) << ReadFile(*dir_ + "/cli.err");
  std::ofstream(*dir_ + "/wrong.token") << "not-a-token\n";
  auto wrong = run({as_ops[0], as_ops[1], "--token-file=" + *dir_ + "/wrong.token", "issue", "get",
                    issue.name()});
  EXPECT_EQ(wrong.first, 1);
  EXPECT_THAT(ReadFile(*dir_ + "/cli.err"), HasSubstr("UNAUTHENTICATED"));
  auto denied = run({"--cert=" + certs + "portal.pem", "--key=" + certs + "portal.key", "issue",
                     "get", issue.name()});
  EXPECT_EQ(denied.first, 1);
  EXPECT_THAT(ReadFile(*dir_ + "/cli.err"), HasSubstr("PERMISSION_DENIED"));
  // Without a certificate the handshake fails.
  auto anonymous = run({"issue", "list"});
  EXPECT_EQ(anonymous.first, 1);
}

}  // namespace
}  // namespace switchboard::testing
