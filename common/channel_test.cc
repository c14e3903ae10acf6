#include "common/channel.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
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

TEST(RetryServiceConfigTest, NamesEveryServiceAndOnlyUnavailable) {
  EXPECT_EQ(RetryServiceConfig({"a.v1.A", "b.v1.B"}, {}),
            R"({"methodConfig":[{"name":[{"service":"a.v1.A"},{"service":"b.v1.B"}],)"
            R"("retryPolicy":{"maxAttempts":4,"initialBackoff":"0.05s","maxBackoff":"2s",)"
            R"("backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}]})");
}

}  // namespace
}  // namespace switchboard
