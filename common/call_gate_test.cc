#include "common/call_gate.h"

#include <grpcpp/server_context.h>
#include <grpcpp/test/server_context_test_spouse.h>
#include <prometheus/registry.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/proto_file.h"
#include "common/status.h"

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Each principal's token is its name and "-token".
constexpr char kPolicy[] = R"(
principals:
  - {name: crm, roles: [submitter], sources: [crm]}
  - {name: ops, roles: [operator, ruleset_admin]}
  - {name: intake, roles: [service]}
  - name: noisy
    roles: [submitter]
    sources: [noisy]
    rate_limit: {requests_per_second: 2, burst: 2}
  - name: thirds
    roles: [team_member]
    teams: [triage]
    rate_limit: {requests_per_second: 3, burst: 1}
  - name: shared
    roles: [team_member]
    teams: [triage]
    rate_limit: {requests_per_second: 1, burst: 100}
default_rate_limit: {requests_per_second: 1000, burst: 1000}
)";

constexpr char kAdmitted[] = "switchboard_calls_admitted_total";
constexpr char kRefused[] = "switchboard_calls_refused_total";

// A server context as a call would have it, with the client's
// authorization header if any (no peer certificate: the context has no
// call, so no auth context).
class FakeCall {
 public:
  explicit FakeCall(absl::string_view authorization = "") : spouse_(&context_) {
    if (!authorization.empty()) {
      spouse_.AddClientMetadata("authorization", std::string(authorization));
    }
  }

  const grpc::ServerContext& context() const { return context_; }

 private:
  grpc::ServerContext context_;
  grpc::testing::ServerContextTestSpouse spouse_;
};

std::string Bearer(absl::string_view principal) {
  return absl::StrCat("Bearer ", principal, "-token");
}

// Every series of counter family `name`, keyed by its labels as
// "name=value,name=value" (in label name order).
std::map<std::string, double> Series(prometheus::Registry& registry, absl::string_view name) {
  std::map<std::string, double> series;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      std::string key;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        absl::StrAppend(&key, key.empty() ? "" : ",", label.name, "=", label.value);
      }
      series[key] = metric.counter.value;
    }
  }
  return series;
}

// The series of `name` that are not zero.
std::map<std::string, double> Counted(prometheus::Registry& registry, absl::string_view name) {
  std::map<std::string, double> counted;
  for (const auto& [labels, value] : Series(registry, name)) {
    if (value != 0) counted[labels] = value;
  }
  return counted;
}

std::unique_ptr<Authenticator> MakeAuthenticator() {
  access::v1::AccessPolicy policy;
  const absl::Status parsed = ParseJsonOrYaml(kPolicy, policy);
  EXPECT_TRUE(parsed.ok()) << parsed;
  std::string tokens;
  for (const access::v1::Principal& principal : policy.principals()) {
    absl::StrAppend(&tokens, principal.name(), " ",
                    Authenticator::HashToken(principal.name() + "-token"), "\n");
  }
  auto authenticator = Authenticator::Create(policy, tokens);
  EXPECT_TRUE(authenticator.ok()) << authenticator.status();
  return authenticator.ok() ? std::move(*authenticator) : nullptr;
}

class CallGateTest : public ::testing::Test {
 protected:
  CallGateTest() : gate_(MakeAuthenticator(), clock_, registry_) {}

  absl::StatusOr<const Caller*> Admit(absl::string_view authorization) {
    FakeCall call(authorization);
    return gate_.Admit(call.context());
  }

  FakeClock clock_;
  prometheus::Registry registry_;
  CallGate gate_;
};

TEST(OpenCallGateTest, AdmitsEveryoneAsLocalAndAuthenticatesNobody) {
  CallGate& gate = CallGate::Open();
  EXPECT_EQ(&gate, &CallGate::Open());
  EXPECT_FALSE(gate.authenticates());
  for (absl::string_view authorization : {"", "Bearer whatever", "garbage"}) {
    FakeCall call(authorization);
    absl::StatusOr<const Caller*> caller = gate.Admit(call.context());
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_TRUE((*caller)->local());
    EXPECT_EQ((*caller)->name(), "local");
  }
}

TEST(OpenCallGateTest, WithoutAnAuthenticatorEveryCallerIsLocalAndCounted) {
  FakeClock clock;
  prometheus::Registry registry;
  CallGate gate(nullptr, clock, registry);
  EXPECT_FALSE(gate.authenticates());
  const Caller* first = nullptr;
  for (absl::string_view authorization : {"", "Bearer whatever", "garbage"}) {
    FakeCall call(authorization);
    absl::StatusOr<const Caller*> caller = gate.Admit(call.context());
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_TRUE((*caller)->local());
    if (first == nullptr) first = *caller;
    EXPECT_EQ(*caller, first) << "one caller, living as long as the gate";
  }
  EXPECT_EQ(Counted(registry, kAdmitted),
            (std::map<std::string, double>{{"caller_class=local", 3}}));
  EXPECT_THAT(Counted(registry, kRefused), ::testing::IsEmpty());
}

TEST_F(CallGateTest, EverySeriesIsThereFromTheStartAtZero) {
  EXPECT_TRUE(gate_.authenticates());
  const std::vector<std::string> classes = {"local",         "submitter", "team_member",
                                            "ruleset_admin", "operator",  "service"};
  std::map<std::string, double> admitted;
  std::map<std::string, double> refused = {
      {"caller_class=unknown,reason=unauthenticated", 0},
      {"caller_class=unknown,reason=permission_denied", 0},
  };
  for (const std::string& caller_class : classes) {
    admitted["caller_class=" + caller_class] = 0;
    refused[absl::StrCat("caller_class=", caller_class, ",reason=rate_limited")] = 0;
    refused[absl::StrCat("caller_class=", caller_class, ",reason=permission_denied")] = 0;
  }
  EXPECT_EQ(Series(registry_, kAdmitted), admitted);
  EXPECT_EQ(Series(registry_, kRefused), refused);
}

TEST_F(CallGateTest, ATokenAdmitsItsPrincipalCountedByItsClass) {
  absl::StatusOr<const Caller*> crm = Admit(Bearer("crm"));
  ASSERT_TRUE(crm.ok()) << crm.status();
  EXPECT_EQ((*crm)->name(), "crm");
  EXPECT_FALSE((*crm)->local());
  EXPECT_TRUE((*crm)->SubmitsAs("crm"));
  absl::StatusOr<const Caller*> again = Admit(Bearer("crm"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *crm) << "the caller lives as long as the gate";
  absl::StatusOr<const Caller*> ops = Admit(Bearer("ops"));
  ASSERT_TRUE(ops.ok()) << ops.status();
  EXPECT_EQ((*ops)->name(), "ops");
  EXPECT_EQ(
      Counted(registry_, kAdmitted),
      (std::map<std::string, double>{{"caller_class=operator", 1}, {"caller_class=submitter", 2}}));
  EXPECT_THAT(Counted(registry_, kRefused), ::testing::IsEmpty());
}

TEST_F(CallGateTest, CallersWithoutAKnownTokenAreUnauthenticatedAndCountedAsUnknown) {
  absl::StatusOr<const Caller*> none = Admit("");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(none.status().message(), HasSubstr("no credentials"));
  for (absl::string_view authorization :
       {"Bearer wrong-secret", "Bearer ", "bearer crm-token", "crm-token", "Basic Y3JtOmNybQ=="}) {
    absl::StatusOr<const Caller*> caller = Admit(authorization);
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated) << authorization;
    EXPECT_THAT(caller.status().message(), Not(HasSubstr("wrong-secret")))
        << "a refusal never echoes the secret presented";
  }
  EXPECT_THAT(Counted(registry_, kAdmitted), ::testing::IsEmpty());
  EXPECT_EQ(Counted(registry_, kRefused),
            (std::map<std::string, double>{{"caller_class=unknown,reason=unauthenticated", 6}}));
}

TEST_F(CallGateTest, ACallerOverItsRateLimitIsRefusedWithRetryInfoAndCounted) {
  ASSERT_TRUE(Admit(Bearer("noisy")).ok());
  ASSERT_TRUE(Admit(Bearer("noisy")).ok());
  absl::StatusOr<const Caller*> refused = Admit(Bearer("noisy"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(), "noisy is over its rate limit; retry in 500ms");
  EXPECT_EQ(GetRetryDelay(refused.status()), absl::Milliseconds(500));
  // Another caller of the same class has its own bucket.
  EXPECT_TRUE(Admit(Bearer("crm")).ok());

  clock_.Advance(absl::Milliseconds(499));
  refused = Admit(Bearer("noisy"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("retry in 1ms"));
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(Admit(Bearer("noisy")).ok());

  EXPECT_EQ(Counted(registry_, kAdmitted),
            (std::map<std::string, double>{{"caller_class=submitter", 4}}));
  EXPECT_EQ(Counted(registry_, kRefused),
            (std::map<std::string, double>{{"caller_class=submitter,reason=rate_limited", 2}}));
}

TEST_F(CallGateTest, TheRetryMessageRoundsTheWaitUpToTheMillisecond) {
  // 3 per second: the next token comes after a third of a second.
  ASSERT_TRUE(Admit(Bearer("thirds")).ok());
  absl::StatusOr<const Caller*> refused = Admit(Bearer("thirds"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(), "thirds is over its rate limit; retry in 334ms");
  const absl::optional<absl::Duration> delay = GetRetryDelay(refused.status());
  ASSERT_TRUE(delay.has_value());
  EXPECT_EQ(*delay, absl::Milliseconds(334));
  // Waiting what the message says is enough.
  clock_.Advance(absl::Milliseconds(334));
  EXPECT_TRUE(Admit(Bearer("thirds")).ok());
  EXPECT_EQ(Counted(registry_, kRefused),
            (std::map<std::string, double>{{"caller_class=team_member,reason=rate_limited", 1}}));
}

// At 3 per second the wait is a third of a second, which no Duration holds
// exactly; the RetryInfo is rounded up like the message, so waiting exactly
// what it says is enough.
TEST_F(CallGateTest, ACallerThatWaitsTheRetryDelayIsAdmitted) {
  ASSERT_TRUE(Admit(Bearer("thirds")).ok());
  absl::StatusOr<const Caller*> refused = Admit(Bearer("thirds"));
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  const absl::optional<absl::Duration> delay = GetRetryDelay(refused.status());
  ASSERT_TRUE(delay.has_value());
  clock_.Advance(*delay);
  absl::StatusOr<const Caller*> retried = Admit(Bearer("thirds"));
  EXPECT_TRUE(retried.ok()) << retried.status();
}

TEST_F(CallGateTest, ServicesAreNotRateLimitedWhereOthersGetTheDefault) {
  // The default limit is a burst of 1000 with the clock standing still.
  int crm_admitted = 0;
  for (int i = 0; i < 1500; ++i) {
    ASSERT_TRUE(Admit(Bearer("intake")).ok()) << i;
    if (Admit(Bearer("crm")).ok()) ++crm_admitted;
  }
  EXPECT_EQ(crm_admitted, 1000);
  EXPECT_EQ(Counted(registry_, kAdmitted),
            (std::map<std::string, double>{{"caller_class=service", 1500},
                                           {"caller_class=submitter", 1000}}));
  EXPECT_EQ(Counted(registry_, kRefused),
            (std::map<std::string, double>{{"caller_class=submitter,reason=rate_limited", 500}}));
}

TEST_F(CallGateTest, CountDeniedCountsPermissionDeniedOnlyForKnownClasses) {
  gate_.CountDenied("team_member");
  gate_.CountDenied("team_member");
  gate_.CountDenied("local");
  gate_.CountDenied("a class nobody has");
  EXPECT_EQ(
      Counted(registry_, kRefused),
      (std::map<std::string, double>{{"caller_class=local,reason=permission_denied", 1},
                                     {"caller_class=team_member,reason=permission_denied", 2}}));
  EXPECT_EQ(Series(registry_, kRefused).size(), 14u) << "no series for an unknown class";
  EXPECT_THAT(Counted(registry_, kAdmitted), ::testing::IsEmpty());
}

TEST_F(CallGateTest, ConcurrentCallersShareTheirBucketAndEveryCallIsCounted) {
  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 50;
  // Contexts are made here, one per thread, as gRPC gives each call its own.
  std::vector<std::unique_ptr<FakeCall>> shared_calls;
  std::vector<std::unique_ptr<FakeCall>> service_calls;
  for (int t = 0; t < kThreads; ++t) {
    shared_calls.push_back(std::make_unique<FakeCall>(Bearer("shared")));
    service_calls.push_back(std::make_unique<FakeCall>(Bearer("intake")));
  }
  std::atomic<int> admitted{0};
  std::atomic<int> refused{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        absl::StatusOr<const Caller*> caller = gate_.Admit(shared_calls[t]->context());
        if (caller.ok()) {
          ++admitted;
        } else if (caller.status().code() == absl::StatusCode::kResourceExhausted) {
          ++refused;
        } else {
          ++errors;
        }
        if (!gate_.Admit(service_calls[t]->context()).ok()) ++errors;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(admitted.load(), 100) << "exactly the burst, the clock standing still";
  EXPECT_EQ(refused.load(), kThreads * kCallsPerThread - 100);
  EXPECT_EQ(Counted(registry_, kAdmitted),
            (std::map<std::string, double>{{"caller_class=service", kThreads * kCallsPerThread},
                                           {"caller_class=team_member", 100}}));
  EXPECT_EQ(Counted(registry_, kRefused),
            (std::map<std::string, double>{{"caller_class=team_member,reason=rate_limited",
                                            kThreads * kCallsPerThread - 100}}));
}

}  // namespace
}  // namespace switchboard
