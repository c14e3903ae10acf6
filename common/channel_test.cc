#include "common/channel.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/server.h"
#include "common/testing/echo_service.h"

namespace switchboard {
namespace {

using testing::EchoRequest;
using testing::EchoResponse;
using testing::EchoService;

class ServiceChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto host = ServiceHost::Start({}, {{&echo_, EchoService::service_full_name()}},
                                   std::make_shared<prometheus::Registry>());
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    stub_ = EchoService::NewStub(MakeServiceChannel(absl::StrCat("127.0.0.1:", host_->grpc_port()),
                                                    grpc::InsecureChannelCredentials(),
                                                    {EchoService::service_full_name()}));
  }

  grpc::Status Call(const EchoRequest& request) {
    grpc::ClientContext context;
    SetTimeout(context, absl::Seconds(10));
    EchoResponse response;
    return stub_->Echo(&context, request, &response);
  }

  testing::EchoServiceImpl echo_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<EchoService::Stub> stub_;
};

TEST_F(ServiceChannelTest, UnavailableIsRetriedByTheChannel) {
  EchoRequest request;
  request.set_key("flaky");
  request.set_code(static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  request.set_fail_first(2);
  EXPECT_TRUE(Call(request).ok());
  EXPECT_EQ(echo_.attempts("flaky"), 3);
}

TEST_F(ServiceChannelTest, RetriesStopAtMaxAttempts) {
  EchoRequest request;
  request.set_key("down");
  request.set_code(static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  request.set_fail_first(100);
  EXPECT_EQ(Call(request).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(echo_.attempts("down"), RetryPolicy{}.max_attempts);
}

TEST_F(ServiceChannelTest, OtherErrorsAreNotRetried) {
  EchoRequest request;
  request.set_key("aborted");
  request.set_code(static_cast<int>(grpc::StatusCode::ABORTED));
  request.set_fail_first(1);
  EXPECT_EQ(Call(request).error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(echo_.attempts("aborted"), 1);
}

// Two replicas behind one balanced target: calls go round robin to both,
// and only to the one that is SERVING once the other's health says not.
TEST(BalancedChannelTest, RoundRobinOverHealthyReplicas) {
  testing::EchoServiceImpl echo[2];
  std::unique_ptr<ServiceHost> hosts[2];
  std::vector<std::string> addresses;
  for (int i = 0; i < 2; ++i) {
    auto host = ServiceHost::Start({}, {{&echo[i], EchoService::service_full_name()}},
                                   std::make_shared<prometheus::Registry>());
    ASSERT_TRUE(host.ok()) << host.status();
    hosts[i] = std::move(*host);
    addresses.push_back(absl::StrCat("127.0.0.1:", hosts[i]->grpc_port()));
  }
  const std::string target = absl::StrJoin(addresses, ",");
  ASSERT_TRUE(IsBalancedTarget(target));
  EXPECT_EQ(ChannelTarget(target), "ipv4:" + target);
  auto stub = EchoService::NewStub(MakeServiceChannel(target, grpc::InsecureChannelCredentials(),
                                                      {EchoService::service_full_name()}));
  auto call = [&](const std::string& key) {
    EchoRequest request;
    request.set_key(key);
    grpc::ClientContext context;
    SetTimeout(context, absl::Seconds(10));
    EchoResponse response;
    return stub->Echo(&context, request, &response).ok();
  };
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(call(absl::StrCat("k", i)));
  int first = 0;
  for (int i = 0; i < 20; ++i) first += echo[0].attempts(absl::StrCat("k", i));
  EXPECT_GE(first, 5) << "round robin sends to both";
  EXPECT_LE(first, 15) << "round robin sends to both";

  hosts[0]->SetServing(false);
  // The health watch reaches the client within a moment; after it, every
  // call goes to the replica that is serving.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  bool moved = false;
  while (!moved && absl::Now() < deadline) {
    int on_first = 0;
    for (int i = 0; i < 10; ++i) {
      const std::string key = absl::StrCat("probe", absl::ToUnixNanos(absl::Now()), "-", i);
      ASSERT_TRUE(call(key));
      on_first += echo[0].attempts(key);
    }
    moved = on_first == 0;
  }
  EXPECT_TRUE(moved) << "calls still reach the replica that is not serving";
}

TEST(ChannelTargetTest, ListsBecomeNumericAddressesOthersStayAsTheyAre) {
  EXPECT_EQ(ChannelTarget("routing:50052"), "routing:50052");
  EXPECT_EQ(ChannelTarget("dns:///routing-headless:50052"), "dns:///routing-headless:50052");
  EXPECT_EQ(ChannelTarget("localhost:1,127.0.0.2:2"), "ipv4:127.0.0.1:1,127.0.0.2:2");
  EXPECT_EQ(ChannelTarget("[::1]:1,[::1]:2"), "ipv6:[::1]:1,[::1]:2");
  EXPECT_FALSE(IsBalancedTarget("routing:50052"));
  EXPECT_TRUE(IsBalancedTarget("dns:///routing-headless:50052"));
}

TEST(RetryServiceConfigTest, BalancedAddsRoundRobinAndHealthChecking) {
  EXPECT_EQ(RetryServiceConfig({"a.v1.A"}, {.max_attempts = 1}, /*balanced=*/true),
            R"({"loadBalancingConfig":[{"round_robin":{}}],)"
            R"("healthCheckConfig":{"serviceName":"a.v1.A"}})");
}

TEST(RetryServiceConfigTest, NamesEveryServiceAndOnlyUnavailable) {
  EXPECT_EQ(RetryServiceConfig({"a.v1.A", "b.v1.B"}, {}),
            R"({"methodConfig":[{"name":[{"service":"a.v1.A"},{"service":"b.v1.B"}],)"
            R"("retryPolicy":{"maxAttempts":4,"initialBackoff":"0.05s","maxBackoff":"2s",)"
            R"("backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}]})");
}

}  // namespace
}  // namespace switchboard
